import type { DisplayCommand } from '../src/seam/index.js';
import { allocImage, type PixelImage } from '../src/display/pixels.js';

/*
 * A fixed, deterministic burst pattern for transport measurements: each frame holds a solid
 * fill, a small text-like image, a scroll (copy bits) and, every fourth frame, a large photo-like
 * image that spans many TLS records and TCP segments. Same frames, same bytes, every run.
 */

const W = 1024;
const H = 768;

function textLike(w: number, h: number, seed: number): PixelImage {
  const img = allocImage(w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const on = ((x >> 3) * 7 + seed + (y >> 4) * 3) % 5 !== 0 && ((x * 31 + y * 17 + seed) & 7) < 3;
      img.data.writeUInt32LE(on ? 0x202020 : 0xf4f4f0, (y * w + x) * 4);
    }
  }
  return img;
}

function photoLike(w: number, h: number, seed: number): PixelImage {
  const img = allocImage(w, h);
  let s = seed * 2654435761;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const n = (s >>> 24) & 15;
      const r = (128 + 100 * Math.sin((x + seed * 13) / 37) + n) & 0xff;
      const g = (128 + 90 * Math.sin((y + x) / 53) + n) & 0xff;
      const b = (160 + 80 * Math.cos(y / 29) + n) & 0xff;
      img.data.writeUInt32LE((r << 16) | (g << 8) | b, (y * w + x) * 4);
    }
  }
  return img;
}

export function burstSetup(): DisplayCommand[] {
  return [
    { kind: 'surfaceCreate', surfaceId: 0, width: W, height: H, primary: true },
    { kind: 'fill', surfaceId: 0, rect: { top: 0, left: 0, bottom: H, right: W }, color: 0x336699 },
  ];
}

export function burstFrame(k: number): DisplayCommand[] {
  const x = (k * 37) % (W - 420);
  const y = (k * 53) % (H - 320);
  const frame: DisplayCommand[] = [
    {
      kind: 'fill',
      surfaceId: 0,
      rect: { top: 10 + (k % 50), left: 10, bottom: 40 + (k % 50), right: 300 },
      color: (0x102030 * (k + 1)) & 0xffffff,
    },
    { kind: 'copy', surfaceId: 0, dest: { top: 700, left: 20, bottom: 716, right: 420 }, image: textLike(400, 16, k) },
    {
      kind: 'copyBits',
      surfaceId: 0,
      src: { x: 500, y: 116 },
      dest: { top: 100, left: 500, bottom: 400, right: 1000 },
    },
  ];
  if (k % 4 === 0)
    frame.push({
      kind: 'copy',
      surfaceId: 0,
      dest: { top: y, left: x, bottom: y + 300, right: x + 400 },
      image: photoLike(400, 300, k),
    });
  return frame;
}
