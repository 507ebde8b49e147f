import type { CursorShape } from '../../seam/index.js';
import { allocImage } from '../../display/pixels.js';

/*
 * The demo's pointer: a light grey arrow with a dark outline and a soft shadow, as an ALPHA cursor
 * (bytes B, G, R, A; straight alpha). It is grey on purpose: spice-html5 swaps red and blue.
 */

const SIZE = 24;
const SUPERSAMPLE = 4;
/** Outline of the arrow, tip at (0, 0), in pixels. */
const ARROW: ReadonlyArray<[number, number]> = [
  [0, 0],
  [0, 16.5],
  [4.2, 12.6],
  [7.2, 19.2],
  [9.9, 18.0],
  [7.0, 11.6],
  [12.4, 11.6],
];
/** The tip sits this far inside the image so the outline and antialiasing have room. */
const PAD = 1.5;
const OUTLINE = 1.15;
const SHADOW_OFFSET: [number, number] = [1.6, 2.2];

function inside(px: number, py: number): boolean {
  let odd = false;
  for (let i = 0, j = ARROW.length - 1; i < ARROW.length; j = i++) {
    const [xi, yi] = ARROW[i] as [number, number];
    const [xj, yj] = ARROW[j] as [number, number];
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) odd = !odd;
  }
  return odd;
}

function edgeDistance(px: number, py: number): number {
  let best = Infinity;
  for (let i = 0, j = ARROW.length - 1; i < ARROW.length; j = i++) {
    const [x0, y0] = ARROW[j] as [number, number];
    const [x1, y1] = ARROW[i] as [number, number];
    const vx = x1 - x0;
    const vy = y1 - y0;
    const t = Math.max(0, Math.min(1, ((px - x0) * vx + (py - y0) * vy) / (vx * vx + vy * vy)));
    best = Math.min(best, Math.hypot(px - x0 - t * vx, py - y0 - t * vy));
  }
  return best;
}

/** Grey level and coverage of one sample point (arrow coordinates); undefined when empty. */
function sample(px: number, py: number): { grey: number; alpha: number } {
  const d = edgeDistance(px, py);
  if (inside(px, py)) return d > OUTLINE ? { grey: 248 - py * 2.2, alpha: 1 } : { grey: 28, alpha: 1 };
  if (d < OUTLINE * 0.6) return { grey: 28, alpha: 1 };
  const sx = px - SHADOW_OFFSET[0];
  const sy = py - SHADOW_OFFSET[1];
  if (inside(sx, sy) || edgeDistance(sx, sy) < 1) return { grey: 0, alpha: 0.28 };
  return { grey: 0, alpha: 0 };
}

export function arrowCursor(): CursorShape {
  const image = allocImage(SIZE, SIZE);
  const n = SUPERSAMPLE;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      let alpha = 0;
      let grey = 0;
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < n; i++) {
          const s = sample(x + (i + 0.5) / n - PAD, y + (j + 0.5) / n - PAD);
          alpha += s.alpha;
          grey += s.grey * s.alpha;
        }
      }
      // Straight alpha: the colour is the coverage-weighted mean, not premultiplied.
      const g = alpha > 0 ? Math.round(grey / alpha) : 0;
      const o = y * image.stride + x * 4;
      image.data[o] = g;
      image.data[o + 1] = g;
      image.data[o + 2] = g;
      image.data[o + 3] = Math.round((alpha / (n * n)) * 255);
    }
  }
  return { id: 0x5dec0001, image, hotX: 1, hotY: 1 };
}
