import {
  decodeCommonServerMessage,
  encodeAck,
  encodeAckSync,
  encodePong,
  type CommonServerMessage,
} from '../protocol/common.js';
import { encodeDataHeader, FrameDecoder } from '../protocol/header.js';
import { messageSize, type OutMessage } from '../protocol/message.js';
import { ClientLink, type ClientLinkParams, type ClientLinkResult } from './link.js';

export interface ClientChannelStats {
  /** Bytes received after the link stage (data messages with their headers). */
  bytes: number;
  /** Bytes received in the link stage. */
  linkBytes: number;
  messages: number;
  byType: Map<number, { count: number; bytes: number }>;
}

/** What a channel core tells its transport wrapper. */
export interface ChannelCoreHandlers {
  /** Bytes to send, in order; one call is one message (or the link's bytes). */
  write(parts: readonly Buffer[]): void;
  linked(result: ClientLinkResult): void;
  message(type: number, body: Buffer): void;
  common(m: CommonServerMessage): void;
}

/**
 * One client connection to one channel without its transport: link stage, then data messages.
 * It answers the common messages itself (SET_ACK -> ACK_SYNC and an ACK every `window` messages,
 * PING -> PONG), exactly as spice-gtk does. Pure, so the Node client (over a socket) and the
 * browser viewer (over a WebSocket) share it; `receive` throws on a refused link or bad framing.
 */
export class ChannelCore {
  readonly stats: ClientChannelStats = { bytes: 0, linkBytes: 0, messages: 0, byType: new Map() };
  private readonly link: ClientLink;
  private decoder: FrameDecoder | undefined;
  private mini = true;
  private serial = 0n;
  private ackWindow = 0;
  /**
   * When true, a data message counts towards the next ACK only once its owner says it is handled
   * (handled()), not as it arrives: an owner that queues messages (the browser viewer's display,
   * waiting on its decoding worker) then holds no more than the server's ACK window lets it send.
   */
  acksWhenHandled = false;
  private ackCountdown = 0;

  constructor(
    readonly params: ClientLinkParams,
    private readonly handlers: ChannelCoreHandlers,
    private readonly maxMessageSize = 64 << 20,
  ) {
    this.link = new ClientLink(params, (b) => handlers.write([b]));
  }

  /** Send the link message. */
  begin(): void {
    this.link.begin();
  }

  get isLinked(): boolean {
    return this.decoder !== undefined;
  }

  receive(chunk: Buffer): void {
    if (this.decoder) return this.frames(chunk);
    this.stats.linkBytes += chunk.length;
    const done = this.link.receive(chunk);
    if (!done) return;
    this.mini = done.miniHeader;
    this.decoder = new FrameDecoder(done.miniHeader, this.maxMessageSize);
    this.handlers.linked(done);
    for (const c of done.leftover) {
      this.stats.linkBytes -= c.length;
      this.frames(c);
    }
  }

  send(m: OutMessage): void {
    this.handlers.write([encodeDataHeader(this.mini, m.type, messageSize(m), ++this.serial), ...m.parts]);
  }

  private frames(chunk: Buffer): void {
    const decoder = this.decoder!;
    decoder.push(chunk);
    for (let f = decoder.next(); f; f = decoder.next()) {
      this.stats.messages++;
      const size = f.body.length + (this.mini ? 6 : 18);
      this.stats.bytes += size;
      const t = this.stats.byType.get(f.type) ?? { count: 0, bytes: 0 };
      t.count++;
      t.bytes += size;
      this.stats.byType.set(f.type, t);
      const common = decodeCommonServerMessage(f.type, f.body);
      if (common) {
        this.countForAck();
        this.handleCommon(common);
      } else {
        if (!this.acksWhenHandled) this.countForAck();
        this.handlers.message(f.type, f.body);
      }
    }
  }

  /** A data message given to `message` is handled (see acksWhenHandled). */
  handled(): void {
    if (this.acksWhenHandled) this.countForAck();
  }

  /** spice-gtk: after SET_ACK, one ACK each time `window` more messages have arrived. */
  private countForAck(): void {
    if (this.ackWindow === 0) return;
    if (--this.ackCountdown === 0) {
      this.send(encodeAck());
      this.ackCountdown = this.ackWindow;
    }
  }

  private handleCommon(m: CommonServerMessage): void {
    if (m.kind === 'setAck') {
      this.send(encodeAckSync(m.generation));
      this.ackWindow = m.window;
      this.ackCountdown = m.window;
    } else if (m.kind === 'ping') {
      this.send(encodePong(m.id, m.timestamp));
    }
    this.handlers.common(m);
  }
}
