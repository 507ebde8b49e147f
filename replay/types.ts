import type { CoalescePolicy, CorkPolicy } from '../src/transport/policy.js';

/** One measurement: a recording (or the synthetic burst) through the server to one client. */
export interface MeasureConfig {
  source: { kind: 'burst'; frames: number } | { kind: 'file'; path: string };
  mode: 'plain' | 'tls';
  coalesce: CoalescePolicy;
  cork: CorkPolicy;
  /**
   * asap: next command as soon as the server took the last; realtime: recorded timing; n: n ms
   * apart; lockstep: next command once the client holds everything sent for the last (one command
   * per flush whatever the timing: identical flushes in every mode, for exact comparisons).
   */
  pace: 'asap' | 'realtime' | 'lockstep' | number;
  /** Channels the client opens besides main. */
  channels: ('display' | 'cursor' | 'playback')[];
  timeoutMs: number;
}

/** Server-to-client counts for one channel connection, from the kernel and the stream layer. */
export interface ChannelCounts {
  /** Segments sent, retransmissions excluded (TCP_INFO segs_out - total_retrans). */
  packets: number;
  /** Segments carrying data (data_segs_out - total_retrans). */
  dataPackets: number;
  /** TCP payload bytes, retransmissions excluded (bytes_sent - bytes_retrans). */
  payloadBytes: number;
  /** payload + 66 bytes of Ethernet/IP/TCP headers per packet. */
  wireBytes: number;
  retransmits: number;
  tlsRecords: number;
  /** The fewest data segments the same flushes could have used: sum of ceil(flush bytes / MSS). */
  idealPackets: number;
  /**
   * TLS handshake: the packets sent before the first SPICE byte, and every byte of ciphertext that
   * is not SPICE data (handshake flight and the TLS 1.3 session tickets); 0 for plain.
   */
  handshakePackets: number;
  handshakeBytes: number;
  messages: number;
  iovecs: number;
  flushes: number;
  units: number;
  plaintextBytes: number;
  mss: number;
}

export interface MeasureResult {
  config: MeasureConfig;
  channels: Record<string, ChannelCounts>;
  /** The client's final framebuffer equals the expected final frame. */
  frameMatch: boolean;
  frameDetail: string;
  /** Commands fed to the server. */
  commands: number;
  wallMs: number;
  /** CPU of the worker process: server and client together (they share it); the spice-server race measures the server alone. */
  processCpuMs: number;
  /** Unit sizes (SSL_writes) of the display channel, for policy checks. */
  displayUnits: number[];
  warnings: string[];
}
