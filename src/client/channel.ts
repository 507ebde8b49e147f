import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { CommonServerMessage } from '../protocol/common.js';
import type { OutMessage } from '../protocol/message.js';
import { ChannelCore, type ClientChannelStats } from './channel-core.js';
import type { ClientLinkParams, ClientLinkResult } from './link.js';

export type { ClientChannelStats } from './channel-core.js';

/**
 * One client connection to one channel over a Node stream: the channel core (link stage, framing,
 * ACKs, PONGs) fed from the socket, with its messages as events.
 */
export class ClientChannel extends EventEmitter<{
  message: [type: number, body: Buffer];
  common: [m: CommonServerMessage];
  closed: [err: Error | undefined];
}> {
  readonly linked: Promise<ClientLinkResult>;
  private readonly core: ChannelCore;
  private closed = false;

  constructor(
    readonly socket: Duplex,
    readonly params: ClientLinkParams,
    maxMessageSize = 64 << 20,
  ) {
    super();
    let resolveLinked!: (r: ClientLinkResult) => void;
    let rejectLinked!: (err: unknown) => void;
    this.linked = new Promise((resolve, reject) => {
      resolveLinked = resolve;
      rejectLinked = reject;
    });
    this.linked.catch(() => {}); // observed by whoever awaits it
    this.core = new ChannelCore(
      params,
      {
        write: (parts) => this.write(parts),
        linked: resolveLinked,
        message: (type, body) => this.emit('message', type, body),
        common: (m) => this.emit('common', m),
      },
      maxMessageSize,
    );
    socket.on('data', (chunk: Buffer) => {
      if (this.core.isLinked) return this.core.receive(chunk);
      try {
        this.core.receive(chunk);
      } catch (err) {
        rejectLinked(err);
        socket.destroy();
      }
    });
    socket.once('close', () => {
      rejectLinked(new Error(`connection closed during the link stage of channel ${params.channelType}`));
      this.finish(undefined);
    });
    socket.on('error', (err) => {
      rejectLinked(err);
      this.finish(err);
    });
    this.core.begin();
  }

  get stats(): ClientChannelStats {
    return this.core.stats;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(m: OutMessage): void {
    if (this.closed) return;
    this.core.send(m);
  }

  private write(parts: readonly Buffer[]): void {
    this.socket.cork();
    for (const p of parts) this.socket.write(p);
    this.socket.uncork();
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
