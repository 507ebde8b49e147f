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
  // A plain view: indexing a Buffer subclass (the browser's `buffer` shim) and its subarray() cost more.
  const src = new Uint8Array(data.buffer, data.byteOffset, data.length);
  const rowBytes = width * bpp;
  const size = rowBytes * height;
  // Rounded up to whole words, so that 24-bit pixels are read a word at a time (toPixels).
  const raw = rawBuffer((size + 3) & ~3);
  let pos = 2;
  let o = 0;
  do {
    if (pos + 4 > src.length) throw bad(`truncated block length at byte ${pos}`);
    const blockSize = ((src[pos]! << 24) | (src[pos + 1]! << 16) | (src[pos + 2]! << 8) | src[pos + 3]!) >>> 0;
    pos += 4;
    if (blockSize > src.length - pos)
      throw bad(`a block of ${blockSize} bytes at byte ${pos}, the payload has ${src.length - pos} left`);
    const written = decodeBlock(src, pos, pos + blockSize, raw, o, size);
    if (written === o) throw bad(`an empty block at byte ${pos - 4}`);
    o = written;
    pos += blockSize;
  } while (pos < src.length);
  if (o !== size) throw bad(`the blocks decode to ${o} bytes, a ${width}x${height} image has ${size}`);
  return toPixels(raw, width, height, format, topDown);
}

/**
 * The decoded bytes before they become pixels (toPixels copies them out): up to RAW_SCRATCH_BYTES
 * they go into one buffer kept for the next image, so that the web viewer's bands of a photo (six
 * of 384 kB) do not each leave one for the garbage collector. Stale bytes in it are never read: a
 * match may only reach bytes this image already wrote (decodeBlock checks the offset).
 */
const RAW_SCRATCH_BYTES = 1 << 20;
let rawScratch: Uint8Array | undefined;

function rawBuffer(bytes: number): Uint8Array {
  if (bytes > RAW_SCRATCH_BYTES) return new Uint8Array(bytes);
  rawScratch ??= new Uint8Array(RAW_SCRATCH_BYTES);
  return rawScratch.subarray(0, bytes);
}

/**
 * One LZ4 block of `src[from, to)` appended to `out` at `o`, never past `limit`; returns the new
 * end of the output. One loop with its positions in locals: a photo is some 200,000 sequences of a
 * few literals and a 6-byte match, so what a sequence costs besides its bytes is most of the time.
 */
function decodeBlock(src: Uint8Array, from: number, to: number, out: Uint8Array, o: number, limit: number): number {
  let p = from;
  for (;;) {
    if (p >= to) throw bad(`a block ends before its last sequence (byte ${p})`);
    const token = src[p++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (p >= to) throw bad('a block ends inside a literal length');
        b = src[p++]!;
        literals += b;
      } while (b === 255);
    }
    if (literals > to - p) throw bad(`${literals} literals at byte ${p}, the block has ${to - p} left`);
    if (literals > limit - o) throw bad(`${literals} literals overrun the image`);
    if (literals < SHORT_COPY) {
      for (const end = p + literals; p < end;) out[o++] = src[p++]!;
    } else {
      out.set(src.subarray(p, p + literals), o);
      p += literals;
      o += literals;
    }
    if (p === to) return o; // the last sequence: literals only
    if (p + 2 > to) throw bad('a block ends inside a match offset');
    const offset = src[p]! | (src[p + 1]! << 8);
    p += 2;
    if (offset === 0 || offset > o) throw bad(`match offset ${offset} at output byte ${o}`);
    let length = token & 15;
    if (length === 15) {
      let b: number;
      do {
        if (p >= to) throw bad('a block ends inside a match length');
        b = src[p++]!;
        length += b;
      } while (b === 255);
    }
    length += 4;
    if (length > limit - o) throw bad(`a match of ${length} bytes overruns the image`);
    if (length < SHORT_COPY || offset < length) {
      // Byte by byte: short, or overlapping (a run repeats the `offset` bytes before it).
      for (let s = o - offset, end = o + length; o < end;) out[o++] = out[s++]!;
    } else {
      out.copyWithin(o, o - offset, o - offset + length);
      o += length;
    }
  }
}

/** Rows of packed pixels to top-down BGRX words (X = 0, or the alpha of RGBA). */
function toPixels(raw: Uint8Array, width: number, height: number, format: number, topDown: boolean): PixelImage {
  const words = new Uint32Array(width * height);
  if (format === BitmapFormat.Bit24 && topDown && HOST_IS_LE) packed24ToWords(raw, words);
  else {
    const bpp = format === BitmapFormat.Bit24 ? 3 : 4;
    const alpha = format === BitmapFormat.Rgba;
    for (let y = 0; y < height; y++)
      rowToWords(raw, (topDown ? y : height - 1 - y) * width * bpp, words, y * width, width, bpp, alpha);
  }
  const bytes = Buffer.from(words.buffer, words.byteOffset, words.byteLength);
  if (!HOST_IS_LE) bytes.swap32(); // the words hold 0xAARRGGBB values; memory must be B,G,R,A
  return { width, height, stride: width * 4, data: bytes };
}

/**
 * Top-down 24-bit pixels, rows packed back to back, to words on a little-endian host: four pixels
 * from three word reads (B0 G0 R0 B1 | G1 R1 B2 G2 | R2 B3 G3 R3) instead of twelve byte reads.
 * `raw` is padded to whole words.
 */
function packed24ToWords(raw: Uint8Array, words: Uint32Array): void {
  const n = words.length;
  const r = new Uint32Array(raw.buffer, raw.byteOffset, raw.length >> 2);
  let k = 0;
  for (let j = 0; k + 4 <= n; k += 4, j += 3) {
    const a = r[j]!;
    const b = r[j + 1]!;
    const c = r[j + 2]!;
    words[k] = a & 0xffffff;
    words[k + 1] = (a >>> 24) | ((b & 0xffff) << 8);
    words[k + 2] = (b >>> 16) | ((c & 0xff) << 16);
    words[k + 3] = c >>> 8;
  }
  rowToWords(raw, k * 3, words, k, n - k, 3, false);
}

/** `count` pixels of `bpp` bytes from raw[i] to words[o] (the X byte 0, or the alpha when `alpha`). */
function rowToWords(
  raw: Uint8Array,
  i: number,
  words: Uint32Array,
  o: number,
  count: number,
  bpp: number,
  alpha: boolean,
): void {
  for (const end = o + count; o < end; o++, i += bpp) {
    const v = raw[i]! | (raw[i + 1]! << 8) | (raw[i + 2]! << 16);
    words[o] = alpha ? (v | (raw[i + 3]! << 24)) >>> 0 : v;
  }
}
