/**
 * SPICE LZ decoder (LZ_RGB payloads): RGB16, RGB24, RGB32, RGBA and XXXA streams to BGRX pixels.
 *
 * The wire layout is described at the top of lz.ts. This decoder is as strict as spice-gtk, whose
 * spice_asserts abort the client: it rejects a command that would run past width*height pixels, a
 * match reaching before the first pixel, a stream that ends early, and any byte after the last pixel.
 * The header's stride is not checked for RGB types: spice-common's decoder does not read it either.
 */
import { HOST_IS_LE } from './host-endian.js';
import { ProtocolError } from '../protocol/errors.js';
import type { PixelImage } from './pixels.js';
import { checkPixelLimit, type ImageDecodeLimits } from './decode-limits.js';
import { LZ_HEADER_SIZE, LZ_MAGIC, LZ_VERSION, LzImageType } from './lz.js';

export interface LzDecoded {
  /** LzImageType from the header. */
  type: number;
  width: number;
  height: number;
  /** The header flag; `image` is always top-down. */
  topDown: boolean;
  /** Tightly packed BGRX; the 4th byte is alpha for RGBA/XXXA and 0 otherwise. */
  image: PixelImage;
}

/** What one pass stores per literal pixel and how it copies matches. */
const PassKind = {
  /** 3 bytes B,G,R per literal, bias 1 (RGB24 and RGB32 share this stream format). */
  Rgb: 0,
  /** 2 bytes per literal, high byte first, x-r5-g5-b5; bias 2. */
  Rgb16: 1,
  /** 1 byte per literal into the 4th byte, matches copy only that byte; bias 3. */
  Alpha: 2,
} as const;
type PassKind = (typeof PassKind)[keyof typeof PassKind];

function bad(message: string): ProtocolError {
  return new ProtocolError('BAD_IMAGE', `LZ: ${message}`);
}

export function decodeLz(data: Buffer, limits?: ImageDecodeLimits): LzDecoded {
  if (data.length < LZ_HEADER_SIZE) throw bad(`truncated header: ${data.length} bytes, need ${LZ_HEADER_SIZE}`);
  const magic = data.readUInt32BE(0);
  if (magic !== LZ_MAGIC) throw bad(`bad magic 0x${magic.toString(16)}, expected 0x${LZ_MAGIC.toString(16)}`);
  const version = data.readUInt32BE(4);
  if (version !== LZ_VERSION)
    throw bad(`unsupported version 0x${version.toString(16)}, expected 0x${LZ_VERSION.toString(16)}`);
  const type = data.readUInt32BE(8);
  const width = data.readUInt32BE(12);
  const height = data.readUInt32BE(16);
  const topDown = data.readUInt32BE(24) !== 0;
  const passes = passesFor(type);
  const n = width * height;
  if (n === 0) throw bad(`empty image ${width}x${height}`);
  checkPlausibleSize(n, data.length - LZ_HEADER_SIZE, passes.length);
  checkPixelLimit('LZ', width, height, limits);

  const pixels = new Uint32Array(n);
  let pos = LZ_HEADER_SIZE;
  for (const kind of passes) pos = decodePass(data, pos, pixels, kind);
  if (pos !== data.length) throw bad(`${data.length - pos} trailing byte(s) after the last pixel (at offset ${pos})`);

  if (!topDown) flipRows(pixels, width, height);
  const bytes = Buffer.from(pixels.buffer, pixels.byteOffset, n * 4);
  if (!HOST_IS_LE) bytes.swap32(); // the Uint32Array holds 0xAARRGGBB values; memory must be B,G,R,A
  return { type, width, height, topDown, image: { width, height, stride: width * 4, data: bytes } };
}

function passesFor(type: number): PassKind[] {
  switch (type) {
    case LzImageType.Rgb32:
    case LzImageType.Rgb24:
      return [PassKind.Rgb];
    case LzImageType.Rgba:
      return [PassKind.Rgb, PassKind.Alpha];
    case LzImageType.Xxxa:
      return [PassKind.Alpha];
    case LzImageType.Rgb16:
      return [PassKind.Rgb16];
    default:
      throw bad(`unsupported image type ${type} (supported: 6 RGB16, 7 RGB24, 8 RGB32, 9 RGBA, 10 XXXA)`);
  }
}

/**
 * Refuse to allocate for a header whose pixel count no body of this size could produce: a command of
 * k bytes yields fewer than 255 * k pixels (the longest is a match made of length-extension bytes).
 */
