import type { PixelImage } from '../../display/pixels.js';
import { drawBorder, drawWindowFrame, windowAlpha } from './chrome.js';
import { Layer } from './layer.js';
import type { Box } from './layout.js';
import { blit, createImage, mix, packRgb, channels, pixelsOf, pitch } from './raster.js';
import { fbm, hash2 } from './noise.js';

/*
 * A photo-like picture made procedurally (a sunset over mountains and a lake), deterministic for a
 * given size and seed. It has what real photos have and a flat UI has not: smooth colour fields,
 * soft edges and fine grain, so it exercises the lossy/lossless image paths of the encoder.
 */

interface Scene {
  w: number;
  h: number;
  horizon: number;
  sunX: number;
  sunY: number;
  sunR: number;
  seed: number;
}

const SKY = [0x1c2a5c, 0x6b4c8c, 0xe0766a, 0xf7c27c] as const;

/** Sky colour by height: a four-stop gradient from night blue to gold at the horizon. */
function skyColor(t: number): number {
  const stops = SKY.length - 1;
  const k = Math.min(stops - 1, Math.floor(t * stops));
  return mix(SKY[k] ?? 0, SKY[k + 1] ?? 0, t * stops - k);
}

/** Height (y) of mountain range `i` at column x: further ranges are lower and smoother. */
function ridge(s: Scene, i: number, x: number): number {
  const scale = [2.2, 3.4, 5.0][i] ?? 3;
  const amp = [0.2, 0.16, 0.11][i] ?? 0.1;
  const n = fbm((x / s.w) * scale, i * 7.3, s.seed + 31 * i, 5);
  // Ridged noise for the far range gives it peaks rather than hills.
  const shape = i === 0 ? 1 - Math.abs(2 * n - 1) : n;
  return s.horizon - s.h * (0.03 + amp * shape * 1.3) + i * s.h * 0.045;
}

const RANGE_COLORS = [0x8a6a93, 0x5a4877, 0x2d2746] as const;

/** The scene above the horizon: sky, sun glow, clouds and three mountain ranges. */
function upperPixel(s: Scene, x: number, y: number): number {
  for (let i = 2; i >= 0; i--) {
    const top = ridge(s, i, x);
    if (y >= top) {
      const depth = (y - top) / (s.horizon - top + 1);
      const rock = fbm(x / 9, y / 5, s.seed + 90 + i, 3);
      return mix(mix(RANGE_COLORS[i] ?? 0, 0x140f22, depth * 0.35), 0xf0a070, (rock - 0.5) * 0.18 + (2 - i) * 0.04);
    }
  }
  let c = skyColor(Math.max(0, Math.min(1, y / s.horizon)));
  const d = Math.hypot(x - s.sunX, y - s.sunY);
  c = mix(c, 0xffd49a, Math.exp(-d / (s.h * 0.16)) * 0.75);
  if (d < s.sunR) c = mix(c, 0xfff4d2, Math.min(1, s.sunR - d));
  const cloud = fbm((x / s.w) * 5, (y / s.h) * 14, s.seed + 7, 5);
  const density = Math.max(0, cloud - 0.52) * 3.2 * Math.min(1, (s.horizon - y) / (s.h * 0.25));
  return mix(c, mix(0xffb89a, 0x4a3a6a, y / s.horizon), Math.min(0.85, density));
}

/** The lake: a rippled, darkened mirror image of the scene above. */
function lakePixel(s: Scene, x: number, y: number): number {
  const below = y - s.horizon;
  const ripple = Math.sin(below * 0.9 + hash2(0, Math.floor(below / 2), s.seed) * 6) * Math.min(3, 0.5 + below * 0.08);
  const mx = Math.max(0, Math.min(s.w - 1, Math.round(x + ripple)));
  const my = Math.max(0, Math.round(s.horizon - below - 1));
  return mix(upperPixel(s, mx, my), 0x10182e, 0.3 + Math.min(0.4, below / s.h));
}

/** A dark shore with grass tufts along the bottom. */
function shoreTop(s: Scene, x: number): number {
  const tuft = hash2(x, 3, s.seed) > 0.8 ? hash2(x, 4, s.seed) * s.h * 0.04 : 0;
  return s.h * (0.9 - 0.06 * fbm(x / 40, 1.5, s.seed + 200, 3)) - tuft;
}

/** Render the landscape at w x h. */
export function renderLandscape(w: number, h: number, seed = 11): PixelImage {
  const img = createImage(w, h);
  const px = pixelsOf(img);
  const p = pitch(img);
  const s: Scene = { w, h, horizon: Math.round(h * 0.6), sunX: w * 0.66, sunY: h * 0.36, sunR: h * 0.06, seed };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let c = y < s.horizon ? upperPixel(s, x, y) : lakePixel(s, x, y);
      if (y >= shoreTop(s, x)) c = mix(0x0d1a14, 0x2c3b22, fbm(x / 6, y / 3, seed + 300, 2) * 0.6);
      px[y * p + x] = grain(c, hash2(x, y, seed + 500));
    }
  }
  return img;
}

/** Fine film grain: a few levels of brightness noise. */
function grain(c: number, n: number): number {
  const [r, g, b] = channels(c);
  const d = (n - 0.5) * 6;
  return packRgb(r + d, g + d, b + d);
}

/** The photo viewer panel: a window whose body is the landscape. It never changes after drawing. */
export function createPhotoPanel(box: Box): Layer {
  const img = createImage(box.w, box.h);
  const body = drawWindowFrame(img, { title: 'sunset.png - Photos' }, 0x0b0e16);
  const pic = renderLandscape(body.w, body.h);
  blit(img, body.x, body.y, pic);
  // The picture runs into the rounded bottom corners; put the outline back over it.
  drawBorder(img);
  return new Layer('photo', img, box.x, box.y, windowAlpha(box.w, box.h));
}
