/**
 * Counts TLS records in a ciphertext byte stream (5-byte header: u8 content type, u16 version,
 * u16 length big-endian). Resumable across chunks; used on the server-to-client direction so the
 * stream layer reports records exactly rather than estimating them.
 */
export class TlsRecordCounter {
  records = 0;
  /** Application-data records (content type 23). */
  appRecords = 0;
  bytes = 0;
  private header = Buffer.alloc(5);
  private headerFill = 0;
  private bodyLeft = 0;
  private currentType = 0;

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
        this.currentType = this.header[0]!;
        this.bodyLeft = this.header.readUInt16BE(3);
        this.records++;
        if (this.currentType === 23) this.appRecords++;
      }
    }
  }
}
