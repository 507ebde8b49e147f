/**
 * SPICE LZ encoder: the payload of an LZ_RGB image (SpiceImage type 101, `data_size` = stream length).
 *
 * Wire layout (spice-common lz.c / lz_compress_tmpl.c semantics):
 *
 *   header, seven BIG-endian u32 words (28 bytes):
 *     magic 0x20205A4C | version 0x00010001 | LzImageType | width | height | stride | top_down
 *     stride must be width * 4 for RGB32/RGBA (decoders ignore it, but keep it honest);
 *     top_down = 1: the first encoded row is the top row, 0: the bottom row.
 *   body, commands until exactly width * height pixels are produced (no overrun, no trailing byte:
 *   spice-gtk asserts on both and aborts the client process):
 *     literal run   c < 32          : c + 1 pixels follow; RGB pixels are 3 bytes B,G,R, alpha 1 byte
 *     match         c >= 32         : copy L pixels from D pixels back (D = 1 repeats the previous one)
 *       lenField = c >> 5 (1..7); if 7, extension bytes follow and are added until one is < 255
 *       L = lenField + ext + bias - 1 with bias 1 for RGB32 and 3 for the alpha pass
 *       o = D - 1; near (o <= 8190): low 5 bits of c = o >> 8, then byte o & 0xFF (after the ext bytes)
 *                  far (8191 <= o <= 8191 + 65535): low 5 bits = 31, byte 0xFF, then BE u16 (o - 8191)
 *   RGBA (type 9) = an RGB32 body over all pixels followed by an alpha-pass body over all pixels.
 *
 * The encoder is a greedy LZ77: a run check against the previous pixel, then a hash of the next three
 * pixels looked up in a table of their most recent position. Everything works on a packed Uint32Array
 * of masked pixel values so that a comparison is one integer compare (the X byte never takes part).
 */
import { HOST_IS_LE } from './host-endian.js';
import { pixelWords, type PixelImage } from './pixels.js';

export const LZ_MAGIC = 0x20205a4c;
export const LZ_VERSION = 0x00010001;
export const LZ_HEADER_SIZE = 28;
/** LzImageType values (spice-common lz_common.h). */
export const LzImageType = { Rgb16: 6, Rgb24: 7, Rgb32: 8, Rgba: 9, Xxxa: 10, A8: 11 } as const;
/** A literal run carries at most 32 pixels (control bytes 0..31). */
const LZ_MAX_LITERALS = 32;
/** Largest o = D - 1 of the two-byte (near) distance form; o = 8191 would collide with the far marker. */
export const LZ_MAX_NEAR_OFFSET = 8190;
/** Largest o = D - 1 the far form can carry (8191 + a 16-bit value). */
export const LZ_MAX_FAR_OFFSET = 8191 + 65535;

export interface LzEncodeOptions {
  /** 'rgb32' (default) ignores the X byte; 'rgba' also sends it as alpha (LZ type 9). */
  type?: 'rgb32' | 'rgba';
  /** Default true. false encodes the bottom row first (header top_down = 0). */
  topDown?: boolean;
}

/** How one pass (RGB or alpha) writes its pixels and lengths. */
interface PassFormat {
  /** Bytes per literal pixel: 3 (B,G,R) or 1 (alpha). */
  readonly bytesPerPixel: 3 | 1;
  /** lenField = L - lengthBias (the wire bias minus one): 0 for RGB32, 2 for alpha. */
  readonly lengthBias: number;
  /** Shortest far match worth sending: a far match costs 4 bytes plus a possible new literal control byte. */
  readonly minFarMatch: number;
}

const RGB_PASS: PassFormat = { bytesPerPixel: 3, lengthBias: 0, minFarMatch: 3 };
const ALPHA_PASS: PassFormat = { bytesPerPixel: 1, lengthBias: 2, minFarMatch: 5 };

/** Every match starts as three equal pixels (the hash window); alpha needs 3 anyway (bias 3). */
const MIN_MATCH = 3;
const MIN_HASH_BITS = 10;
const MAX_HASH_BITS = 16;

// Scratch space reused across calls: encodeLz is synchronous, so no two calls share it at once, and
// reusing it keeps a 60 fps encoder from allocating megabytes per frame.
let pixelScratch = new Uint32Array(0);
let outScratch = Buffer.alloc(0);
const hashTable = new Int32Array(1 << MAX_HASH_BITS);

