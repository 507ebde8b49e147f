import { TLS_MAX_RECORD_PLAINTEXT } from './policy.js';

/**
 * Counts TLS records in a ciphertext byte stream (5-byte header: u8 content type, u16 version,
 * u16 length big-endian). Resumable across chunks; used on the server-to-client direction so the
 * stream layer reports records exactly rather than estimating them.
 */
export class TlsRecordCounter {
  records = 0;
  bytes = 0;
  private header = Buffer.alloc(5);
  private headerFill = 0;
  private bodyLeft = 0;

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let i = 0;
    while (i < chunk.length) {
      if (this.bodyLeft > 0) {
        const k = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= k;
        i += k;
        continue;
      }
      const k = Math.min(5 - this.headerFill, chunk.length - i);
      chunk.copy(this.header, this.headerFill, i, i + k);
      this.headerFill += k;
      i += k;
      if (this.headerFill === 5) {
        this.headerFill = 0;
        this.bodyLeft = this.header.readUInt16BE(3);
        this.records++;
      }
    }
  }
}

/**
 * Bytes one TLS record adds to its plaintext under an AEAD suite, or undefined for suites whose
 * overhead varies per record (CBC: padding, and MAC-then-encrypt or encrypt-then-MAC is not
 * visible from Node). TLS 1.3: 5-byte header + 1 byte inner content type + tag. TLS 1.2 GCM and
 * CCM: 5-byte header + 8-byte explicit nonce + tag. TLS 1.2 ChaCha20-Poly1305: header + tag.
 * `cipher` is OpenSSL's name as `getCipher().name` gives it.
 */
export function recordOverhead(protocol: string | null, cipher: string): number | undefined {
  const tag = /CCM_?8/.test(cipher) ? 8 : 16;
  if (protocol === 'TLSv1.3') return 5 + 1 + tag;
  if (protocol !== 'TLSv1.2') return undefined;
  if (/GCM|CCM/.test(cipher)) return 5 + 8 + tag;
  if (/CHACHA20/.test(cipher)) return 5 + tag;
  return undefined;
}

/** Records OpenSSL makes for one SSL_write of n plaintext bytes (max_send_fragment 16 KiB). */
export function recordsOfWrite(n: number): number {
  return n > 0 ? Math.ceil(n / TLS_MAX_RECORD_PLAINTEXT) : 0;
}

/**
 * Records and plaintext of the SSL_writes made on a natively wrapped TLS socket, whose ciphertext
 * never passes through JavaScript: records are computed from each SSL_write's size (OpenSSL cuts
 * an SSL_write into records of max_send_fragment), ciphertext from the suite's per-record overhead.
 * Exact as long as the peer did not negotiate a smaller fragment (max_fragment_length, which
 * spice-gtk and browsers do not ask for).
 */
export class SslWriteLedger {
  sslWrites = 0;
  records = 0;
  plaintext = 0;

  add(n: number): void {
    this.sslWrites++;
    this.records += recordsOfWrite(n);
    this.plaintext += n;
  }

  /** Ciphertext bytes of those records, given the per-record overhead. */
  wireBytes(overhead: number): number {
    return this.plaintext + this.records * overhead;
  }
}
