import type { Conduit } from '../src/transport/conduit.js';
import type { TcpInfo } from '../src/transport/sockopt.js';
import { acceptedBytes, TlsConduit } from '../src/transport/tls-conduit.js';
import type { WireMeter } from '../src/transport/wire-meter.js';

/**
 * The replay's meter on one connection: wire bytes per pipe flush (for the ideal packet count),
 * the plaintext size of each write unit, and over TLS what the handshake cost. Injected through
 * `ServerOptions.wireMeter`; nothing here runs when nobody measures.
 */
export class WireRecorder implements WireMeter {
  /** Wire bytes (ciphertext over TLS) of each pipe flush, indexed by flush number. */
  readonly flushWire: number[] = [];
  /** Plaintext size of each of the stream's write units (one SSL_write over TLS), in order. */
  readonly unitSizes: number[] = [];
  /**
   * Data packets the connection had sent when the stream's first unit went out (TLS handshake,
   * link stage): not the stream's doing, so the ideal count adds them.
   */
  dataPacketsBefore: number | undefined;
  /**
   * TLS: the kernel's counters at the connection's first write (the link reply), that is the
   * handshake's packets and bytes (natively wrapped, TLS 1.3 session tickets OpenSSL still holds
   * then are not in them).
   */
  handshakeTcp: TcpInfo | undefined;
  /**
   * TLS: ciphertext that is not SPICE data (the handshake plus TLS 1.3 session tickets), known once
   * the first write has completed; undefined where it cannot be known (native engine without
   * TCP_INFO). Zero until then.
   */
  handshakeBytes: number | undefined = 0;
  /** TLS, relay engine: the handshake's records, counted from the ciphertext. */
  handshakeRecords: number | undefined = 0;
  private readonly tls: TlsConduit | undefined;
  /** Wire bytes the conduit had counted when the unit in flight was submitted. */
  private wireAtSubmit = 0;
  private writes = 0;
  private streamStarted = false;
  private cipherAtFirstWrite = { records: 0, bytes: 0 };

  constructor(private readonly conduit: Conduit) {
    this.tls = conduit instanceof TlsConduit ? conduit : undefined;
  }

  unitSubmitted(_bytes: number, flush: number): void {
    if (this.writes === 0 && this.tls) {
      this.handshakeTcp = this.tls.tcpInfo();
      this.cipherAtFirstWrite = this.tls.cipherTotals();
    }
    if (flush >= 0 && !this.streamStarted) {
      this.streamStarted = true;
      const t = this.conduit.tcpInfo();
      this.dataPacketsBefore = t && t.dataSegsOut - t.totalRetrans;
    }
    // Where unit boundaries are kept (TLS) units go one at a time: the delta is this unit's.
    if (this.conduit.keepsUnitBoundaries) this.wireAtSubmit = this.conduit.stats.wireBytes;
  }

  unitDone(bytes: number, flush: number): void {
    if (this.writes++ === 0 && this.tls) this.takeHandshake(this.tls);
    if (flush < 0) return;
    const wire = this.conduit.keepsUnitBoundaries ? this.conduit.stats.wireBytes - this.wireAtSubmit : bytes;
    this.flushWire[flush] = (this.flushWire[flush] ?? 0) + wire;
    this.unitSizes.push(bytes);
  }

  /**
   * The relay counted everything before the first write. Natively, the handshake never passes
   * through JavaScript: it is everything the kernel took but the first write, which includes the
   * TLS 1.3 session tickets OpenSSL may have held until the first write.
   */
  private takeHandshake(tls: TlsConduit): void {
    if (tls.engine === 'relay') {
      this.handshakeBytes = this.cipherAtFirstWrite.bytes;
      this.handshakeRecords = this.cipherAtFirstWrite.records;
      return;
    }
    const total = acceptedBytes(tls.tcpInfo());
    this.handshakeBytes = total === undefined ? undefined : total - tls.stats.wireBytes;
    this.handshakeRecords = undefined;
  }
}
