/**
 * What move detection (src/sources/x11/move.ts) costs per damage rect, in the three shapes a frame
 * brings it: a rect around a small change (a keystroke, a blinking cursor: no move), a rect where
 * a window moved (a drag step), and a rect of all-new content (a menu opening: no move). The
 * content is text-like (dark strokes on a light ground, repetitive enough to match by chance at
 * many offsets), which is where a brute-force search costs most.
 *
 *   npm run build && node dist/bench/x11-move.js [--ms 2000]
 */
import { pathToFileURL } from 'node:url';
import type { PixelImage } from '../src/seam/index.js';
import type { Rect } from '../src/protocol/geometry.js';
import { findMove } from '../src/sources/x11/move.js';
import { Shadow } from '../src/sources/x11/shadow.js';

const W = 1280;
const H = 800;
const RECT: Rect = { left: 200, top: 200, right: 800, bottom: 600 };

function textLike(seed: number): Buffer {
  const data = Buffer.alloc(W * H * 4);
  let s = seed;
  const rnd = (): number => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const ink = ((x >> 3) + (y >> 4)) % 7 === 0 || rnd() < 0.2;
      data.writeUInt32LE(ink ? 0x202020 : 0xf0f0f0, (y * W + x) * 4);
    }
  return data;
}

/** The pixels of RECT in `screen`, shifted by (dx, dy): new pixel (x, y) shows screen (x - dx, y - dy). */
function cut(screen: Buffer, dx = 0, dy = 0): PixelImage {
  const w = RECT.right - RECT.left;
  const h = RECT.bottom - RECT.top;
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) {
    const from = ((RECT.top + y - dy) * W + RECT.left - dx) * 4;
    screen.copy(data, y * w * 4, from, from + w * 4);
  }
  return { width: w, height: h, stride: w * 4, data };
}

function perCall(ms: number, shadow: Shadow, img: PixelImage): { ms: number; found: boolean } {
  let n = 0;
  let found = false;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    found = findMove(shadow, RECT, img) !== null;
    n++;
  }
  return { ms: (performance.now() - t0) / n, found };
}

export function runMoveBench(ms: number): string[] {
  const screen = textLike(1);
  const shadow = new Shadow(W, H);
  shadow.store({ left: 0, top: 0, right: W, bottom: H }, { width: W, height: H, stride: W * 4, data: screen });
  const glyph = cut(screen);
  for (let y = 10; y < 26; y++)
    for (let x = 300; x < 308; x++) glyph.data.writeUInt32LE(0x0000ff, y * glyph.stride + x * 4);
  const cases: [string, PixelImage][] = [
    ['small change, no move', glyph],
    ['window moved by (7, 3)', cut(screen, 7, 3)],
    ['all new content', cut(textLike(2))],
  ];
  return cases.map(([name, img]) => {
    const r = perCall(ms, shadow, img);
    return `${name.padEnd(24)} ${r.ms.toFixed(3).padStart(8)} ms per 600x400 rect  (move found: ${r.found ? 'yes' : 'no'})`;
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--ms');
  const ms = i > 0 ? Number(process.argv[i + 1]) : 2000;
  for (const line of runMoveBench(ms)) console.log(line);
}
