import type { Socket } from 'node:net';
import tls from 'node:tls';
import { CiphertextRelay } from './tls-relay.js';
import type { Conduit, ConduitStats } from './conduit.js';
import type { CorkPolicy } from './policy.js';
import { getTcpInfo, setTcpCork, sockoptUnavailableReason, type TcpInfo } from './sockopt.js';
import { SocketConduit } from './socket-conduit.js';
import { writeUnit } from './tcp-conduit.js';
import { recordOverhead, SslWriteLedger } from './tls-records.js';
import { unitSize, type WriteUnit } from './units.js';

export { secureContext } from './tls-policy.js';

/**
 * How TLS reaches the TCP socket.
 * - `native`: Node's TLS engine wraps the TCP handle itself (TLSWrap, as `tls.createServer` does):
 *   ciphertext goes from OpenSSL's buffer to the kernel without touching JavaScript. The TCP socket
 *   cannot be corked from JS any more, so a flush is packed into full segments with TCP_CORK;
 *   records and ciphertext bytes are computed from SSL_write sizes.
 * - `relay`: Node's TLS engine writes into a JS Duplex that forwards to the TCP socket
 *   (tls-relay.ts): the TCP socket can be corked in user space and records are counted from the
 *   ciphertext, at 2 to 3 times the server CPU per byte.
 */
export type TlsEngine = 'native' | 'relay';

export interface TlsEngineChoice {
  engine: TlsEngine;
  /** Why, for the log line a server prints when it starts its TLS port. */
  reason: string;
}

/**
 * The engine for a server's TLS port. Cork `on` and `kernel` need the TCP socket corked around a
 * flush: with TCP_CORK (koffi on Linux) the native engine does it in the kernel; without, only the
 * relay can cork in user space. Cork `off` needs no cork at all.
 */
export function chooseTlsEngine(
  cork: CorkPolicy,
  sockoptProblem: string = sockoptUnavailableReason(),
): TlsEngineChoice {
  if (cork === 'off') return { engine: 'native', reason: 'cork off: nothing to cork under TLS' };
  if (sockoptProblem === '') return { engine: 'native', reason: `cork ${cork}: flushes packed with TCP_CORK` };
  return {
    engine: 'relay',
    reason: `cork ${cork} needs the TCP socket corked under TLS and TCP_CORK is unavailable: ${sockoptProblem}`,
  };
}

/** Ciphertext the kernel has accepted on this connection: sent (less retransmissions) plus unsent. */
export function acceptedBytes(t: TcpInfo | undefined): number | undefined {
  return t === undefined ? undefined : t.bytesSent - t.bytesRetrans + t.notsentBytes;
}

/**
 * Per-record overhead assumed for a CBC suite where TCP_INFO cannot be read (cork off without
 * koffi, and a peer that offers no AEAD suite): header, IV, SHA-256 MAC and average padding.
 * An estimate; every AEAD suite is computed exactly.
 */
const CBC_OVERHEAD_ESTIMATE = 5 + 16 + 32 + 8;

/** What differs between the engines: the TLS socket's construction, corking and accounting. */
interface CipherPath {
  readonly socket: tls.TLSSocket;
  /** Records and ciphertext bytes so far (the relay sees the handshake too; the conduit subtracts it). */
  totals(): { records: number; bytes: number };
  /** Bytes held in user space below the TLS socket. */
  lowerBuffered(): number;
  cork(): void;
  uncork(): void;
  /** One SSL_write of n plaintext bytes was made. */
  onSslWrite(n: number): void;
}

class RelayPath implements CipherPath {
  readonly socket: tls.TLSSocket;
  private readonly relay: CiphertextRelay;

  constructor(
    private readonly raw: Socket,
    context: tls.SecureContext,
  ) {
    this.relay = new CiphertextRelay(raw);
    this.socket = new tls.TLSSocket(this.relay as unknown as Socket, {
      isServer: true,
      secureContext: context,
      requestCert: false,
    });
  }

  totals(): { records: number; bytes: number } {
    return { records: this.relay.records.records, bytes: this.relay.records.bytes };
  }

  lowerBuffered(): number {
    return this.raw.writableLength;
  }

  cork(): void {
    this.raw.cork();
  }

  uncork(): void {
    this.raw.uncork();
  }

  onSslWrite(): void {}
}

class NativePath implements CipherPath {
  readonly socket: tls.TLSSocket;
  private readonly ledger = new SslWriteLedger();
  /** Per-record overhead of the negotiated suite, known once the handshake is done. */
  private overhead: number | undefined;

  constructor(
    raw: Socket,
    context: tls.SecureContext,
    private readonly fd: number | undefined,
  ) {
    this.socket = new tls.TLSSocket(raw, { isServer: true, secureContext: context, requestCert: false });
    this.socket.once('secure', () => {
      this.overhead = recordOverhead(this.socket.getProtocol(), this.socket.getCipher().name);
    });
  }

