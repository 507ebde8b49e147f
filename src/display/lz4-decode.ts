/**
 * SPICE LZ4 image decoder (SpiceImage type 109, layout at the top of lz4.ts): 24BIT, 32BIT and
 * RGBA payloads of one or more blocks, as spice-server and spiced send them, into BGRX pixels.
 *
 * As strict as spice-gtk, which decodes with LZ4_decompress_safe_continue into an output of exactly
 * the image's size: a block that ends inside a sequence, a match reaching before the first byte or
 * an offset of 0, output past the image, a block length beyond the payload, and a payload that
 * decodes to fewer bytes than the image are all ProtocolError('BAD_IMAGE').
 */
import { BitmapFormat } from '../protocol/constants.js';
import { ProtocolError } from '../protocol/errors.js';
import { checkPixelLimit, type ImageDecodeLimits } from './decode-limits.js';
import { HOST_IS_LE } from './host-endian.js';
import type { PixelImage } from './pixels.js';

/** Matches shorter than this are copied byte by byte (cheaper than a copyWithin call). */
const SHORT_COPY = 32;

function bad(message: string): ProtocolError {
  return new ProtocolError('BAD_IMAGE', `LZ4: ${message}`);
}

function bytesPerPixel(format: number): number {
  if (format === BitmapFormat.Bit24) return 3;
  if (format === BitmapFormat.Bit32 || format === BitmapFormat.Rgba) return 4;
  throw bad(`bitmap format ${format} is not decoded (24BIT, 32BIT and RGBA are)`);
}

/** The pixels of an LZ4 payload for an image of `width` x `height` (the descriptor's size). */
export function decodeLz4(data: Buffer, width: number, height: number, limits?: ImageDecodeLimits): PixelImage {
  if (data.length < 2) throw bad(`truncated: ${data.length} bytes, the header needs 2`);
  if (width === 0 || height === 0) throw bad(`empty image ${width}x${height}`);
  const topDown = data[0] !== 0;
  const format = data[1]!;
  const bpp = bytesPerPixel(format);
  checkPixelLimit('LZ4', width, height, limits);
  const rowBytes = width * bpp;
  const raw = new Uint8Array(rowBytes * height);
  let pos = 2;
  let o = 0;
  do {
    if (pos + 4 > data.length) throw bad(`truncated block length at byte ${pos}`);
    const size = data.readUInt32BE(pos);
    pos += 4;
    if (size > data.length - pos)
      throw bad(`a block of ${size} bytes at byte ${pos}, the payload has ${data.length - pos} left`);
    const written = decodeBlock(data, pos, pos + size, raw, o);
    if (written === o) throw bad(`an empty block at byte ${pos - 4}`);
    o = written;
    pos += size;
  } while (pos < data.length);
  if (o !== raw.length) throw bad(`the blocks decode to ${o} bytes, a ${width}x${height} image has ${raw.length}`);
  return toPixels(raw, width, height, rowBytes, format, topDown);
}

/** One LZ4 block of `src[from, to)` appended to `out` at `o`; returns the new end of the output. */
function decodeBlock(src: Buffer, from: number, to: number, out: Uint8Array, o: number): number {
  const r = new BlockReader(src, from, to);
  const limit = out.length;
  for (;;) {
    if (r.p >= to) throw bad(`a block ends before its last sequence (byte ${r.p})`);
    const token = src[r.p++]!;
    const literals = r.length(token >>> 4, 'literal length');
    if (literals > to - r.p) throw bad(`${literals} literals at byte ${r.p}, the block has ${to - r.p} left`);
    if (literals > limit - o) throw bad(`${literals} literals overrun the image`);
    const p = r.p;
    if (literals < SHORT_COPY) for (let k = 0; k < literals; k++) out[o + k] = src[p + k]!;
    else out.set(src.subarray(p, p + literals), o);
    r.p += literals;
    o += literals;
    if (r.p === to) return o; // the last sequence: literals only
    if (r.p + 2 > to) throw bad('a block ends inside a match offset');
    const offset = src[r.p]! | (src[r.p + 1]! << 8);
    r.p += 2;
    if (offset === 0 || offset > o) throw bad(`match offset ${offset} at output byte ${o}`);
    const length = r.length(token & 15, 'match length') + 4;
    if (length > limit - o) throw bad(`a match of ${length} bytes overruns the image`);
    copyMatch(out, o, offset, length);
    o += length;
  }
}

/** The read position in a block, and its length fields. */
class BlockReader {
  constructor(
    private readonly src: Buffer,
    public p: number,
    private readonly to: number,
  ) {}

  /** A token's 4-bit length; at 15, the bytes that follow are added until one is below 255. */
  length(nibble: number, what: string): number {
    let n = nibble;
    if (nibble !== 15) return n;
    let b: number;
    do {
      if (this.p >= this.to) throw bad(`a block ends inside a ${what}`);
      b = this.src[this.p++]!;
      n += b;
    } while (b === 255);
    return n;
  }
}

/** out[o, o + length) = the bytes from `offset` back, repeating them where the two overlap. */
function copyMatch(out: Uint8Array, o: number, offset: number, length: number): void {
  if (length < SHORT_COPY) {
    for (let k = 0; k < length; k++) out[o + k] = out[o - offset + k]!;
    return;
  }
  if (offset >= length) {
    out.copyWithin(o, o - offset, o - offset + length);
    return;
  }
  // A run: copy the pattern once, then double what is written until the match is complete.
  out.copyWithin(o, o - offset, o);
  let done = offset;
  while (done < length) {
    const chunk = Math.min(done, length - done);
    out.copyWithin(o + done, o, o + chunk);
    done += chunk;
  }
}

/** Rows of `bpp`-byte pixels to top-down BGRX words (X = 0, or the alpha of RGBA). */
function toPixels(
  raw: Uint8Array,
  width: number,
  height: number,
  rowBytes: number,
  format: number,
  topDown: boolean,
): PixelImage {
  const words = new Uint32Array(width * height);
  for (let y = 0; y < height; y++) {
    let i = (topDown ? y : height - 1 - y) * rowBytes;
    let o = y * width;
    if (format === BitmapFormat.Bit24) {
      for (let x = 0; x < width; x++, i += 3) words[o++] = raw[i]! | (raw[i + 1]! << 8) | (raw[i + 2]! << 16);
    } else {
      const alpha = format === BitmapFormat.Rgba;
      for (let x = 0; x < width; x++, i += 4) {
        const v = raw[i]! | (raw[i + 1]! << 8) | (raw[i + 2]! << 16);
        words[o++] = alpha ? (v | (raw[i + 3]! << 24)) >>> 0 : v;
      }
    }
  }
  const bytes = Buffer.from(words.buffer, words.byteOffset, words.byteLength);
  if (!HOST_IS_LE) bytes.swap32(); // the words hold 0xAARRGGBB values; memory must be B,G,R,A
  return { width, height, stride: width * 4, data: bytes };
}
