/*
 * Byte-level building blocks of the spiced recording format: a growable writer and a bounds-checked
 * cursor, both speaking LEB128 varints (unsigned) and zigzag varints (signed). Varints are computed
 * with arithmetic, not bit operators, so any safe integer (up to 2^53) round-trips; coordinates and
 * sizes are mostly small, so most fields take one or two bytes before compression.
 */

/** A malformed or truncated spiced recording; the message names the record and offset. */
export class RecordingFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordingFormatError';
  }
}

/** Bytes appended one field at a time; grows by doubling. */
export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  u32le(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  i16le(v: number): this {
    this.ensure(2);
    this.buf.writeInt16LE(v, this.pos);
    this.pos += 2;
    return this;
  }

  /** Unsigned LEB128 of a safe non-negative integer. */
  uvarint(v: number, what: string): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what}: ${v} is not a non-negative safe integer`);
    this.ensure(8);
    let n = v;
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
    return this;
  }

  /** Zigzag-mapped varint (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...) of a safe integer. */
  svarint(v: number, what: string): this {
    if (!Number.isSafeInteger(v) || Math.abs(v) > 2 ** 51)
      throw new RangeError(`${what}: ${v} is not an integer the format can hold`);
    return this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1, what);
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** A view of what was written (valid until the next write or reset). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of what was written, and start over (keeps the allocation). */
  take(): Buffer {
    const out = Buffer.from(this.view());
    this.pos = 0;
    return out;
  }

  reset(): void {
    this.pos = 0;
  }
}

/** Reads fields from one record's payload; every overrun names the record. */
export class ByteCursor {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    /** Describes the record for error messages ("record 12 (copy) at body offset 3456"). */
    private readonly where: string,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.end) {
      throw new RecordingFormatError(
        `${this.where}: ${what} runs past the end of the record (${this.remaining} byte(s) left, ${n} needed)`,
      );
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }

  u32le(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  i16le(what: string): number {
    this.need(2, what);
    const v = this.buf.readInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  uvarint(what: string): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8(what);
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 0x80;
    }
    throw new RecordingFormatError(`${this.where}: ${what} is a varint longer than 8 bytes`);
  }

  svarint(what: string): number {
    const z = this.uvarint(what);
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  /** `n` bytes as a view into the payload. */
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Payloads must be consumed exactly: extra bytes mean writer and reader disagree. */
  expectEnd(): void {
    if (this.pos !== this.end)
      throw new RecordingFormatError(`${this.where}: ${this.end - this.pos} unexpected byte(s) after the last field`);
  }
}

/** Decode an unsigned varint at `pos` of `buf`: the value and the next position, or undefined if the bytes run out. */
export function peekUvarint(buf: Buffer, pos: number): { value: number; next: number } | undefined {
  let v = 0;
  let scale = 1;
  for (let i = 0; i < 8; i++) {
    if (pos + i >= buf.length) return undefined;
    const b = buf[pos + i] as number;
    v += (b & 0x7f) * scale;
    if (b < 0x80) return { value: v, next: pos + i + 1 };
    scale *= 0x80;
  }
  throw new RecordingFormatError(`varint longer than 8 bytes at offset ${pos}`);
}
