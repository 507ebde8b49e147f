import type { PixelImage } from '../../../display/pixels.js';
import { BitmapFormat, BitmapFlags, ImageFlags, type QxlBitmapImage } from './qxl-types.js';

/*
 * QXL bitmaps to 32-bit pixels, the way the SPICE client's canvas converts them
 * (spice-common pixman_utils.c spice_bitmap_to_pixman, plus the LE palette formats that reach the
 * client through the server's LZ/PLT encoders):
 *
 *   format        bytes per row (stride is given)          pixel
 *   1BIT_LE/BE    bit x at 1 << (x & 7) / 0x80 >> (x & 7)  palette[1] if set, else palette[0]
 *   4BIT_LE/BE    low / high nibble first                  palette[index]
 *   8BIT          1 byte                                   palette[index]
 *   16BIT         u16 LE x1r5g5b5                          each 5-bit channel widened by bit
 *                                                          replication (c << 3 | c >> 2)
 *   24BIT         B, G, R                                  0x00RRGGBB
 *   32BIT         u32 LE 0xXXRRGGBB                        as is (X kept, the canvas ignores it)
 *   RGBA          u32 LE 0xAARRGGBB                        as is (alpha kept)
 *   8BIT_A        1 byte alpha                             0xAA000000 (pixman a8 -> ARGB)
 *
 * Rows are bottom-up unless the TOP_DOWN flag is set. Palette entries are u32 0x00RRGGBB.
 */

/** 32-bit pixels (u32 0xXXRRGGBB, little-endian bytes B,G,R,X), rows top-down. */
export interface Raster {
  readonly width: number;
  readonly height: number;
  /** Row pitch in pixels. */
  readonly stride: number;
  readonly pixels: Uint32Array;
  /** True when the X byte is meaningful alpha (RGBA bitmaps, ARGB surfaces). */
  readonly hasAlpha: boolean;
}

export function allocRaster(width: number, height: number, hasAlpha = false): Raster {
  const buf = Buffer.alloc(width * height * 4);
  return {
    width,
    height,
    stride: width,
    pixels: new Uint32Array(buf.buffer, buf.byteOffset, width * height),
    hasAlpha,
  };
}

/** A PixelImage view of a raster (shares memory; callers crop before handing it out). */
export function rasterAsImage(r: Raster): PixelImage {
  return {
    width: r.width,
    height: r.height,
    stride: r.stride * 4,
    data: Buffer.from(r.pixels.buffer, r.pixels.byteOffset, r.stride * r.height * 4),
  };
}

/** A fresh, tightly packed PixelImage holding the given area of a raster. */
export function cropRaster(r: Raster, x: number, y: number, width: number, height: number): PixelImage {
  const data = Buffer.alloc(width * height * 4);
  const out = new Uint32Array(data.buffer, data.byteOffset, width * height);
  for (let j = 0; j < height; j++)
    out.set(r.pixels.subarray((y + j) * r.stride + x, (y + j) * r.stride + x + width), j * width);
  return { width, height, stride: width * 4, data };
}

function isPaletteFormat(format: number): boolean {
  return format >= BitmapFormat.ONE_BIT_LE && format <= BitmapFormat.EIGHT_BIT;
}

function bitmapFormatName(format: number): string {
  const names = [
    'INVALID',
    '1BIT_LE',
    '1BIT_BE',
    '4BIT_LE',
    '4BIT_BE',
    '8BIT',
    '16BIT',
    '24BIT',
    '32BIT',
    'RGBA',
    '8BIT_A',
  ];
  return names[format] ?? `format ${format}`;
}

/** Bytes one row of `width` pixels needs in this format. */
function minRowBytes(format: number, width: number): number {
  switch (format) {
    case BitmapFormat.ONE_BIT_LE:
    case BitmapFormat.ONE_BIT_BE:
      return Math.ceil(width / 8);
    case BitmapFormat.FOUR_BIT_LE:
    case BitmapFormat.FOUR_BIT_BE:
      return Math.ceil(width / 2);
    case BitmapFormat.EIGHT_BIT:
    case BitmapFormat.EIGHT_BIT_A:
      return width;
    case BitmapFormat.SIXTEEN_BIT:
      return 2 * width;
    case BitmapFormat.TWENTY_FOUR_BIT:
      return 3 * width;
    case BitmapFormat.THIRTY_TWO_BIT:
    case BitmapFormat.RGBA:
      return 4 * width;
    default:
      return -1;
  }
}

