import type { WebSocket } from 'ws';
import type { Conduit } from './conduit.js';
import type { TcpInfo } from './sockopt.js';
import { Inbox } from './inbox.js';
import type { WriteUnit } from './units.js';

/** The conduit a WebSocket rides on: counters, cork and TCP_INFO come from it. */
export type BaseConduit = Pick<Conduit, 'peer' | 'fd' | 'secure' | 'stats' | 'cork' | 'uncork' | 'setKernelCork' | 'tcpInfo' | 'bufferedBytes' | 'onDrain'>;

/**
 * SPICE over WebSocket (spice-html5): every write unit becomes one binary frame, the client's
 * frames arrive as raw SPICE bytes. spice-html5 reassembles server data across frames, so frame
 * boundaries need not match messages; one frame per flush keeps framing overhead to a few bytes.
 */
export class WsConduit implements Conduit {
  readonly kind = 'websocket' as const;
  readonly keepsUnitBoundaries = false;
  readonly secure: boolean;
  readonly peer: string;
  readonly fd: number | undefined;
  private readonly inbox = new Inbox();
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly base: BaseConduit,
  ) {
    this.secure = base.secure;
    this.peer = base.peer;
    this.fd = base.fd;
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        this.destroy(new Error('text frame on a SPICE WebSocket'));
        return;
      }
      this.inbox.deliver(data);
    });
  }

  get busy(): boolean {
    return false;
  }

  get bufferedBytes(): number {
    return this.ws.bufferedAmount + this.base.bufferedBytes;
  }

  get stats() {
    return this.base.stats;
  }

  get destroyed(): boolean {
    return this.closed || this.ws.readyState > 1;
  }

  submit(unit: WriteUnit, done: (err?: Error | null) => void): void {
    const frame = unit.length === 1 ? unit[0]! : Buffer.concat(unit);
    this.ws.send(frame, { binary: true, compress: false }, (err) => done(err ?? null));
  }

  cork(): void {
    this.base.cork();
  }

  uncork(): void {
    this.base.uncork();
  }

  setKernelCork(on: boolean): boolean {
    return this.base.setKernelCork(on);
  }

  tcpInfo(): TcpInfo | undefined {
    return this.base.tcpInfo();
  }

  onData(cb: (chunk: Buffer) => void): void {
    this.inbox.onData(cb);
  }

  unread(chunks: Buffer[]): void {
    this.inbox.unread(chunks);
  }

  onClose(cb: (err?: Error) => void): void {
    let failure: Error | undefined;
    this.ws.on('error', (err) => (failure = err));
    this.ws.once('close', () => {
      this.closed = true;
      cb(failure);
    });
  }

  /** ws has no drain event of its own; the socket under it drains. */
  onDrain(cb: () => void): void {
    this.base.onDrain(cb);
  }

  onIdle(_cb: () => void): void {}

  end(): void {
    this.ws.close(1000);
  }

  destroy(err?: Error): void {
    this.closed = true;
    if (err) this.ws.close(1008, err.message.slice(0, 120));
    this.ws.terminate();
  }
}
