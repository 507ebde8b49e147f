/*
 * Request framing shared by the core protocol and the extensions. We announce little-endian byte
 * order in the connection setup, so every request, reply, event and error on the wire is LE
 * (pixel data in images follows the server's image-byte-order instead; see pixel-format.ts).
 *
 * Every request starts with: opcode u8, data u8 (the minor opcode for extensions), length u16 in
 * 4-byte units including this header, and is padded to a multiple of 4 bytes.
 */

/**
 * A little-endian byte writer for requests. (Not src/protocol/writer.ts: its methods evaluate
 * `this.buf` before `ensure()` swaps in a grown buffer, so bytes written past the initial size
 * are lost or throw.)
 */
export class Writer {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 64) {
    this.buf = Buffer.alloc(initialSize);
  }

  get length(): number {
    return this.pos;
  }

  private room(n: number): number {
    if (this.pos + n > this.buf.length) {
      const grown = Buffer.alloc(Math.max(this.pos + n, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.pos);
      this.buf = grown;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(v: number): this {
    const at = this.room(1);
    this.buf[at] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    const at = this.room(2);
    this.buf.writeUInt16LE(v & 0xffff, at);
    return this;
  }

  i16(v: number): this {
    const at = this.room(2);
    this.buf.writeInt16LE(v, at);
    return this;
  }

  u32(v: number): this {
    const at = this.room(4);
    this.buf.writeUInt32LE(v >>> 0, at);
    return this;
  }

  bytes(src: Uint8Array): this {
    const at = this.room(src.length);
    this.buf.set(src, at);
    return this;
  }

  /** Overwrite a u32 written earlier. */
  patchU32(at: number, v: number): void {
    this.buf.writeUInt32LE(v >>> 0, at);
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Largest request expressible without BIG-REQUESTS: 0xffff units of 4 bytes. */
export const MAX_PLAIN_REQUEST_BYTES = 0xffff * 4;

export function pad4(n: number): number {
  return (4 - (n & 3)) & 3;
}

/** Encode one request; `body` writes everything after the 4-byte header. */
export function encodeRequest(opcode: number, data: number, body?: (w: Writer) => void): Buffer {
  const w = new Writer(32);
  const header = w.length;
  w.u32(0);
  body?.(w);
  for (let i = pad4(w.length); i > 0; i--) w.u8(0);
  const bytes = w.length;
  if (bytes > MAX_PLAIN_REQUEST_BYTES) {
    // None of the requests spiced sends comes near this; BIG-REQUESTS would be needed otherwise.
    throw new Error(`X request of ${bytes} bytes exceeds the 262140-byte limit`);
  }
  w.patchU32(header, (opcode & 0xff) | ((data & 0xff) << 8) | ((bytes / 4) << 16));
  return w.finish();
}

/** `n` zero bytes (the protocol's "unused" fields). */
export function skip(w: Writer, n: number): Writer {
  for (let i = 0; i < n; i++) w.u8(0);
  return w;
}

/** A string padded to 4 bytes. */
export function paddedString(w: Writer, s: string): Writer {
  w.bytes(Buffer.from(s, 'latin1'));
  return skip(w, pad4(Buffer.byteLength(s, 'latin1')));
}
