import { hasCap } from '../protocol/caps.js';
import { AuthMechanism, channelName, CommonCap, LinkErr, linkErrName } from '../protocol/constants.js';
import { ByteQueue } from '../protocol/byte-queue.js';
import { ProtocolError } from '../protocol/errors.js';
import {
  decodeLinkHeader,
  decodeLinkMess,
  encodeLinkErrorReply,
  encodeLinkReply,
  encodeU32,
  LINK_HEADER_SIZE,
  LINK_MESS_SIZE,
  TICKET_SIZE,
  type LinkMess,
} from '../protocol/link.js';
import type { ViewerRole } from '../channel-core/session.js';
import type { Conduit } from '../transport/conduit.js';
import { NO_WIRE_METER, type WireMeter } from '../transport/wire-meter.js';
import { endThenDestroy } from '../util/close-gracefully.js';
import { errorMessage, type Logger } from '../util/log.js';
import type { LinkTicket } from './authenticator.js';

/** What the server decides about a link, given the client's link message. */
export interface LinkAuthority {
  /**
   * The key offered to this link and the judge of its ticket (authenticator.ts); a promise when
   * the link must wait for a fresh key. `websocket`: the client may be spice-html5.
   */
  ticketFor(peer: string, websocket: boolean): LinkTicket | Promise<LinkTicket>;
  /** Common cap words the server advertises: AUTH_SELECTION + AUTH_SPICE + MINI_HEADER, never SASL. */
  readonly commonCaps: number[];
  channelCaps(channelType: number): number[];
  /** NeedSecured when this channel type must arrive over TLS and `secure` is false; else Ok. */
  securityCheck(channelType: number, secure: boolean): number;
  /**
   * Before a key is made: Ok, or the error for a link the server has no room for (a new viewer
   * beyond `maxViewers`), with the reason for the log.
   */
  capacityCheck(channelType: number): { error: number; reason: string };
  /** After the ticket, given the role it grants: BadConnectionId / ChannelNotAvailable / PermissionDenied / Ok. */
  admit(mess: LinkMess, role: ViewerRole): { error: number; reason: string };
}

export interface LinkResult {
  mess: LinkMess;
  /** What the ticket allows (a main channel link makes a session of this role). */
  role: ViewerRole;
  miniHeader: boolean;
  leftover: Buffer[];
}

type State = 'header' | 'mess' | 'key' | 'auth' | 'ticket' | 'done';

/**
 * The link stage of one connection (docs/protocol.md, Link stage), as a resumable state machine over the
 * conduit's bytes:
 *
 *   header (16) -> link mess (size) -> (key) -> [reply] -> auth mechanism (4, if AUTH_SELECTION)
 *   -> ticket (128) -> [u32 result] -> handed to a channel client
 *
 * Every failure sends its SpiceLinkErr where the protocol has a place for one, logs the peer and
 * the reason, and closes only this connection. A link that stalls is closed after `timeoutMs`.
 */