export function encodeLz(img: PixelImage, opts: LzEncodeOptions = {}): Buffer {
  const type = opts.type ?? 'rgb32';
  if (type !== 'rgb32' && type !== 'rgba') throw new RangeError(`encodeLz: unknown type ${String(type)}`);
  const topDown = opts.topDown ?? true;
  checkImage(img);
  const n = img.width * img.height;
  const withAlpha = type === 'rgba';

  const capacity = LZ_HEADER_SIZE + passBound(n, RGB_PASS) + (withAlpha ? passBound(n, ALPHA_PASS) : 0);
  const out = ensureOutScratch(capacity);
  const lzType = withAlpha ? LzImageType.Rgba : LzImageType.Rgb32;
  let pos = writeHeader(out, lzType, img.width, img.height, img.width * 4, topDown);

  const px = ensurePixelScratch(n);
  gatherPixels(img, topDown, px, 0, 0xffffff);
  pos = compressPass(px, n, out, pos, RGB_PASS);
  if (withAlpha) {
    gatherPixels(img, topDown, px, 24, 0xff);
    pos = compressPass(px, n, out, pos, ALPHA_PASS);
  }
  // Typed-array writes past the end are dropped silently, so a bound violation shows up only here.
  if (pos > capacity) throw new Error(`encodeLz: internal error, wrote ${pos} bytes into ${capacity}`);
  return Buffer.from(out.subarray(0, pos));
}

/** Worst case of one pass: all literals, one control byte per 32 pixels, plus one spare byte. */
function passBound(n: number, fmt: PassFormat): number {
  return n * fmt.bytesPerPixel + Math.ceil(n / LZ_MAX_LITERALS) + 1;
}

function checkImage(img: PixelImage): void {
  const { width, height, stride, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`encodeLz: image must be at least 1x1, got ${width}x${height}`);
  }
  if (width > 0xffffffff / 4 || height > 0xffffffff)
    throw new RangeError(`encodeLz: ${width}x${height} does not fit the header`);
  if (!Number.isInteger(stride) || stride < width * 4)
    throw new RangeError(`encodeLz: stride ${stride} < 4 * width ${width}`);
  const needed = stride * (height - 1) + width * 4;
  if (data.length < needed)
    throw new RangeError(`encodeLz: ${data.length} data bytes, ${width}x${height} stride ${stride} needs ${needed}`);
}

function ensureOutScratch(size: number): Buffer {
  if (outScratch.length < size) outScratch = Buffer.allocUnsafe(size);
  return outScratch;
}

function ensurePixelScratch(n: number): Uint32Array {
  if (pixelScratch.length < n) pixelScratch = new Uint32Array(n);
  return pixelScratch;
}

function writeHeader(
  out: Buffer,
  type: number,
  width: number,
  height: number,
  stride: number,
  topDown: boolean,
): number {
  out.writeUInt32BE(LZ_MAGIC, 0);
  out.writeUInt32BE(LZ_VERSION, 4);
  out.writeUInt32BE(type, 8);
  out.writeUInt32BE(width, 12);
  out.writeUInt32BE(height, 16);
  out.writeUInt32BE(stride, 20);
  out.writeUInt32BE(topDown ? 1 : 0, 24);
  return LZ_HEADER_SIZE;
}

/**
 * Copy the image's pixels in stream order (row-packed, bottom row first when !topDown) as
 * `(pixel >>> shift) & mask`: RGB (shift 0, mask 0xFFFFFF) or alpha (shift 24, mask 0xFF).
 */
function gatherPixels(img: PixelImage, topDown: boolean, px: Uint32Array, shift: number, mask: number): void {
  const { width, height, stride, data } = img;
  const src = HOST_IS_LE ? pixelWords(img) : undefined;
  if (src) {
    const rowWords = stride / 4;
    for (let row = 0; row < height; row++) {
      const s = (topDown ? row : height - 1 - row) * rowWords;
      const d = row * width;
      for (let x = 0; x < width; x++) px[d + x] = (src[s + x] >>> shift) & mask;
    }
    return;
  }
  // Unaligned: byte loads (readUInt32LE's bounds checks per pixel cost several times more).
  for (let row = 0; row < height; row++) {
    const s = (topDown ? row : height - 1 - row) * stride;
    const d = row * width;
    for (let x = 0, o = s; x < width; x++, o += 4)
      px[d + x] = ((data[o]! | (data[o + 1]! << 8) | (data[o + 2]! << 16) | (data[o + 3]! << 24)) >>> shift) & mask;
  }
}

