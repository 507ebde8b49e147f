import { BitmapFlags, BitmapFormat, ImageFlags, ImageType } from '../protocol/constants.js';
import type { SpiceImage } from '../protocol/image.js';
import { decodeLz } from '../display/lz-decode.js';
import { decodeLz4 } from '../display/lz4-decode.js';
import { decodeQuic } from '../display/quic-decode.js';
import { allocImage, type PixelImage } from '../display/pixels.js';
import { checkPixelLimit, type ImageDecodeLimits } from '../display/decode-limits.js';
import { ProtocolError } from '../protocol/errors.js';
import { decode as decodeJpegRgba } from 'jpeg-js';

/** Images a client keeps because the server flagged them CACHE_ME (id -> pixels). */
export type ImageCache = Map<bigint, PixelImage>;

/** What the server sent and this client cannot draw: a peer's fault, so a ProtocolError. */
function bad(message: string): ProtocolError {
  return new ProtocolError('BAD_IMAGE', message);
}

/**
 * Decode a SpiceImage the way a viewer would, into 32-bit BGRX pixels; `limits` caps the size of
 * a decoded image (the caller passes what its target surface can show). `decoded` is the pixels
 * of a compressed image that were decoded elsewhere (the browser viewer's worker, by
 * decodeCompressedImage): they are checked against the descriptor and cached as if decoded here.
 */
export function decodeClientImage(
  img: SpiceImage,
  cache: ImageCache,
  surfaces: (id: number) => PixelImage | undefined,
  limits?: ImageDecodeLimits,
  decoded?: PixelImage,
): PixelImage {
  const d = img.descriptor;
  let out: PixelImage;
  switch (img.kind) {
    case 'bitmap':
      checkPixelLimit('bitmap', img.width, img.height, limits);
      out = decodeBitmap(
        img.format,
        img.bitmapFlags,
        img.width,
        img.height,
        img.stride,
        img.data,
        img.palette?.entries,
      );
      break;
    case 'binary':
      out = decoded ?? decodeCompressedImage(d, img.data, limits);
      break;
    case 'jpegAlpha':
      // spice-server's lossy images with an alpha channel (its WAN JPEG): the colour is a JPEG, the
      // alpha an LZ plane after it. This client's surfaces are xRGB (the alpha byte never shows), so
      // the colour is all it draws.
      checkPixelLimit('jpeg', d.width, d.height, limits);
      if (img.jpegSize > img.data.length)
        throw bad(`JPEG_ALPHA image: ${img.jpegSize} bytes of JPEG in ${img.data.length}`);
      out = decodeJpeg(img.data.subarray(0, img.jpegSize), d.width * d.height);
      break;
    case 'fromCache': {
      const cached = cache.get(d.id);
      if (!cached) throw bad(`image ${d.id} is not in the cache`);
      return cached;
    }
    case 'surface': {
      const s = surfaces(img.surfaceId);
      if (!s) throw bad(`image from unknown surface ${img.surfaceId}`);
      return s;
    }
    default:
      throw bad(`image kind ${img.kind} is not decoded by this client`);
  }
  if (out.width !== d.width || out.height !== d.height) {
    throw bad(`image ${d.id}: decoded ${out.width}x${out.height}, descriptor says ${d.width}x${d.height}`);
  }
  if (d.flags & ImageFlags.CacheMe) cache.set(d.id, out);
  return out;
}

/** What a compressed image's pixels need besides its bytes: its type and size (the descriptor's). */
export interface CompressedImageShape {
  type: number;
  width: number;
  height: number;
}

/**
 * The pixels of a compressed image (LZ_RGB, QUIC, LZ4, JPEG): the part of decodeClientImage that
 * needs nothing but the bytes, so that it can run where the cache and surfaces are not (a worker).
 */
export function decodeCompressedImage(
  d: CompressedImageShape,
  data: Buffer,
  limits: ImageDecodeLimits | undefined,
): PixelImage {
  if (d.type === ImageType.LzRgb) return decodeLz(data, limits).image;
  if (d.type === ImageType.Quic) return decodeQuic(data, limits).image;
  if (d.type === ImageType.Lz4) return decodeLz4(data, d.width, d.height, limits);
  if (d.type === ImageType.Jpeg) {
    checkPixelLimit('jpeg', d.width, d.height, limits);
    return decodeJpeg(data, d.width * d.height);
  }
  throw bad(`image type ${d.type} is not decoded by this client`);
}

/**
 * A JPEG image (lossy images on thin links) into BGRX, synchronously like the other codecs: jpeg-js
 * (pure JavaScript, so the browser viewer shares it). Its own limits refuse a JPEG whose header
 * claims more pixels than the descriptor, before anything that size is allocated.
 */
function decodeJpeg(data: Buffer, pixels: number): PixelImage {
  let rgba: { width: number; height: number; data: Uint8Array };
  try {
    rgba = decodeJpegRgba(data, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: pixels / 1e6 + 0.01 });
  } catch (err) {
    throw bad(`JPEG image: ${err instanceof Error ? err.message : String(err)}`);
  }
  const out = allocImage(rgba.width, rgba.height);
  const src = rgba.data;
  for (let i = 0; i < rgba.width * rgba.height; i++) {
    out.data[4 * i] = src[4 * i + 2]!;
    out.data[4 * i + 1] = src[4 * i + 1]!;
    out.data[4 * i + 2] = src[4 * i]!;
  }
  return out;
}

const DECODED_FORMATS: readonly number[] = [
  BitmapFormat.Bit32,
  BitmapFormat.Rgba,
  BitmapFormat.Bit24,
  BitmapFormat.Bit16,
  BitmapFormat.Bit8,
];

function decodeBitmap(
  format: number,
  flags: number,
  width: number,
  height: number,
  stride: number,
  data: Buffer,
  palette: Uint32Array | undefined,
): PixelImage {
  // Before the allocation: a 1-bit bitmap's data backs 32 times fewer bytes than its pixels take.
  if (!DECODED_FORMATS.includes(format)) throw bad(`bitmap format ${format} is not decoded by this client`);
  const out = allocImage(width, height);
  const topDown = (flags & BitmapFlags.TopDown) !== 0;
  for (let y = 0; y < height; y++) {
    const row = data.subarray((topDown ? y : height - 1 - y) * stride);
    for (let x = 0; x < width; x++) out.data.writeUInt32LE(pixelOf(format, row, x, palette), (y * width + x) * 4);
  }
  return out;
}

function pixelOf(format: number, row: Buffer, x: number, palette: Uint32Array | undefined): number {
  switch (format) {
    case BitmapFormat.Bit32:
      return row.readUInt32LE(4 * x) & 0xffffff;
    case BitmapFormat.Rgba:
      return row.readUInt32LE(4 * x) >>> 0;
    case BitmapFormat.Bit24:
      return row[3 * x]! | (row[3 * x + 1]! << 8) | (row[3 * x + 2]! << 16);
    case BitmapFormat.Bit16: {
      const v = row.readUInt16LE(2 * x);
      const c5 = (c: number): number => (c << 3) | (c >> 2);
      return (c5((v >> 10) & 31) << 16) | (c5((v >> 5) & 31) << 8) | c5(v & 31);
    }
    case BitmapFormat.Bit8:
      return (palette?.[row[x]!] ?? 0) & 0xffffff;
    default:
      throw bad(`bitmap format ${format} is not decoded by this client`);
  }
}
