import type { WebSocket } from 'ws';
import type { Conduit } from './conduit.js';
import type { TcpInfo } from './sockopt.js';
import { Inbox } from './inbox.js';
import type { WriteUnit } from './units.js';

/**
 * The conduit a WebSocket rides on: counters, cork and TCP_INFO come from it. `countWrite` is
 * told of every frame this conduit sends, since ws writes the frames to the socket itself (one
 * writev each; over TLS, frames queued behind a pending write may share an SSL_write, so the
 * count is then an upper bound).
 */
export type BaseConduit = Pick<
  Conduit,
  'peer' | 'fd' | 'secure' | 'stats' | 'cork' | 'uncork' | 'setKernelCork' | 'tcpInfo' | 'bufferedBytes' | 'onDrain'
> & {
  countWrite(bytes: number): void;
};

/** Iovecs below this size are joined by one copy before they go out (a fragment header costs 2-4 bytes). */
const SMALL_FRAGMENT = 512;

/**
 * SPICE over WebSocket (spice-html5): every write unit (a flush) becomes one binary message, the
 * client's messages arrive as raw SPICE bytes. The message is sent as fragments: payloads by
 * reference, each its own fragment, small neighbours (headers, draw descriptors) joined, so a flush
 * is never copied whole; the browser delivers the fragments as one message.
 */
export class WsConduit implements Conduit {
  readonly kind = 'websocket' as const;
  readonly keepsUnitBoundaries = false;
  readonly secure: boolean;
  readonly peer: string;
  readonly fd: number | undefined;
  private readonly inbox = new Inbox();
  private closed = false;
  /** Why the connection ended, for onClose: an error of the socket or the reason we closed it. */
  private failure: Error | undefined;

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
    const fragments = joinSmall(unit);
    const last = fragments.length - 1;
    if (last < 0) return done(null);
    fragments.forEach((f, i) => {
      this.base.countWrite(frameHeaderBytes(f.length) + f.length);
      if (i < last) this.ws.send(f, { binary: true, compress: false, fin: false });
      else this.ws.send(f, { binary: true, compress: false, fin: true }, (err) => done(err ?? null));
    });
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

  /** `cb` once the WebSocket has closed; a listener that comes after the close is called on the next turn. */
  onClose(cb: (err?: Error) => void): void {
    if (this.ws.readyState === this.ws.CLOSED) {
      this.closed = true;
      setImmediate(() => cb(this.failure));
      return;
    }
    this.ws.on('error', (err) => (this.failure ??= err));
    this.ws.once('close', () => {
      this.closed = true;
      cb(this.failure);
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

  /** With a reason: a close frame that says it (policy violation), then the socket after 1 s at most. */
  destroy(err?: Error): void {
    this.closed = true;
    if (!err) {
      this.ws.terminate();
      return;
    }
    this.failure ??= err;
    this.ws.close(1008, err.message.slice(0, 120));
    setTimeout(() => this.ws.terminate(), 1000).unref();
  }
}

/** A server's frame header (never masked): 2 bytes, plus a 16- or 64-bit extended length. */
function frameHeaderBytes(payload: number): number {
  if (payload < 126) return 2;
  return payload < 0x10000 ? 4 : 10;
}

/** The unit's iovecs as fragments: runs of small ones joined by one copy, larger ones as they are. */
function joinSmall(unit: WriteUnit): Buffer[] {
  const out: Buffer[] = [];
  let run: Buffer[] = [];
  const endRun = (): void => {
    if (run.length > 0) out.push(run.length === 1 ? run[0]! : Buffer.concat(run));
    run = [];
  };
  for (const b of unit) {
    if (b.length < SMALL_FRAGMENT) {
      run.push(b);
      continue;
    }
    endRun();
    out.push(b);
  }
  endRun();
  return out;
}
