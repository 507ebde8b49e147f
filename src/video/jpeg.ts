import sharp from 'sharp';
import type { Rect } from '../protocol/geometry.js';
import type { PixelImage } from '../seam/index.js';

/*
 * JPEG for stream frames (and lossy images): sharp, libjpeg-turbo through libvips, chosen by
 * measurement over a WebAssembly and a pure-JS encoder (bench/jpeg.ts, docs/performance.md). It
 * encodes on libuv's threadpool, so the event loop keeps serving viewers meanwhile.
 */

/**
 * The pixels of `rect` as packed RGB, copied now: the surface goes on changing while the frame is
 * encoded on another thread.
 */
export function captureRgb(img: PixelImage, rect: Rect): Buffer {
  const w = rect.right - rect.left;
  const h = rect.bottom - rect.top;
  const out = Buffer.allocUnsafe(w * h * 3);
  let d = 0;
  for (let y = rect.top; y < rect.bottom; y++) {
    let s = y * img.stride + rect.left * 4;
    for (let x = 0; x < w; x++, s += 4, d += 3) {
      out[d] = img.data[s + 2]!;
      out[d + 1] = img.data[s + 1]!;
      out[d + 2] = img.data[s]!;
    }
  }
  return out;
}

/** A baseline JPEG (what MJPEG streams carry), 4:2:0, rows top to bottom. */
export function encodeJpeg(rgb: Buffer, width: number, height: number, quality: number): Promise<Buffer> {
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: '4:2:0', progressive: false })
    .toBuffer();
}