/** Converts a bitmap image; throws (with `where` in the message) on unknown formats or short data. */
export function bitmapToRaster(img: QxlBitmapImage, where: string): Raster {
  const need = minRowBytes(img.format, img.x);
  if (need < 0) throw new Error(`${where}: unsupported bitmap format ${img.format}`);
  if (img.stride < need)
    throw new Error(
      `${where}: bitmap stride ${img.stride} too small for ${img.x} ${bitmapFormatName(img.format)} pixels`,
    );
  if (isPaletteFormat(img.format) && !img.palette)
    throw new Error(`${where}: ${bitmapFormatName(img.format)} bitmap without a palette`);
  const out = allocRaster(img.x, img.y, img.format === BitmapFormat.RGBA || img.format === BitmapFormat.EIGHT_BIT_A);
  const topDown = (img.bitmapFlags & BitmapFlags.TOP_DOWN) !== 0;
  if (is32Bit(img.format)) {
    copyRows32(img, out, topDown);
  } else {
    const decodeRow = rowDecoder(img);
    for (let row = 0; row < img.y; row++) {
      const destY = topDown ? row : img.y - 1 - row;
      decodeRow(row * img.stride, out.pixels, destY * out.stride);
    }
  }
  // The guest says the unused top byte is all ones; the client sets it so (canvas_get_image).
  if (
    img.flags & ImageFlags.HIGH_BITS_SET &&
    (img.format === BitmapFormat.THIRTY_TWO_BIT || img.format === BitmapFormat.TWENTY_FOUR_BIT)
  ) {
    for (let i = 0; i < out.pixels.length; i++) out.pixels[i] = (out.pixels[i]! | 0xff000000) >>> 0;
  }
  return out;
}

/**
 * A top-down 32-bit bitmap whose rows are already packed is, as it stands, the PixelImage that
 * rasterAsImage(bitmapToRaster(img)) would copy out: then this is a view of the bitmap's bytes
 * (recording data, which nothing writes), or a copy when those bytes do not start on a 4-byte
 * boundary (most do not: the encoders, copies and uniform checks read whole 32-bit words, which
 * a typed array can only do aligned; one memcpy here is cheaper than byte-wise reads there).
 * Null for every other bitmap.
 */
export function bitmapView(img: QxlBitmapImage): PixelImage | null {
  const highBits = img.format === BitmapFormat.THIRTY_TWO_BIT && (img.flags & ImageFlags.HIGH_BITS_SET) !== 0;
  const packed = img.stride === 4 * img.x && (img.bitmapFlags & BitmapFlags.TOP_DOWN) !== 0;
  if (!is32Bit(img.format) || !packed || highBits) return null;
  const view = img.data.subarray(0, img.stride * img.y);
  return {
    width: img.x,
    height: img.y,
    stride: img.stride,
    data: view.byteOffset % 4 === 0 ? view : alignedCopy(view),
  };
}

/** A copy whose first byte is 4-byte aligned (Node's buffer pool hands out 8-byte aligned slices). */
function alignedCopy(b: Buffer): Buffer {
  let out = Buffer.allocUnsafe(b.length);
  if (out.byteOffset % 4 !== 0) out = Buffer.allocUnsafeSlow(b.length);
  b.copy(out);
  return out;
}

/** 32BIT and RGBA: u32 LE 0xXXRRGGBB / 0xAARRGGBB, the raster's own layout. */
function is32Bit(format: number): boolean {
  return format === BitmapFormat.THIRTY_TWO_BIT || format === BitmapFormat.RGBA;
}

/** Rows of a 32-bit bitmap copied as bytes (little-endian u32 in, the same u32 out). */
function copyRows32(img: QxlBitmapImage, out: Raster, topDown: boolean): void {
  const dest = Buffer.from(out.pixels.buffer, out.pixels.byteOffset, out.pixels.byteLength);
  const rowBytes = 4 * img.x;
  for (let row = 0; row < img.y; row++) {
    const destY = topDown ? row : img.y - 1 - row;
    img.data.copy(dest, destY * out.stride * 4, row * img.stride, row * img.stride + rowBytes);
  }
}