function checkPlausibleSize(n: number, bodyBytes: number, passCount: number): void {
  if (n * passCount > bodyBytes * 255)
    throw bad(`truncated: ${bodyBytes} body bytes cannot encode ${passCount} pass(es) of ${n} pixels`);
}

function lengthBias(kind: PassKind): number {
  // lenField + ext + (wire bias - 1)
  return kind === PassKind.Rgb ? 0 : kind === PassKind.Rgb16 ? 1 : 2;
}

/** Decode one pass filling out[0..n); returns the offset of the first byte after it. */
function decodePass(src: Buffer, pos: number, out: Uint32Array, kind: PassKind): number {
  const n = out.length;
  const end = src.length;
  const bias = lengthBias(kind);
  let op = 0;
  while (op < n) {
    if (pos >= end) throw bad(`truncated at pixel ${op} of ${n}: no control byte at offset ${pos}`);
    const ctrl = src[pos++];
    if (ctrl < 32) {
      const count = ctrl + 1;
      if (op + count > n) throw bad(`literal run of ${count} at pixel ${op} overruns the ${n}-pixel image`);
      pos = readLiterals(src, pos, out, op, count, kind);
      op += count;
      continue;
    }
    let len = ctrl >>> 5;
    if (len === 7) {
      let code: number;
      do {
        if (pos >= end) throw bad(`truncated in the length extension of the match at pixel ${op}`);
        code = src[pos++];
        len += code;
      } while (code === 255);
    }
    len += bias;
    if (pos >= end) throw bad(`truncated: missing distance byte of the match at pixel ${op}`);
    let offset = ((ctrl & 31) << 8) | src[pos++];
    if (offset === 0x1fff) {
      if (pos + 2 > end) throw bad(`truncated: missing far distance of the match at pixel ${op}`);
      offset = 8191 + ((src[pos] << 8) | src[pos + 1]);
      pos += 2;
    }
    const distance = offset + 1;
    if (distance > op) throw bad(`match at pixel ${op} reaches ${distance} pixels back, before the first pixel`);
    if (op + len > n) throw bad(`match of ${len} at pixel ${op} overruns the ${n}-pixel image`);
    copyMatch(out, op, distance, len, kind);
    op += len;
  }
  return pos;
}

function readLiterals(src: Buffer, pos: number, out: Uint32Array, op: number, count: number, kind: PassKind): number {
  const bytesPerPixel = kind === PassKind.Rgb ? 3 : kind === PassKind.Rgb16 ? 2 : 1;
  if (pos + count * bytesPerPixel > src.length) throw bad(`truncated in a literal run of ${count} at pixel ${op}`);
  const stop = op + count;
  if (kind === PassKind.Rgb) {
    for (; op < stop; op++, pos += 3) out[op] = src[pos] | (src[pos + 1] << 8) | (src[pos + 2] << 16);
  } else if (kind === PassKind.Rgb16) {
    for (; op < stop; op++, pos += 2) out[op] = expandRgb555((src[pos] << 8) | src[pos + 1]);
  } else {
    for (; op < stop; op++, pos++) out[op] = (out[op] & 0xffffff) | (src[pos] << 24);
  }
  return pos;
}

/** x-r5-g5-b5 to 0x00RRGGBB, widening each channel as spice-common does (c << 3 | c >> 2). */
function expandRgb555(v: number): number {
  const r = (v >>> 10) & 31;
  const g = (v >>> 5) & 31;
  const b = v & 31;
  return (((r << 3) | (r >>> 2)) << 16) | (((g << 3) | (g >>> 2)) << 8) | ((b << 3) | (b >>> 2));
}

/** Forward copy, pixel by pixel semantics (overlap allowed); the alpha pass copies only the 4th byte. */
function copyMatch(out: Uint32Array, op: number, distance: number, len: number, kind: PassKind): void {
  let ref = op - distance;
  const stop = op + len;
  if (kind === PassKind.Alpha) {
    for (; op < stop; op++, ref++) out[op] = (out[op] & 0xffffff) | (out[ref] & 0xff000000);
  } else if (distance === 1) {
    out.fill(out[ref], op, stop);
  } else if (distance >= len) {
    out.copyWithin(op, ref, ref + len);
  } else {
    for (; op < stop; op++, ref++) out[op] = out[ref];
  }
}

function flipRows(pixels: Uint32Array, width: number, height: number): void {
  const tmp = new Uint32Array(width);
  for (let top = 0, bottom = height - 1; top < bottom; top++, bottom--) {
    const a = top * width;
    const b = bottom * width;
    tmp.set(pixels.subarray(a, a + width));
    pixels.copyWithin(a, b, b + width);
    pixels.set(tmp, b);
  }
}