  totals(): { records: number; bytes: number } {
    return { records: this.ledger.records, bytes: this.wireBytes() };
  }

  /**
   * AEAD suites: computed. Otherwise what the kernel accepted (TCP_INFO, handshake included: the
   * conduit subtracts what it was at the first SPICE write), else an estimate.
   */
  private wireBytes(): number {
    if (this.overhead !== undefined) return this.ledger.wireBytes(this.overhead);
    const accepted = this.fd === undefined ? undefined : acceptedBytes(getTcpInfo(this.fd));
    return accepted ?? this.ledger.wireBytes(CBC_OVERHEAD_ESTIMATE);
  }

  lowerBuffered(): number {
    return 0;
  }

  /** TCP_CORK: the kernel holds partial segments until uncork, so a flush's SSL_writes pack. */
  cork(): void {
    this.setCork(true);
  }

  uncork(): void {
    this.setCork(false);
  }

  /** Never on a closed socket: its descriptor number may already belong to another connection. */
  private setCork(on: boolean): void {
    if (this.fd !== undefined && !this.socket.destroyed) setTcpCork(this.fd, on);
  }

  onSslWrite(n: number): void {
    this.ledger.add(n);
  }
}

/**
 * TLS over a TCP socket. A write unit becomes exactly one SSL_write: units are submitted one at
 * a time (Node merges writes queued behind a pending one into a single SSL_write).
 */
export class TlsConduit extends SocketConduit<tls.TLSSocket> implements Conduit {
  readonly kind = 'tls' as const;
  readonly keepsUnitBoundaries = true;
  readonly secure = true;
  readonly socket: tls.TLSSocket;
  private readonly path: CipherPath;
  private inFlight = 0;
  private readonly idleHandlers: (() => void)[] = [];
  /** Records and bytes the path had seen at the first SPICE write (the relay sees the handshake). */
  private before = { records: 0, bytes: 0 };
  private submitted = false;
  private sslWrites = 0;

  constructor(
    private readonly raw: Socket,
    context: tls.SecureContext,
    readonly engine: TlsEngine = 'relay',
  ) {
    super(raw);
    this.path = engine === 'native' ? new NativePath(raw, context, this.fd) : new RelayPath(raw, context);
    this.socket = this.path.socket;
    this.listen();
    // The relay sees the TCP socket end; natively wrapped, only the TLS socket reports it.
    raw.on('end', () => this.keepTcpInfo());
    this.socket.on('end', () => this.keepTcpInfo());
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
    return this.socket.writableLength + this.path.lowerBuffered();
  }

  /** Counts after the handshake: SSL_writes, records and ciphertext of SPICE data only. */
  get stats(): ConduitStats {
    const t = this.path.totals();
    const h = this.submitted ? this.before : t;
    return { sslWrites: this.sslWrites, tlsRecords: t.records - h.records, wireBytes: t.bytes - h.bytes };
  }

  /**
   * Records and ciphertext bytes of the connection so far, handshake included where the engine
   * sees it (the relay counts it; natively it never passes through JavaScript).
   */
  cipherTotals(): { records: number; bytes: number } {
    return this.path.totals();
  }

  submit(unit: WriteUnit, done: (err?: Error | null) => void): void {
    this.countWrite(unitSize(unit));
    this.inFlight++;
    writeUnit(this.socket, unit, (err) => {
      this.inFlight--;
      done(err);
      if (this.inFlight === 0) for (const h of this.idleHandlers) h();
    });
  }

  /**
   * One SSL_write of `bytes` plaintext: a unit submitted here (one at a time, so Node cannot merge
   * them), or a frame of a WebSocket riding on this socket (ws writes each frame in one writev,
   * which Node's TLS engine turns into one SSL_write).
   */
  countWrite(bytes: number): void {
    // From the first SPICE write on, ciphertext is SPICE data: the handshake is behind.
    if (!this.submitted) {
      this.submitted = true;
      this.before = this.path.totals();
    }
    this.sslWrites++;
    this.path.onSslWrite(bytes);
  }

  onIdle(cb: () => void): void {
    this.idleHandlers.push(cb);
  }

  cork(): void {
    this.path.cork();
  }

  uncork(): void {
    this.path.uncork();
  }

  onDrain(cb: () => void): void {
    this.socket.on('drain', cb);
    this.raw.on('drain', cb);
  }

  /** The TCP socket under the TLS one must be open too (the relay engine keeps it apart). */
  protected override descriptorOpen(): boolean {
    return !this.raw.destroyed && !this.socket.destroyed;
  }

  destroy(err?: Error): void {
    this.keepTcpInfo();
    this.socket.destroy(err);
    // Natively wrapped, the TLS socket owns (and closes) the TCP handle.
    if (this.engine === 'relay') this.raw.destroy();
  }
}
