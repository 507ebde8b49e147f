import { ByteQueue } from '../protocol/byte-queue.js';
import { capWords, hasCap } from '../protocol/caps.js';
import { AuthMechanism, CommonCap, LinkErr, linkErrName } from '../protocol/constants.js';
import {
  decodeLinkHeader,
  decodeLinkReply,
  encodeLinkMess,
  encodeU32,
  LINK_HEADER_SIZE,
  LINK_REPLY_SIZE,
  type LinkReply,
} from '../protocol/link.js';
import { sealTicket } from './ticket-seal.js';

/** A link refused by the server, with the SpiceLinkErr it sent. */
export class LinkRefusedError extends Error {
  constructor(
    readonly linkError: number,
    readonly stage: 'reply' | 'result',
  ) {
    super(`server refused the link: ${linkErrName(linkError)} (in the ${stage})`);
    this.name = 'LinkRefusedError';
  }
}

export interface ClientLinkParams {
  connectionId: number;
  channelType: number;
  channelId: number;
  channelCaps: number[];
  password: string;
}

export interface ClientLinkResult {
  reply: LinkReply;
  miniHeader: boolean;
  leftover: Buffer[];
}

/**
 * Bytes in, bytes out: the client side of the link stage, resumable over any byte stream. Pure
 * (no Node module), so the browser viewer links with the same code.
 */
export class ClientLink {
  private readonly queue = new ByteQueue();
  private state: 'header' | 'reply' | 'result' | 'done' = 'header';
  private replySize = 0;
  private reply: LinkReply | undefined;
  static readonly commonCaps = capWords([CommonCap.ProtocolAuthSelection, CommonCap.AuthSpice, CommonCap.MiniHeader]);

  constructor(
    private readonly params: ClientLinkParams,
    private readonly send: (b: Buffer) => void,
  ) {}

  begin(): void {
    const p = this.params;
    this.send(
      encodeLinkMess({
        connectionId: p.connectionId,
        channelType: p.channelType,
        channelId: p.channelId,
        commonCaps: ClientLink.commonCaps,
        channelCaps: capWords(p.channelCaps),
      }),
    );
  }

  /** Feed received bytes; returns the result once the link is established. Throws on refusal. */
  receive(chunk: Buffer): ClientLinkResult | undefined {
    this.queue.push(chunk);
    for (;;) {
      if (this.state === 'header') {
        const h = this.queue.take(LINK_HEADER_SIZE);
        if (!h) return undefined;
        this.replySize = decodeLinkHeader(h, LINK_REPLY_SIZE, 1 << 16).size;
        this.state = 'reply';
      } else if (this.state === 'reply') {
        const body = this.queue.take(this.replySize);
        if (!body) return undefined;
        const reply = decodeLinkReply(body);
        if (reply.error !== LinkErr.Ok) throw new LinkRefusedError(reply.error, 'reply');
        this.reply = reply;
        this.sendTicket(reply);
        this.state = 'result';
      } else if (this.state === 'result') {
        const r = this.queue.take(4);
        if (!r) return undefined;
        const code = r.readUInt32LE(0);
        if (code !== LinkErr.Ok) throw new LinkRefusedError(code, 'result');
        this.state = 'done';
        const reply = this.reply!;
        return { reply, miniHeader: hasCap(reply.commonCaps, CommonCap.MiniHeader), leftover: this.queue.drain() };
      } else {
        return undefined;
      }
    }
  }

  /**
   * The auth mechanism and the ticket leave in one write: as two, the second waits behind Nagle
   * for the server's delayed ACK of the first (40 ms per channel, seen on the wire over TLS).
   */
  private sendTicket(reply: LinkReply): void {
    const ticket = sealTicket(reply.pubKey, this.params.password);
    const selectAuth = hasCap(reply.commonCaps, CommonCap.ProtocolAuthSelection);
    this.send(selectAuth ? Buffer.concat([encodeU32(AuthMechanism.Spice), ticket]) : ticket);
  }
}
