import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { decodeCommonServerMessage, encodeAck, encodeAckSync, encodePong, type CommonServerMessage } from '../protocol/common.js';
import { encodeDataHeader, FrameDecoder } from '../protocol/header.js';
import type { OutMessage } from '../protocol/message.js';
import { ClientLink, type ClientLinkParams, type ClientLinkResult } from './link.js';

export interface ClientChannelStats {
  /** Bytes received after the link stage (data messages with their headers). */
  bytes: number;
  /** Bytes received in the link stage. */
  linkBytes: number;
  messages: number;
  byType: Map<number, { count: number; bytes: number }>;
}

/**
 * One client connection to one channel: link stage, then data messages. It answers the common
 * messages itself (SET_ACK -> ACK_SYNC and an ACK every `window` messages, PING -> PONG), exactly
 * as spice-gtk does, and hands the rest to `message` listeners.
 */
export class ClientChannel extends EventEmitter<{
  message: [type: number, body: Buffer];
  common: [m: CommonServerMessage];
  closed: [err: Error | undefined];
}> {
  readonly stats: ClientChannelStats = { bytes: 0, linkBytes: 0, messages: 0, byType: new Map() };
  readonly linked: Promise<ClientLinkResult>;
  private decoder: FrameDecoder | undefined;
  private mini = true;
  private serial = 0n;
  private ackWindow = 0;
  private ackCountdown = 0;
  private closed = false;

  constructor(
    readonly socket: Duplex,
    readonly params: ClientLinkParams,
    private readonly maxMessageSize = 64 << 20,
  ) {
    super();
    this.linked = new Promise((resolve, reject) => {
      const link = new ClientLink(params, (b) => socket.write(b));
      const onData = (chunk: Buffer): void => {
        if (this.decoder) return this.receive(chunk);
        this.stats.linkBytes += chunk.length;
        try {
          const done = link.receive(chunk);
          if (!done) return;
          this.mini = done.miniHeader;
          this.decoder = new FrameDecoder(done.miniHeader, this.maxMessageSize);
          resolve(done);
          for (const c of done.leftover) {
            this.stats.linkBytes -= c.length;
            this.receive(c);
          }
        } catch (err) {
          reject(err);
          socket.destroy();
        }
      };
      socket.on('data', onData);
      socket.once('close', () => {
        reject(new Error(`connection closed during the link stage of channel ${params.channelType}`));
        this.finish(undefined);
      });
      socket.on('error', (err) => {
        reject(err);
        this.finish(err);
      });
      link.begin();
    });
    this.linked.catch(() => {}); // observed by whoever awaits it
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(m: OutMessage): void {
    if (this.closed) return;
    let size = 0;
    for (const p of m.parts) size += p.length;
    this.socket.cork();
    this.socket.write(encodeDataHeader(this.mini, m.type, size, ++this.serial));
    for (const p of m.parts) this.socket.write(p);
    this.socket.uncork();
  }

  private receive(chunk: Buffer): void {
    this.decoder!.push(chunk);
    for (let f = this.decoder!.next(); f; f = this.decoder!.next()) {
      this.stats.messages++;
      const size = f.body.length + (this.mini ? 6 : 18);
      this.stats.bytes += size;
      const t = this.stats.byType.get(f.type) ?? { count: 0, bytes: 0 };
      t.count++;
      t.bytes += size;
      this.stats.byType.set(f.type, t);
      this.countForAck();
      const common = decodeCommonServerMessage(f.type, f.body);
      if (common) this.handleCommon(common);
      else this.emit('message', f.type, f.body);
    }
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
    this.emit('common', m);
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }

  private finish(err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('closed', err);
  }
}
