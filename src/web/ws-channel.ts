import type { CommonServerMessage } from '../protocol/common.js';
import type { OutMessage } from '../protocol/message.js';
import { ChannelCore, type ClientChannelStats } from '../client/channel-core.js';
import type { ClientLinkParams, ClientLinkResult } from '../client/link.js';

export interface WsChannelHandlers {
  linked?(result: ClientLinkResult): void;
  message(type: number, body: Buffer): void;
  common?(m: CommonServerMessage): void;
  /** The connection ended: `err` says why when it was not asked for (refused link, bad bytes, network). */
  closed(err: Error | undefined): void;
}

/**
 * One SPICE channel over one WebSocket: the shared channel core fed with the socket's binary
 * messages. spiced accepts a WebSocket upgrade on any path of its SPICE ports.
 */
export class WsChannel {
  readonly core: ChannelCore;
  private readonly ws: WebSocket;
  private closedFlag = false;
  /** Bytes received, link stage included (the overlay's bytes/s). */
  received = 0;

  constructor(
    url: string,
    params: ClientLinkParams,
    private readonly handlers: WsChannelHandlers,
  ) {
    this.ws = new WebSocket(url, 'binary');
    this.ws.binaryType = 'arraybuffer';
    this.core = new ChannelCore(params, {
      write: (parts) => this.write(parts),
      linked: (r) => handlers.linked?.(r),
      message: (type, body) => handlers.message(type, body),
      common: (m) => handlers.common?.(m),
    });
    this.ws.onopen = () => this.core.begin();
    this.ws.onmessage = (ev: MessageEvent<ArrayBuffer>) => this.receive(ev.data);
    this.ws.onerror = () => this.finish(new Error('the WebSocket connection failed'));
    this.ws.onclose = (ev) =>
      this.finish(
        this.core.isLinked
          ? new Error(`connection closed (${ev.code})`)
          : new Error(`connection closed before the link was done (${ev.code})`),
      );
  }

  get stats(): ClientChannelStats {
    return this.core.stats;
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  send(m: OutMessage): void {
    if (!this.closedFlag) this.core.send(m);
  }

  /** Close on purpose: `closed` is told without an error. */
  close(): void {
    this.finish(undefined);
  }

  private receive(data: ArrayBuffer): void {
    if (this.closedFlag) return;
    this.received += data.byteLength;
    try {
      this.core.receive(Buffer.from(data));
    } catch (err) {
      this.finish(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** One WebSocket message per SPICE message: the server reassembles across them anyway. */
  private write(parts: readonly Buffer[]): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(parts.length === 1 ? parts[0]! : Buffer.concat(parts as Buffer[]));
  }

  private finish(err: Error | undefined): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.ws.onclose = null;
    this.ws.onmessage = null;
    this.ws.onerror = null;
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) this.ws.close();
    this.handlers.closed(err);
  }
}
