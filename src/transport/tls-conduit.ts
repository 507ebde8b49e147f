import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { Conduit } from './conduit.js';
import { getTcpInfo, setTcpCork, socketFd, type TcpInfo } from './sockopt.js';
import { peerOf, writeUnit } from './tcp-conduit.js';
import { TlsRecordCounter } from './tls-records.js';
import type { WriteUnit } from './units.js';
import { meterWrites, type WriteMeter } from './write-meter.js';

/**
 * The ciphertext pipe between Node's TLS engine and the TCP socket. Node would otherwise write
 * each SSL_write's records straight to the kernel; going through this pipe lets the stream layer
 * cork the TCP socket around a whole flush while every SSL_write keeps its own boundary, and lets
 * it count records exactly. While the socket is corked writes are acknowledged at once (they only
 * queue in user space); otherwise once the socket has taken them.
 */
class CipherPipe extends Duplex {
  readonly records = new TlsRecordCounter();

  constructor(private readonly raw: Socket) {
    super();
    raw.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) raw.pause();
    });
    raw.on('end', () => this.push(null));
    raw.on('error', (err) => this.destroy(err));
    raw.on('close', () => this.destroy());
  }

  override _read(): void {
    this.raw.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.records.push(chunk);
    if (this.raw.writableCorked > 0) {
      this.raw.write(chunk);
      cb();
    } else {
      this.raw.write(chunk, cb);
    }
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.raw.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.raw.destroy(err ?? undefined);
    cb(err);
  }
}

export interface TlsOptions {
  cert: string;
  key: string;
  /** Shared by every connection (one per server), so session tickets and contexts are reused. */
  context?: tls.SecureContext;
}

export function secureContext(o: { cert: string; key: string }): tls.SecureContext {
  return tls.createSecureContext({ cert: o.cert, key: o.key, minVersion: 'TLSv1.2' });
}

/**
 * TLS over a TCP socket. A write unit becomes exactly one SSL_write: units are submitted one at
 * a time (Node merges writes queued behind a pending one into a single SSL_write).
 */
export class TlsConduit implements Conduit {
  readonly kind = 'tls' as const;
  readonly keepsUnitBoundaries = true;
  readonly secure = true;
  readonly peer: string;
  readonly fd: number | undefined;
  readonly socket: tls.TLSSocket;
  private readonly pipe: CipherPipe;
  private readonly sslMeter: WriteMeter;
  private readonly rawMeter: WriteMeter;
  private dataHandler: ((chunk: Buffer) => void) | undefined;
  private finalTcpInfo: TcpInfo | undefined;
  private inFlight = 0;
  private readonly idleHandlers: (() => void)[] = [];
  /**
   * Ciphertext sent before the first unit of SPICE data: the handshake, plus TLS 1.3 session
   * tickets. Reported apart so steady-state TLS cost can be measured.
   */
  handshakeCost = { bytes: 0, records: 0, taken: false };
  /** The kernel's counters at that moment: the handshake's packets and bytes. */
  handshakeTcp: TcpInfo | undefined;

  constructor(
    private readonly raw: Socket,
    context: tls.SecureContext,
  ) {
    this.peer = peerOf(raw);
    this.fd = socketFd(raw);
    raw.setNoDelay(true);
    this.rawMeter = meterWrites(raw);
    this.pipe = new CipherPipe(raw);
    this.socket = new tls.TLSSocket(this.pipe as unknown as Socket, { isServer: true, secureContext: context, requestCert: false });
    this.sslMeter = meterWrites(this.socket);
    this.socket.on('data', (chunk: Buffer) => this.deliver(chunk));
    raw.on('end', () => this.keepTcpInfo());
  }

