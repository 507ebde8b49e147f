import { allocImage, type PixelImage } from '../../src/display/pixels.js';
import { makeRandom } from '../../bench/common.js';

/**
 * Frame `n` of a photo-like video: smooth waves that drift with n, plus mild noise, so every frame
 * differs everywhere and no two pixels repeat exactly (what a camera or a film gives).
 */
export function videoFrame(width: number, height: number, n: number): PixelImage {
  const img = allocImage(width, height);
  // Tables of the three waves, so a frame costs a few additions a pixel (tests play them in real time).
  const wx = Float64Array.from({ length: width }, (_, x) => Math.sin((x + 3 * n) / 17));
  const wy = Float64Array.from({ length: height }, (_, y) => Math.sin((y - 2 * n) / 13));
  const wd = Float64Array.from({ length: width + height }, (_, d) => Math.sin((d + n) / 29));
  let seed = (n + 1) * 2654435761;
  const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v | 0);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const noise = (seed >>> 24) / 32 - 4;
      const p = wx[x]! + wy[y]! + wd[x + y]!;
      const r = clamp(110 + 40 * p + noise + (x * 60) / width);
      const g = clamp(100 + 35 * p - noise + (y * 60) / height);
      const b = clamp(90 + 45 * p + noise / 2);
      img.data.writeUInt32LE(((r << 16) | (g << 8) | b) >>> 0, y * img.stride + x * 4);
    }
  }
  return img;
}

/** Text-like content: glyph-sized blocks of ink on paper, different for each n (a terminal's lines). */
export function textFrame(width: number, height: number, n: number): PixelImage {
  const img = allocImage(width, height);
  img.data.fill(0xff);
  const random = makeRandom(1000 + n);
  for (let row = 0; row + 12 <= height; row += 14) {
    for (let col = 0; col + 7 <= width; col += 8) {
      if (random() < 0.3) continue;
      const bits = Math.floor(random() * 0xffffffff);
      for (let k = 0; k < 30; k++) {
        if (((bits >>> k) & 1) === 0) continue;
        const x = col + (k % 6);
        const y = row + Math.floor(k / 6) * 2;
        img.data.writeUInt32LE(0, y * img.stride + x * 4);
      }
    }
  }
  return img;
}
