/**
 * A growable little-endian writer for fixed parts of messages. Large payloads (pixels, audio) are
 * not written through it: they travel as separate iovecs next to the buffer it produces.
 */
export class Writer {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 64) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.pos;
  }

  /** Grow if needed and return where the next n bytes go. Call it before reading `this.buf`. */
  private ensure(n: number): number {
    const need = this.pos + n;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.pos);
      this.buf = grown;
    }
    const at = this.pos;
    this.pos = need;
    return at;
  }

  u8(v: number): this {
    const at = this.ensure(1);
    this.buf[at] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    const at = this.ensure(2);
    this.buf.writeUInt16LE(v & 0xffff, at);
    return this;
  }

  i16(v: number): this {
    const at = this.ensure(2);
    this.buf.writeInt16LE(v, at);
    return this;
  }

  u32(v: number): this {
    const at = this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, at);
    return this;
  }

  i32(v: number): this {
    const at = this.ensure(4);
    this.buf.writeInt32LE(v | 0, at);
    return this;
  }

  u64(v: bigint | number): this {
    const at = this.ensure(8);
    this.buf.writeBigUInt64LE(BigInt(v), at);
    return this;
  }

  i64(v: bigint | number): this {
    const at = this.ensure(8);
    this.buf.writeBigInt64LE(BigInt(v), at);
    return this;
  }

  bytes(src: Uint8Array): this {
    const at = this.ensure(src.length);
    this.buf.set(src, at);
    return this;
  }

  /** Reserve a u32 to patch later (e.g. a pointer or a size known only after the body). */
  reserveU32(): number {
    return this.ensure(4);
  }

  patchU32(at: number, v: number): void {
    this.buf.writeUInt32LE(v >>> 0, at);
  }

  /** The bytes written so far, as a view (the writer must not be reused afterwards). */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
