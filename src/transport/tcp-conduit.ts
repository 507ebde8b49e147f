import type { Socket } from 'node:net';
import type { Conduit } from './conduit.js';
import { getTcpInfo, setTcpCork, socketFd, type TcpInfo } from './sockopt.js';
import { Inbox } from './inbox.js';
import type { WriteUnit } from './units.js';
import { meterWrites, type WriteMeter } from './write-meter.js';

export function peerOf(socket: Socket): string {
  const addr = socket.remoteAddress ?? '?';
  return `${addr.includes(':') ? `[${addr}]` : addr}:${socket.remotePort ?? '?'}`;
}

/** Plain TCP. A unit becomes one writev (cork/uncork around its iovecs). */
export class TcpConduit implements Conduit {
  readonly kind = 'tcp' as const;
  readonly keepsUnitBoundaries = false;
  readonly secure = false;
  readonly peer: string;
  readonly fd: number | undefined;
  private readonly meter: WriteMeter;
  private readonly inbox = new Inbox();
  private finalTcpInfo: TcpInfo | undefined;

  constructor(private readonly socket: Socket) {
    this.peer = peerOf(socket);
    this.fd = socketFd(socket);
    socket.setNoDelay(true);
    this.meter = meterWrites(socket);
    socket.on('data', (chunk: Buffer) => this.inbox.deliver(chunk));
    socket.on('end', () => this.keepTcpInfo());
  }

  get busy(): boolean {
    return false;
  }

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  get stats() {
    return { writes: this.meter.calls, sslWrites: 0, tlsRecords: 0, wireBytes: this.meter.bytes };
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  submit(unit: WriteUnit, done: (err?: Error | null) => void): void {
    writeUnit(this.socket, unit, done);
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  /** Never on a closed socket: its descriptor number may already belong to another connection. */
  setKernelCork(on: boolean): boolean {
    return this.fd !== undefined && !this.socket.destroyed && setTcpCork(this.fd, on);
  }


  unread(chunks: Buffer[]): void {
    this.inbox.unread(chunks);
  }

  /**
   * Hand the (plaintext) socket to someone else, e.g. the HTTP server for a WebSocket upgrade:
   * the conduit stops reading it and pushes back what it had received but not delivered.
   * Its counters, cork and TCP_INFO keep working underneath.
   */
  release(): Socket {
    return this.inbox.release(this.socket);
  }

  onData(cb: (chunk: Buffer) => void): void {
    this.inbox.onData(cb);
  }

  onClose(cb: (err?: Error) => void): void {
    let failure: Error | undefined;
    this.socket.on('error', (err) => (failure = err));
    this.socket.once('close', () => cb(failure));
  }

  onDrain(cb: () => void): void {
    this.socket.on('drain', cb);
  }

  /** Plain TCP is never busy: units need no serialising. */
  onIdle(_cb: () => void): void {}

  /** TCP_INFO now, or as last read before the descriptor closed. */
  tcpInfo(): TcpInfo | undefined {
    if (this.fd === undefined) return undefined;
    if (this.finalTcpInfo || this.socket.destroyed) return this.finalTcpInfo;
    return getTcpInfo(this.fd);
  }

  /** Read TCP_INFO one last time while the descriptor is still open. */
  private keepTcpInfo(): void {
    if (this.fd !== undefined && this.finalTcpInfo === undefined && !this.socket.destroyed) this.finalTcpInfo = getTcpInfo(this.fd);
  }

  end(): void {
    this.keepTcpInfo();
    this.socket.end();
  }

  destroy(err?: Error): void {
    this.keepTcpInfo();
    this.socket.destroy(err);
  }
}

/** Write a unit's buffers as one writev: Node merges writes made between cork and uncork. */
export function writeUnit(socket: { cork(): void; uncork(): void; write(b: Buffer, cb?: (err?: Error | null) => void): boolean }, unit: WriteUnit, done: (err?: Error | null) => void): void {
  if (unit.length === 1) {
    socket.write(unit[0]!, done);
    return;
  }
  socket.cork();
  for (let i = 0; i < unit.length - 1; i++) socket.write(unit[i]!);
  socket.write(unit[unit.length - 1]!, done);
  socket.uncork();
}
