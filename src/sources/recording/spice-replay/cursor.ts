import { allocImage, type PixelImage } from '../../../display/pixels.js';
import { rgb555To32 } from './bitmap.js';
import { CursorType, type QxlCursorShape } from './qxl-types.js';

/*
 * QXL cursor shapes to straight-alpha BGRA (the seam's CursorShape image). Data layouts
 * (spice-protocol SpiceCursorType, as the SPICE clients read them):
 *
 *   ALPHA    w*h u32 0xAARRGGBB                          passed through unchanged
 *   MONO     AND mask then XOR mask, each ceil(w/8) bytes per row, MSB = leftmost pixel
 *            AND=0 XOR=0 black, AND=0 XOR=1 white, AND=1 XOR=0 transparent,
 *            AND=1 XOR=1 "invert the screen" -> half-transparent black (what spice-gtk shows)
 *   COLOR4   4-bit pixels (ceil(w/2) per row, high nibble first), 16 u32 palette, AND mask
 *   COLOR8   8-bit pixels, 256 u32 palette, AND mask
 *   COLOR16  u16 x1r5g5b5 pixels, AND mask
 *   COLOR24  B,G,R pixels, AND mask
 *   COLOR32  u32 0x00RRGGBB pixels, AND mask
 *            a set AND bit means transparent where the colour is 0, inverted screen otherwise
 *            (shown as half-transparent black, as for MONO)
 * Rows are top-down.
 */

const INVERT_PIXEL = 0x80000000;

export interface ConvertedCursor {
  readonly image: PixelImage;
  /** False when the shape had to be converted (MONO/COLOR), true for ALPHA pass-through. */
  readonly native: boolean;
}

export function convertCursor(shape: QxlCursorShape, where: string): ConvertedCursor {
  const { width, height } = shape;
  if (width <= 0 || height <= 0 || width > 1024 || height > 1024)
    throw new Error(`${where}: bad cursor size ${width}x${height}`);
  const out = allocImage(width, height);
  const put = (x: number, y: number, argb: number): void => {
    out.data.writeUInt32LE(argb >>> 0, (y * width + x) * 4);
  };
  const need = (bytes: number): void => {
    if (shape.data.length < bytes)
      throw new Error(
        `${where}: cursor data is ${shape.data.length} bytes, type ${shape.type} ${width}x${height} needs ${bytes}`,
      );
  };
  const maskStride = Math.ceil(width / 8);
  const bitAt = (offset: number, x: number, y: number): boolean =>
    ((shape.data[offset + y * maskStride + (x >> 3)]! >> (7 - (x & 7))) & 1) === 1;
  if (shape.type === CursorType.ALPHA) {
    need(width * height * 4);
    shape.data.copy(out.data, 0, 0, width * height * 4);
    return { image: out, native: true };
  }
  if (shape.type === CursorType.MONO) {
    need(2 * maskStride * height);
    const xorAt = maskStride * height;
    forEach(width, height, (x, y) => put(x, y, monoPixel(bitAt(0, x, y), bitAt(xorAt, x, y))));
    return { image: out, native: false };
  }
  const color = colorReader(shape, where);
  need(color.maskOffset + maskStride * height);
  forEach(width, height, (x, y) => {
    const c = color.at(x, y) & 0xffffff;
    const and = bitAt(color.maskOffset, x, y);
    put(x, y, and ? (c === 0 ? 0 : INVERT_PIXEL) : (0xff000000 | c) >>> 0);
  });
  return { image: out, native: false };
}

function forEach(width: number, height: number, fn: (x: number, y: number) => void): void {
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) fn(x, y);
}

function monoPixel(and: boolean, xor: boolean): number {
  if (and) return xor ? INVERT_PIXEL : 0;
  return xor ? 0xffffffff : 0xff000000;
}

/** Pixel reader for the COLOR* types and where their AND mask starts. */
function colorReader(
  shape: QxlCursorShape,
  where: string,
): { at: (x: number, y: number) => number; maskOffset: number } {
  const { data, width, height } = shape;
  switch (shape.type) {
    case CursorType.COLOR4: {
      const stride = Math.ceil(width / 2);
      const palette = stride * height;
      const at = (x: number, y: number): number => {
        const byte = data[y * stride + (x >> 1)]!;
        return readU32(data, palette + 4 * (x % 2 === 0 ? byte >> 4 : byte & 0x0f));
      };
      return { at, maskOffset: palette + 16 * 4 };
    }
    case CursorType.COLOR8: {
      const palette = width * height;
      return { at: (x, y) => readU32(data, palette + 4 * data[y * width + x]!), maskOffset: palette + 256 * 4 };
    }
    case CursorType.COLOR16:
      return { at: (x, y) => rgb555To32(readU16(data, 2 * (y * width + x))), maskOffset: 2 * width * height };
    case CursorType.COLOR24:
      return {
        at: (x, y) => {
          const o = 3 * (y * width + x);
          return ((data[o + 2] ?? 0) << 16) | ((data[o + 1] ?? 0) << 8) | (data[o] ?? 0);
        },
        maskOffset: 3 * width * height,
      };
    case CursorType.COLOR32:
      return { at: (x, y) => readU32(data, 4 * (y * width + x)), maskOffset: 4 * width * height };
    default:
      throw new Error(`${where}: unknown cursor type ${shape.type}`);
  }
}

function readU32(data: Buffer, offset: number): number {
  return offset + 4 <= data.length ? data.readUInt32LE(offset) : 0;
}

function readU16(data: Buffer, offset: number): number {
  return offset + 2 <= data.length ? data.readUInt16LE(offset) : 0;
}
