import type { Socket } from 'node:net';
import type { Conduit, ConduitStats } from './conduit.js';
import { SocketConduit } from './socket-conduit.js';
import { unitSize, type WriteUnit } from './units.js';

/** Plain TCP. A unit becomes one writev (cork/uncork around its iovecs). */
export class TcpConduit extends SocketConduit<Socket> implements Conduit {
  readonly kind = 'tcp' as const;
  readonly keepsUnitBoundaries = false;
  readonly secure = false;
  private wireBytes = 0;

  constructor(readonly socket: Socket) {
    super(socket);
    this.listen();
    socket.on('end', () => this.keepTcpInfo());
  }

  get busy(): boolean {
    return false;
  }

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  get stats(): ConduitStats {
    return { sslWrites: 0, tlsRecords: 0, wireBytes: this.wireBytes };
  }

  submit(unit: WriteUnit, done: (err?: Error | null) => void): void {
    this.countWrite(unitSize(unit));
    writeUnit(this.socket, unit, done);
  }

  /** A write of `bytes` to the socket, made here or by a WebSocket riding on it (a frame). */
  countWrite(bytes: number): void {
    this.wireBytes += bytes;
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  onDrain(cb: () => void): void {
    this.socket.on('drain', cb);
  }

  /** Plain TCP is never busy: units need no serialising. */
  onIdle(_cb: () => void): void {}

  destroy(err?: Error): void {
    this.keepTcpInfo();
    this.socket.destroy(err);
  }
}

/** Write a unit's buffers as one writev: Node merges writes made between cork and uncork. */
export function writeUnit(
  socket: { cork(): void; uncork(): void; write(b: Buffer, cb?: (err?: Error | null) => void): boolean },
  unit: WriteUnit,
  done: (err?: Error | null) => void,
): void {
  if (unit.length === 1) {
    socket.write(unit[0]!, done);
    return;
  }
  socket.cork();
  for (let i = 0; i < unit.length - 1; i++) socket.write(unit[i]!);
  socket.write(unit[unit.length - 1]!, done);
  socket.uncork();
}
