import { concatChunks, readDecompressed } from '../container.js';

/*
 * Recordings are imported from memory: the whole file (a few MB, most of it the initial primary
 * surface and bitmaps) is read or decompressed into one Buffer first, then walked synchronously
 * with a plain offset. Parsing line by line over an async chunk stream cost more CPU in promises,
 * look-ahead copies and garbage than everything else the importer did.
 *
 * ByteReader offers the primitives the careful reader (event-stream.ts) needs - text lines,
 * "read up to ':'", exact byte counts - as positions in that Buffer.
 */

/**
 * The recording's bytes: a path (".xz" names are decompressed with `xz -dc`, as before) or
 * chunks, copied into one Buffer that nothing else writes.
 */
export async function loadRecording(input: string | AsyncIterable<Buffer>): Promise<Buffer> {
  if (typeof input !== 'string') return concatChunks(input);
  return readDecompressed(input, input.endsWith('.xz') ? 'xz' : 'plain');
}

/** Synchronous reader over an in-memory recording. */
export class ByteReader {
  /** Bytes consumed so far: the position of the next unread byte (also for error messages). */
  offset = 0;

  constructor(readonly buf: Buffer) {}

  /** True when the unread bytes start with `prefix` (which is not consumed). */
  startsWith(prefix: Buffer): boolean {
    const at = this.offset;
    if (this.buf.length - at < prefix.length) return false;
    for (let i = 0; i < prefix.length; i++) if (this.buf[at + i] !== prefix[i]) return false;
    return true;
  }

  /**
   * Consumes the bytes up to `delimiter` and the delimiter itself, and returns the delimiter's
   * position (the bytes are buf[start, returned), start being the offset before the call).
   * -1 at the end of the data; an error when the delimiter does not come within `maxLength` bytes.
   */
  readUntil(delimiter: number, maxLength: number): number {
    const start = this.offset;
    const remaining = this.buf.length - start;
    if (remaining <= 0) return -1;
    const at = this.buf.indexOf(delimiter, start);
    if (at >= 0 && at - start <= maxLength) {
      this.offset = at + 1;
      return at;
    }
    if (remaining > maxLength) {
      throw new Error(
        `no ${JSON.stringify(String.fromCharCode(delimiter))} within ${maxLength} bytes at offset ${start}`,
      );
    }
    throw new Error(`stream ends inside a line at offset ${start}`);
  }

  /**
   * Exactly `n` bytes, as a view into the recording (no copy: the recording's Buffer is never
   * written, so the view is as immutable as a copy would be).
   */
  readExact(n: number): Buffer {
    const start = this.offset;
    const have = this.buf.length - start;
    if (have < n) {
      this.offset = this.buf.length;
      throw new Error(`stream ends after ${Math.max(0, have)} of ${n} bytes at offset ${this.offset}`);
    }
    this.offset = start + n;
    return this.buf.subarray(start, start + n);
  }

  /** buf[start, end) as text (Latin-1: every byte is one character, as the recorder wrote it). */
  text(start: number, end: number): string {
    return this.buf.toString('latin1', start, end);
  }
}
