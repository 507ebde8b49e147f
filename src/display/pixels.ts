import type { PixelImage } from '../seam/pixel-image.js';

// Re-exported: the codecs and tests that work on pixels take the type from here with the operations.
export type { PixelImage };

export function allocImage(width: number, height: number): PixelImage {
  return { width, height, stride: width * 4, data: Buffer.alloc(width * height * 4) };
}

/** View of a pixel's u32 value (0xXXRRGGBB). */
export function pixelAt(img: PixelImage, x: number, y: number): number {
  return img.data.readUInt32LE(y * img.stride + x * 4);
}

/** Copy a sub-rectangle into a new, tightly packed image (stride = 4 * width). */
export function cropImage(img: PixelImage, x: number, y: number, width: number, height: number): PixelImage {
  // Every byte is written by the copy: no need to zero the buffer first.
  const out: PixelImage = { width, height, stride: width * 4, data: Buffer.allocUnsafe(width * height * 4) };
  copyRect(img, x, y, out, 0, 0, width, height);
  return out;
}

/**
 * Rows narrower than this many pixels are copied a word at a time: Buffer.copy costs a few hundred
 * ns per call in checks, more than moving 24 pixels (a 24x24 tile is 24 calls: recordings of
 * QXL guests are full of them).
 */
const WORD_COPY_MAX_PIXELS = 64;

/**
 * Copy `width` x `height` pixels from (sx, sy) of `src` to (dx, dy) of `dst`; different images
 * (or areas that do not overlap), every coordinate already clipped by the caller.
 */
export function copyRect(
  src: PixelImage,
  sx: number,
  sy: number,
  dst: PixelImage,
  dx: number,
  dy: number,
  width: number,
  height: number,
): void {
  const from = width < WORD_COPY_MAX_PIXELS ? pixelWords(src) : undefined;
  const to = from && pixelWords(dst);
  if (from && to) {
    const fs = src.stride >> 2;
    const ts = dst.stride >> 2;
    for (let j = 0; j < height; j++) {
      const f = (sy + j) * fs + sx;
      const t = (dy + j) * ts + dx;
      for (let i = 0; i < width; i++) to[t + i] = from[f + i]!;
    }
    return;
  }
  const rowBytes = width * 4;
  for (let j = 0; j < height; j++) {
    const f = (sy + j) * src.stride + sx * 4;
    src.data.copy(dst.data, (dy + j) * dst.stride + dx * 4, f, f + rowBytes);
  }
}

/** A tightly packed copy (or the image itself when it already is one). */
export function packedImage(img: PixelImage): PixelImage {
  return img.stride === img.width * 4 && img.data.length === img.stride * img.height
    ? img
    : cropImage(img, 0, 0, img.width, img.height);
}

/** True when the RGB bytes of every pixel match (the X/alpha byte is ignored). */
export function sameRgb(a: PixelImage, b: PixelImage): boolean {
  if (a.width !== b.width || a.height !== b.height) return false;
  const wa = pixelWords(a);
  const wb = pixelWords(b);
  if (wa && wb) {
    // A word at a time (little-endian: the X byte is the top one); tests poll this on every frame.
    const sa = a.stride >> 2;
    const sb = b.stride >> 2;
    for (let y = 0; y < a.height; y++) {
      for (let x = 0, ia = y * sa, ib = y * sb; x < a.width; x++) {
        if (((wa[ia + x]! ^ wb[ib + x]!) & 0x00ffffff) !== 0) return false;
      }
    }
    return true;
  }
  for (let y = 0; y < a.height; y++) {
    const ra = y * a.stride;
    const rb = y * b.stride;
    for (let x = 0; x < a.width; x++) {
      const pa = ra + 4 * x;
      const pb = rb + 4 * x;
      if (a.data[pa] !== b.data[pb] || a.data[pa + 1] !== b.data[pb + 1] || a.data[pa + 2] !== b.data[pb + 2])
        return false;
    }
  }
  return true;
}

/** The pixels as 32-bit words (index y * stride / 4 + x), when the buffer and stride are aligned for it. */
export function pixelWords(img: PixelImage): Uint32Array | undefined {
  const d = img.data;
  if (d.byteOffset % 4 !== 0 || img.stride % 4 !== 0) return undefined;
  return new Uint32Array(d.buffer, d.byteOffset, d.length >> 2);
}

/** Count pixels whose RGB differs (for test diagnostics). */
export function countRgbDifferences(a: PixelImage, b: PixelImage): number {
  let n = 0;
  const h = Math.min(a.height, b.height);
  const w = Math.min(a.width, b.width);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const pa = y * a.stride + 4 * x;
      const pb = y * b.stride + 4 * x;
      if (a.data[pa] !== b.data[pb] || a.data[pa + 1] !== b.data[pb + 1] || a.data[pa + 2] !== b.data[pb + 2]) n++;
    }
  }
  return n + Math.abs(a.width * a.height - b.width * b.height);
}