export class LinkStage {
  private readonly queue = new ByteQueue();
  private state: State = 'header';
  private messSize = 0;
  private mess: LinkMess | undefined;
  private ticketJudge: LinkTicket | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly conduit: Conduit,
    private readonly authority: LinkAuthority,
    private readonly log: Logger,
    timeoutMs: number,
    private readonly onLinked: (result: LinkResult) => void,
    private readonly onFailed?: (reason: string, linkError: number | undefined) => void,
    private readonly meter: WireMeter = NO_WIRE_METER,
  ) {
    this.timer = setTimeout(
      () => this.fail(`link stage timed out in state ${this.state} after ${timeoutMs} ms`, undefined),
      timeoutMs,
    );
    this.timer.unref();
    conduit.onData((chunk) => this.receive(chunk));
    conduit.onClose((err) => {
      if (this.state !== 'done')
        this.abandon(
          err ? `connection error during link: ${err.message}` : `peer closed during link (state ${this.state})`,
        );
    });
  }

  private receive(chunk: Buffer): void {
    if (this.state === 'done') return;
    this.queue.push(chunk);
    this.pump();
  }

  /** Step through what has arrived (again after waiting for a key). */
  private pump(): void {
    try {
      while (this.step()) {
        /* keep stepping while input is available (step() is false once done) */
      }
    } catch (err) {
      if (err instanceof ProtocolError)
        this.fail(`${err.code}: ${err.message}`, err.linkError ?? LinkErr.InvalidData, 'reply');
      else this.fail(`link stage error: ${errorMessage(err)}`, LinkErr.Error, 'reply');
    }
  }

  /** One state transition if its bytes are there; false when waiting for more. */
  private step(): boolean {
    switch (this.state) {
      case 'header': {
        const h = this.queue.take(LINK_HEADER_SIZE);
        if (!h) return false;
        this.messSize = decodeLinkHeader(h, LINK_MESS_SIZE).size;
        this.state = 'mess';
        return true;
      }
      case 'mess': {
        const body = this.queue.take(this.messSize);
        if (!body) return false;
        this.onLinkMess(decodeLinkMess(body));
        return true;
      }
      case 'key':
        return false; // bytes wait in the queue until the reply with the key has gone
      case 'auth': {
        const b = this.queue.take(4);
        if (!b) return false;
        const mech = b.readUInt32LE(0);
        if (mech !== AuthMechanism.Spice) {
          this.fail(
            `unsupported auth mechanism ${mech}${mech === AuthMechanism.Sasl ? ' (SASL)' : ''}`,
            LinkErr.InvalidData,
            'result',
          );
          return false;
        }
        this.state = 'ticket';
        return true;
      }
      case 'ticket': {
        const ticket = this.queue.take(TICKET_SIZE);
        if (!ticket) return false;
        this.onTicket(ticket);
        return true;
      }
      case 'done':
        return false;
    }
  }

  private onLinkMess(mess: LinkMess): void {
    this.mess = mess;
    const what = `${channelName(mess.channelType)}:${mess.channelId}`;
    const security = this.authority.securityCheck(mess.channelType, this.conduit.secure);
    if (security !== LinkErr.Ok) {
      this.fail(`${what} must use TLS`, security, 'reply', 'info');
      return;
    }
    const room = this.authority.capacityCheck(mess.channelType);
    if (room.error !== LinkErr.Ok) {
      this.fail(`${what}: ${room.reason}`, room.error, 'reply', 'warn');
      return;
    }
    const judge = this.authority.ticketFor(this.conduit.peer, this.conduit.kind === 'websocket');
    if (!(judge instanceof Promise)) return this.offer(judge);
    this.state = 'key';
    judge.then(
      (j) => {
        if (this.state !== 'key') return; // the link ended while it waited
        this.offer(j);
        this.pump();
      },
      (err: unknown) => this.fail(errorMessage(err), LinkErr.Error, 'reply', 'warn'),
    );
  }

  /** Send the reply with this link's key; the ticket is read next. */
  private offer(judge: LinkTicket): void {
    const mess = this.mess!;
    this.ticketJudge = judge;
    const a = this.authority;
    const channelCaps = a.channelCaps(mess.channelType);
    this.send(encodeLinkReply({ error: LinkErr.Ok, pubKey: judge.publicDer, commonCaps: a.commonCaps, channelCaps }));
    this.state = hasCap(mess.commonCaps, CommonCap.ProtocolAuthSelection) ? 'auth' : 'ticket';
  }

  private onTicket(ticket: Buffer): void {
    const mess = this.mess!;
    const what = `${channelName(mess.channelType)}:${mess.channelId}`;
    const verdict = this.ticketJudge!.check(ticket);
    if (!verdict.ok) {
      this.fail(`${what}: ${verdict.reason}`, LinkErr.PermissionDenied, 'result', verdict.reported ? 'debug' : 'warn');
      return;
    }
    const admitted = this.authority.admit(mess, verdict.role);
    if (admitted.error !== LinkErr.Ok) {
      this.fail(`${what}: ${admitted.reason}`, admitted.error, 'result');
      return;
    }
    this.send(encodeU32(LinkErr.Ok));
    this.state = 'done';
    clearTimeout(this.timer);
    const miniHeader =
      hasCap(mess.commonCaps, CommonCap.MiniHeader) && hasCap(this.authority.commonCaps, CommonCap.MiniHeader);
    try {
      this.onLinked({ mess, role: verdict.role, miniHeader, leftover: this.queue.drain() });
    } catch (err) {
      // The client already has its OK: no link error to send, so log and close.
      this.log.error(`link from ${this.conduit.peer}: ${what} could not start: ${errorMessage(err)}`);
      this.conduit.destroy();
      this.onFailed?.(`${what} could not start`, undefined);
    }
  }

  /** The link stage's writes come before any flush: the meter sees them as flush -1. */
  private send(buf: Buffer): void {
    this.meter.unitSubmitted(buf.length, -1);
    this.conduit.submit([buf], () => this.meter.unitDone(buf.length, -1));
  }

  /**
   * Refuse the link. Before the reply the error goes in a full SpiceLinkReply; after it, as the
   * 4-byte link result the client is waiting for.
   */
  private fail(
    reason: string,
    linkError: number | undefined,
    where: 'reply' | 'result' = 'reply',
    level: 'warn' | 'info' | 'debug' = 'warn',
  ): void {
    if (this.state === 'done') return;
    const answered = this.state === 'auth' || this.state === 'ticket';
    this.state = 'done';
    clearTimeout(this.timer);
    const code = linkError !== undefined ? ` (${linkErrName(linkError)})` : '';
    this.log.log(level, `link from ${this.conduit.peer} refused: ${reason}${code}`);
    if (linkError !== undefined) {
      this.send(where === 'result' || answered ? encodeU32(linkError) : encodeLinkErrorReply(linkError));
      endThenDestroy(this.conduit);
    } else {
      this.conduit.destroy();
    }
    this.onFailed?.(reason, linkError);
  }

  private abandon(reason: string): void {
    this.state = 'done';
    clearTimeout(this.timer);
    this.log.info(`link from ${this.conduit.peer} abandoned: ${reason}`);
    this.onFailed?.(reason, undefined);
  }
}
