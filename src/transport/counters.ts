/** Per-stream counters, readable through the library API and printed by `spiced serve --stats`. */
export interface StreamCounters {
  /** Messages handed to the stream (header + body each). */
  messages: number;
  /** Iovecs in those messages. */
  iovecs: number;
  /** Plaintext bytes handed to the stream (headers included). */
  plaintextBytes: number;
  /** Pipe flushes (ends of a batch of messages). */
  flushes: number;
  /** Write units submitted to the transport (see units.ts). */
  units: number;
  /** TLS only: SSL_write calls (write units reaching the TLS engine). */
  sslWrites: number;
  /**
   * TLS only: records sent, counted from the ciphertext (pipe engine) or computed from SSL_write
   * sizes (native engine: OpenSSL cuts each into 16 KiB records; checked equal in tests).
   */
  tlsRecords: number;
  /**
   * Bytes leaving for the kernel: ciphertext over TLS (native engine: plaintext plus the suite's
   * per-record overhead, or what TCP_INFO saw for CBC suites), plaintext otherwise.
   */
  wireBytes: number;
  /** Bytes copied to gather small messages (the `small` policy's cost). */
  gatheredBytes: number;
  /** Times the transport was corked for a flush. */
  corks: number;
}

export function newCounters(): StreamCounters {
  return {
    messages: 0,
    iovecs: 0,
    plaintextBytes: 0,
    flushes: 0,
    units: 0,
    sslWrites: 0,
    tlsRecords: 0,
    wireBytes: 0,
    gatheredBytes: 0,
    corks: 0,
  };
}