  /** Resolves once the handshake is done; rejects on a handshake failure. */
  handshake(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`TLS handshake timed out after ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        this.socket.off('secure', ok);
        reject(err);
      };
      const ok = (): void => {
        clearTimeout(timer);
        this.socket.off('error', fail);
        resolve();
      };
      this.socket.once('secure', ok);
      this.socket.once('error', fail);
    });
  }

  get busy(): boolean {
    return this.inFlight > 0;
  }

  get bufferedBytes(): number {
    return this.socket.writableLength + this.raw.writableLength;
  }

  /** Counts after the handshake: SSL_writes, records and ciphertext of SPICE data only. */
  get stats() {
    const r = this.pipe.records;
    const h = this.handshakeCost.taken ? this.handshakeCost : { bytes: r.bytes, records: r.records };
    return { writes: this.rawMeter.calls, sslWrites: this.sslMeter.calls, tlsRecords: r.records - h.records, wireBytes: r.bytes - h.bytes };
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  submit(unit: WriteUnit, done: (err?: Error | null) => void): void {
    if (!this.handshakeCost.taken) {
      this.handshakeCost = { bytes: this.pipe.records.bytes, records: this.pipe.records.records, taken: true };
      this.handshakeTcp = this.fd === undefined ? undefined : getTcpInfo(this.fd);
    }
    this.inFlight++;
    writeUnit(this.socket, unit, (err) => {
      this.inFlight--;
      done(err);
      if (this.inFlight === 0) for (const h of this.idleHandlers) h();
    });
  }

  onIdle(cb: () => void): void {
    this.idleHandlers.push(cb);
  }

  cork(): void {
    this.raw.cork();
  }

  uncork(): void {
    this.raw.uncork();
  }

  setKernelCork(on: boolean): boolean {
    return this.fd !== undefined && setTcpCork(this.fd, on);
  }

  /** Bytes that arrived while no consumer was set (e.g. between TLS handshake and link stage). */
  private early: Buffer[] = [];

  private deliver(chunk: Buffer): void {
    if (this.released) return;
    if (this.dataHandler) this.dataHandler(chunk);
    else this.early.push(chunk);
  }

  unread(chunks: Buffer[]): void {
    this.dataHandler = undefined;
    this.early = [...chunks, ...this.early];
  }

  /**
   * Hand the (plaintext) socket to someone else, e.g. the HTTP server for a WebSocket upgrade:
   * the conduit stops reading it and pushes back what it had received but not delivered.
   * Its counters, cork and TCP_INFO keep working underneath.
   */
  release(): tls.TLSSocket {
    this.released = true;
    this.dataHandler = undefined;
    // Paused while the bytes go back, so none is emitted before the new owner listens; the new
    // owner resumes the socket.
    this.socket.pause();
    const early = this.early;
    this.early = [];
    for (let i = early.length - 1; i >= 0; i--) this.socket.unshift(early[i]!);
    return this.socket;
  }

  private released = false;

  onData(cb: (chunk: Buffer) => void): void {
    this.dataHandler = cb;
    const early = this.early;
    this.early = [];
    for (const c of early) cb(c);
  }

  onClose(cb: (err?: Error) => void): void {
    let failure: Error | undefined;
    this.socket.on('error', (err) => (failure = err));
    this.socket.once('close', () => cb(failure));
  }

  onDrain(cb: () => void): void {
    this.socket.on('drain', cb);
    this.raw.on('drain', cb);
  }

  /** TCP_INFO now, or as last read before the descriptor closed. */
  tcpInfo(): TcpInfo | undefined {
    if (this.fd === undefined) return undefined;
    return this.finalTcpInfo ?? getTcpInfo(this.fd);
  }

  /** Read TCP_INFO one last time while the descriptor is still open. */
  private keepTcpInfo(): void {
    if (this.fd !== undefined && this.finalTcpInfo === undefined && !this.raw.destroyed) this.finalTcpInfo = getTcpInfo(this.fd);
  }

  end(): void {
    this.keepTcpInfo();
    this.socket.end();
  }

  destroy(err?: Error): void {
    this.keepTcpInfo();
    this.socket.destroy(err);
    this.raw.destroy();
  }
}
