import { BitmapFlags, ImageType } from './constants.js';
import { ProtocolError } from './errors.js';
import { Reader } from './reader.js';

/*
 * SpiceImage (docs/protocol.md, Images): an 18-byte descriptor
 *   u64 id | u8 type | u8 flags | u32 width | u32 height
 * followed by the part for its type. Pointers (palette) are offsets from the message body start.
 */

export const IMAGE_DESCRIPTOR_SIZE = 18;

export interface ImageDescriptor {
  id: bigint;
  type: number;
  flags: number;
  width: number;
  height: number;
}

export interface Palette {
  unique: bigint;
  entries: Uint32Array;
}

export type SpiceImage =
  | {
      kind: 'bitmap';
      descriptor: ImageDescriptor;
      /** u8 format | u8 flags | u32 x | u32 y | u32 stride | (u64 palette_id | u32 palette ptr) | data */
      format: number;
      bitmapFlags: number;
      width: number;
      height: number;
      stride: number;
      palette: Palette | null;
      paletteId: bigint | null;
      data: Buffer;
    }
  /** QUIC, LZ_RGB, GLZ_RGB, JPEG, LZ4: u32 data_size | data */
  | { kind: 'binary'; descriptor: ImageDescriptor; data: Buffer }
  /** LZ_PLT: u8 flags | u32 data_size | (u64 palette_id | u32 palette ptr) | data */
  | {
      kind: 'lzPlt';
      descriptor: ImageDescriptor;
      bitmapFlags: number;
      palette: Palette | null;
      paletteId: bigint | null;
      data: Buffer;
    }
  /** ZLIB_GLZ_RGB: u32 glz_data_size | u32 data_size | data */
  | { kind: 'zlibGlz'; descriptor: ImageDescriptor; glzDataSize: number; data: Buffer }
  /** JPEG_ALPHA: u8 flags | u32 jpeg_size | u32 data_size | data */
  | { kind: 'jpegAlpha'; descriptor: ImageDescriptor; alphaFlags: number; jpegSize: number; data: Buffer }
  /** SURFACE: u32 surface_id */
  | { kind: 'surface'; descriptor: ImageDescriptor; surfaceId: number }
  /** FROM_CACHE, FROM_CACHE_LOSSLESS: descriptor only */
  | { kind: 'fromCache'; descriptor: ImageDescriptor };

export function encodeImageDescriptor(b: Buffer, at: number, d: ImageDescriptor): void {
  b.writeBigUInt64LE(d.id, at);
  b[at + 8] = d.type;
  b[at + 9] = d.flags;
  b.writeUInt32LE(d.width, at + 10);
  b.writeUInt32LE(d.height, at + 14);
}

/**
 * LZ_RGB / LZ4 / JPEG / QUIC image: descriptor + u32 data_size, followed by `data` as its own iovec.
 */
export function encodeBinaryImage(d: ImageDescriptor, data: Buffer): Buffer[] {
  const head = Buffer.allocUnsafe(IMAGE_DESCRIPTOR_SIZE + 4);
  encodeImageDescriptor(head, 0, d);
  head.writeUInt32LE(data.length, IMAGE_DESCRIPTOR_SIZE);
  return [head, data];
}

export function encodeFromCacheImage(d: ImageDescriptor): Buffer[] {
  const b = Buffer.allocUnsafe(IMAGE_DESCRIPTOR_SIZE);
  encodeImageDescriptor(b, 0, d);
  return [b];
}

function readPalette(body: Buffer, ptr: number): Palette {
  const r = new Reader(body, ptr);
  const unique = r.u64();
  const n = r.u16();
  const raw = r.bytes(4 * n);
  const entries = new Uint32Array(n);
  for (let i = 0; i < n; i++) entries[i] = raw.readUInt32LE(4 * i);
  return { unique, entries };
}

/** Bytes per row needed by a bitmap format, for bounds checks. */
function bitmapRowBytes(format: number, width: number): number {
  switch (format) {
    case 1:
    case 2:
      return Math.ceil(width / 8);
    case 3:
    case 4:
      return Math.ceil(width / 2);
    case 5:
    case 10:
      return width;
    case 6:
      return width * 2;
    case 7:
      return width * 3;
    case 8:
    case 9:
      return width * 4;
    default:
      throw new ProtocolError('BAD_IMAGE', `unknown bitmap format ${format}`);
  }
}

/** Decode the SpiceImage at byte offset `ptr` of a message body. */
export function decodeImage(body: Buffer, ptr: number): SpiceImage {
  const r = new Reader(body, ptr);
  const descriptor: ImageDescriptor = { id: r.u64(), type: r.u8(), flags: r.u8(), width: r.u32(), height: r.u32() };
  switch (descriptor.type) {
    case ImageType.Bitmap: {
      const format = r.u8();
      const bitmapFlags = r.u8();
      const width = r.u32();
      const height = r.u32();
      const stride = r.u32();
      let palette: Palette | null = null;
      let paletteId: bigint | null = null;
      if (bitmapFlags & BitmapFlags.PalFromCache) paletteId = r.u64();
      else {
        const pptr = r.u32();
        if (pptr !== 0) palette = readPalette(body, pptr);
      }
      if (stride < bitmapRowBytes(format, width)) {
        throw new ProtocolError('BAD_IMAGE', `bitmap stride ${stride} too small for ${width} pixels`);
      }
      const data = r.bytes(stride * height);
      return { kind: 'bitmap', descriptor, format, bitmapFlags, width, height, stride, palette, paletteId, data };
    }
    case ImageType.Quic:
    case ImageType.LzRgb:
    case ImageType.GlzRgb:
    case ImageType.Jpeg:
    case ImageType.Lz4: {
      const size = r.u32();
      return { kind: 'binary', descriptor, data: r.bytes(size) };
    }
    case ImageType.LzPlt: {
      const bitmapFlags = r.u8();
      const size = r.u32();
      let palette: Palette | null = null;
      let paletteId: bigint | null = null;
      if (bitmapFlags & BitmapFlags.PalFromCache) paletteId = r.u64();
      else palette = readPalette(body, r.u32());
      return { kind: 'lzPlt', descriptor, bitmapFlags, palette, paletteId, data: r.bytes(size) };
    }
    case ImageType.ZlibGlzRgb: {
      const glzDataSize = r.u32();
      const size = r.u32();
      return { kind: 'zlibGlz', descriptor, glzDataSize, data: r.bytes(size) };
    }
    case ImageType.JpegAlpha: {
      const alphaFlags = r.u8();
      const jpegSize = r.u32();
      const size = r.u32();
      return { kind: 'jpegAlpha', descriptor, alphaFlags, jpegSize, data: r.bytes(size) };
    }
    case ImageType.Surface:
      return { kind: 'surface', descriptor, surfaceId: r.u32() };
    case ImageType.FromCache:
    case ImageType.FromCacheLossless:
      return { kind: 'fromCache', descriptor };
    default:
      throw new ProtocolError('BAD_IMAGE', `unknown image type ${descriptor.type}`);
  }
}