type RowDecoder = (srcOffset: number, dest: Uint32Array, destOffset: number) => void;

function rowDecoder(img: QxlBitmapImage): RowDecoder {
  const { data, x: width } = img;
  const ents = img.palette?.ents ?? [];
  const pal = (i: number): number => ents[i] ?? 0;
  switch (img.format) {
    case BitmapFormat.ONE_BIT_LE:
    case BitmapFormat.ONE_BIT_BE: {
      const le = img.format === BitmapFormat.ONE_BIT_LE;
      const fore = pal(1);
      const back = pal(0);
      return (s, dest, d) => {
        for (let x = 0; x < width; x++) {
          const byte = data[s + (x >> 3)]!;
          const set = le ? (byte >> (x & 7)) & 1 : (byte >> (7 - (x & 7))) & 1;
          dest[d + x] = set ? fore : back;
        }
      };
    }
    case BitmapFormat.FOUR_BIT_LE:
    case BitmapFormat.FOUR_BIT_BE: {
      const le = img.format === BitmapFormat.FOUR_BIT_LE;
      return (s, dest, d) => {
        for (let x = 0; x < width; x++) {
          const byte = data[s + (x >> 1)]!;
          const first = x % 2 === 0;
          const nibble = first === le ? byte & 0x0f : byte >> 4;
          dest[d + x] = pal(nibble);
        }
      };
    }
    case BitmapFormat.EIGHT_BIT:
      return (s, dest, d) => {
        for (let x = 0; x < width; x++) dest[d + x] = pal(data[s + x]!);
      };
    case BitmapFormat.SIXTEEN_BIT:
      return (s, dest, d) => {
        for (let x = 0; x < width; x++) dest[d + x] = rgb555To32(data.readUInt16LE(s + 2 * x));
      };
    case BitmapFormat.TWENTY_FOUR_BIT:
      return (s, dest, d) => {
        for (let x = 0; x < width; x++) {
          const o = s + 3 * x;
          dest[d + x] = (data[o + 2]! << 16) | (data[o + 1]! << 8) | data[o]!;
        }
      };
    case BitmapFormat.EIGHT_BIT_A:
      return (s, dest, d) => {
        for (let x = 0; x < width; x++) dest[d + x] = (data[s + x]! << 24) >>> 0;
      };
    default:
      throw new Error(`unsupported bitmap format ${img.format}`);
  }
}

export function rgb555To32(c: number): number {
  const r = (c >> 10) & 0x1f;
  const g = (c >> 5) & 0x1f;
  const b = c & 0x1f;
  return (((r << 3) | (r >> 2)) << 16) | (((g << 3) | (g >> 2)) << 8) | ((b << 3) | (b >> 2));
}

/**
 * A 1-bit mask bitmap (canvas_get_bitmap_mask): `bit(x, y)` for top-down coordinates. Only the
 * 1BIT formats are masks; LE keeps bit order 1 << (x & 7), BE uses 0x80 >> (x & 7).
 */
export function bitmapMaskBits(img: QxlBitmapImage, where: string): (x: number, y: number) => boolean {
  if (img.format !== BitmapFormat.ONE_BIT_LE && img.format !== BitmapFormat.ONE_BIT_BE) {
    throw new Error(`${where}: mask bitmap has format ${bitmapFormatName(img.format)}, not 1BIT`);
  }
  if (img.stride < Math.ceil(img.x / 8))
    throw new Error(`${where}: mask stride ${img.stride} too small for width ${img.x}`);
  const le = img.format === BitmapFormat.ONE_BIT_LE;
  const topDown = (img.bitmapFlags & BitmapFlags.TOP_DOWN) !== 0;
  return (x, y) => {
    const row = topDown ? y : img.y - 1 - y;
    const byte = img.data[row * img.stride + (x >> 3)]!;
    return ((le ? byte >> (x & 7) : byte >> (7 - (x & 7))) & 1) === 1;
  };
}
