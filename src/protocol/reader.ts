import { ProtocolError } from './errors.js';

/**
 * A bounds-checked little-endian cursor over one message body. `bytes()` and `rest()` return views
 * into the underlying buffer, never copies: a decoded message keeps its payload by reference.
 */
export class Reader {
  private pos: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    private readonly end = buf.length,
  ) {
    // A start before the body (a pointer computed from peer fields) would read through Buffer's own
    // range checks and surface as a RangeError instead of a ProtocolError.
    if (!Number.isInteger(start) || start < 0 || end > buf.length) {
      throw new ProtocolError('TRUNCATED', `offset ${start} outside a ${buf.length}-byte body`);
    }
    this.pos = start;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  seek(offset: number): void {
    if (offset < 0 || offset > this.end) {
      throw new ProtocolError('TRUNCATED', `offset ${offset} outside a ${this.end}-byte body`);
    }
    this.pos = offset;
  }

  private take(n: number): number {
    if (this.end - this.pos < n) {
      throw new ProtocolError('TRUNCATED', `need ${n} bytes at offset ${this.pos}, have ${this.end - this.pos}`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(): number {
    return this.buf[this.take(1)]!;
  }

  i8(): number {
    return this.buf.readInt8(this.take(1));
  }

  u16(): number {
    return this.buf.readUInt16LE(this.take(2));
  }

  i16(): number {
    return this.buf.readInt16LE(this.take(2));
  }

  u32(): number {
    return this.buf.readUInt32LE(this.take(4));
  }

  i32(): number {
    return this.buf.readInt32LE(this.take(4));
  }

  u64(): bigint {
    return this.buf.readBigUInt64LE(this.take(8));
  }

  i64(): bigint {
    return this.buf.readBigInt64LE(this.take(8));
  }

  /** A u64 that must fit a JS number exactly (ids and sizes we produce ourselves). */
  u64n(): number {
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new ProtocolError('BAD_MESSAGE', `64-bit value ${v} too large`);
    }
    return Number(v);
  }

  bytes(n: number): Buffer {
    const at = this.take(n);
    return this.buf.subarray(at, at + n);
  }

  rest(): Buffer {
    return this.bytes(this.end - this.pos);
  }
}