/** A table of about 2 slots per pixel (bounded), so small images do not pay for clearing 64K slots. */
function hashBitsFor(n: number): number {
  const bits = Math.ceil(Math.log2(n + 1)) + 1;
  return Math.min(MAX_HASH_BITS, Math.max(MIN_HASH_BITS, bits));
}

/** Greedy LZ77 over px[0..n); returns the new output position. */
function compressPass(px: Uint32Array, n: number, out: Buffer, pos: number, fmt: PassFormat): number {
  const hashBits = hashBitsFor(n);
  const shift = 32 - hashBits;
  // Slots hold position + 1 so that 0 means empty; clearing makes the output independent of earlier calls.
  hashTable.fill(0, 0, 1 << hashBits);
  const lastStart = n - MIN_MATCH; // a match needs MIN_MATCH pixels from its start
  let literalStart = 0;
  let i = 0;
  while (i <= lastStart) {
    const p = px[i];
    const p1 = px[i + 1];
    const p2 = px[i + 2];
    if (i > 0 && px[i - 1] === p && p1 === p && p2 === p) {
      // Run of the previous pixel: distance 1, as long as it lasts.
      let end = i + MIN_MATCH;
      while (end < n && px[end] === p) end++;
      pos = writeLiterals(px, literalStart, i, out, pos, fmt.bytesPerPixel);
      pos = writeMatch(out, pos, end - i - fmt.lengthBias, 0);
      i = end;
      literalStart = i;
      continue;
    }
    const h = (Math.imul(p, 0x9e3779b1) ^ Math.imul(p1, 0x85ebca77) ^ Math.imul(p2, 0xc2b2ae3d)) >>> shift;
    const ref = hashTable[h] - 1;
    hashTable[h] = i + 1;
    if (ref >= 0 && i - ref - 1 <= LZ_MAX_FAR_OFFSET && px[ref] === p && px[ref + 1] === p1 && px[ref + 2] === p2) {
      let len = MIN_MATCH;
      while (i + len < n && px[ref + len] === px[i + len]) len++;
      const offset = i - ref - 1;
      if (offset <= LZ_MAX_NEAR_OFFSET || len >= fmt.minFarMatch) {
        pos = writeLiterals(px, literalStart, i, out, pos, fmt.bytesPerPixel);
        pos = writeMatch(out, pos, len - fmt.lengthBias, offset);
        i += len;
        literalStart = i;
        continue;
      }
    }
    i++;
  }
  return writeLiterals(px, literalStart, n, out, pos, fmt.bytesPerPixel);
}

/** Literal runs of at most 32 pixels for px[from..to). */
function writeLiterals(
  px: Uint32Array,
  from: number,
  to: number,
  out: Buffer,
  pos: number,
  bytesPerPixel: 3 | 1,
): number {
  while (from < to) {
    const end = Math.min(to, from + LZ_MAX_LITERALS);
    out[pos++] = end - from - 1;
    if (bytesPerPixel === 3) {
      for (; from < end; from++) {
        const v = px[from];
        out[pos] = v; // typed-array stores keep the low 8 bits: B
        out[pos + 1] = v >>> 8; // G
        out[pos + 2] = v >>> 16; // R
        pos += 3;
      }
    } else {
      for (; from < end; from++) out[pos++] = px[from];
    }
  }
  return pos;
}

/** A match command; lenField is L minus the pass's bias (>= 1), offset is D - 1. */
function writeMatch(out: Buffer, pos: number, lenField: number, offset: number): number {
  const near = offset <= LZ_MAX_NEAR_OFFSET;
  const low5 = near ? offset >>> 8 : 31;
  if (lenField < 7) {
    out[pos++] = (lenField << 5) | low5;
  } else {
    out[pos++] = (7 << 5) | low5;
    let rest = lenField - 7;
    for (; rest >= 255; rest -= 255) out[pos++] = 255;
    out[pos++] = rest; // the terminating byte, < 255 and possibly 0
  }
  if (near) {
    out[pos++] = offset & 0xff;
  } else {
    const far = offset - (LZ_MAX_NEAR_OFFSET + 1);
    out[pos++] = 0xff;
    out[pos++] = far >>> 8;
    out[pos++] = far & 0xff;
  }
  return pos;
}
