import type { TcpInfo } from './sockopt.js';
import type { WriteUnit } from './units.js';

export interface ConduitStats {
  sslWrites: number;
  tlsRecords: number;
  wireBytes: number;
}

/**
 * The byte transport under a SpiceStream: plain TCP, TLS, or WebSocket. It takes write units,
 * delivers received bytes, and exposes the knobs the cork policies need. Each implementation owns
 * exactly one socket.
 */
export interface Conduit {
  readonly kind: 'tcp' | 'tls' | 'websocket';
  /** Encrypted on the way (TLS, or WebSocket over TLS). */
  readonly secure: boolean;
  /** "address:port" of the peer, for log lines. */
  readonly peer: string;
  /**
   * True when a submitted unit has not yet reached the layer below. Over TLS another submit now
   * would be merged into the same SSL_write by Node, so the stream waits (see stream.ts).
   */
  readonly busy: boolean;
  /** Whether units must be submitted one at a time to keep their boundaries (TLS: one SSL_write each). */
  readonly keepsUnitBoundaries: boolean;
  /** Bytes accepted but still held in user space. */
  readonly bufferedBytes: number;
  submit(unit: WriteUnit, done: (err?: Error | null) => void): void;
  /** Hold bytes in user space until uncork (Node cork on the socket that faces the kernel). */
  cork(): void;
  uncork(): void;
  /** TCP_CORK on the descriptor; false when it cannot be done here. */
  setKernelCork(on: boolean): boolean;
  /** Descriptor of the TCP socket, when known (TCP_INFO, TCP_CORK). */
  readonly fd: number | undefined;
  /** Set the consumer of received bytes (one at a time: the link stage, then the channel). */
  onData(cb: (chunk: Buffer) => void): void;
  /** Give bytes back: the next consumer set with onData receives them first. */
  unread(chunks: Buffer[]): void;
  /** Called once when the connection is gone, with the error if it failed. */
  onClose(cb: (err?: Error) => void): void;
  /** Called when buffered bytes have been handed to the kernel after a backlog. */
  onDrain(cb: () => void): void;
  /** Called each time the last submitted unit completes (busy turns false). */
  onIdle(cb: () => void): void;
  /**
   * What this conduit has written so far, counted where writes are submitted: SSL_writes (one per
   * unit or WebSocket frame), TLS records and bytes on the wire (ciphertext over TLS), the
   * handshake left out.
   */
  readonly stats: ConduitStats;
  /** Kernel counters of the TCP connection (live, or as last read before it closed). */
  tcpInfo(): TcpInfo | undefined;
  /** Close after pending writes. */
  end(): void;
  destroy(err?: Error): void;
  readonly destroyed: boolean;
}
