import { describe, expect, it } from 'vitest';
import { allocImage, cropImage, type PixelImage } from '../src/display/pixels.js';
import type { Rect } from '../src/protocol/geometry.js';
import { Shadow } from '../src/sources/x11/shadow.js';

/*
 * Shadow.changedBoxes: every pixel that differs must lie in a box (the picture is exact), and a
 * row that changed only at its two ends (a moved window's drop shadow, once the window itself went
 * as a copyBits) must not be sent across its whole width.
 */

const W = 640;
const H = 300;
const RECT: Rect = { top: 20, left: 30, bottom: 280, right: 620 };

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

function screen(seed: number): PixelImage {
  const img = allocImage(W, H);
  const next = random(seed);
  for (let i = 0; i < W * H; i++) img.data.writeUInt32LE(next() & 0x00ffffff, i * 4);
  return img;
}

function shadowOf(img: PixelImage): Shadow {
  const shadow = new Shadow(W, H);
  shadow.store({ top: 0, left: 0, bottom: H, right: W }, img);
  return shadow;
}

function setPixel(img: PixelImage, x: number, y: number, v: number): void {
  img.data.writeUInt32LE(v, y * img.stride + x * 4);
}

/** Pixels of RECT where `now` differs from `before` and no box holds them. */
function uncovered(before: PixelImage, now: PixelImage, boxes: readonly Rect[]): number {
  let n = 0;
  for (let y = RECT.top; y < RECT.bottom; y++)
    for (let x = RECT.left; x < RECT.right; x++) {
      const at = y * W * 4 + x * 4;
      if (before.data.readUInt32LE(at) === now.data.readUInt32LE(at)) continue;
      if (!boxes.some((b) => x >= b.left && x < b.right && y >= b.top && y < b.bottom)) n++;
    }
  return n;
}

function boxArea(boxes: readonly Rect[]): number {
  return boxes.reduce((n, b) => n + (b.right - b.left) * (b.bottom - b.top), 0);
}

const inRect = (img: PixelImage): PixelImage =>
  cropImage(img, RECT.left, RECT.top, RECT.right - RECT.left, RECT.bottom - RECT.top);

describe('Shadow.changedBoxes', () => {
  it('sends the two sides of a window whose shadow moved, not the whole width between them', () => {
    const before = screen(1);
    const now = cropImage(before, 0, 0, W, H);
    // Columns 100-111 and 500-511 of rows 60-239 changed: the left and right edges of a window.
    for (let y = 60; y < 240; y++)
      for (const x0 of [100, 500]) for (let x = x0; x < x0 + 12; x++) setPixel(now, x, y, 0x00123456 + x);
    const boxes = shadowOf(before).changedBoxes(RECT, inRect(now));
    expect(uncovered(before, now, boxes)).toBe(0);
    expect(boxArea(boxes)).toBe(2 * 12 * 180);
  });

  it('covers every changed pixel, whatever the pattern of changes', () => {
    const next = random(7);
    for (let round = 0; round < 40; round++) {
      const before = screen(100 + round);
      const now = cropImage(before, 0, 0, W, H);
      const spots = 1 + (next() % 60);
      for (let k = 0; k < spots; k++) {
        // Runs of changed pixels of random length, some rows changed at both ends, some in between.
        const y = RECT.top + (next() % (RECT.bottom - RECT.top));
        const x = RECT.left + (next() % (RECT.right - RECT.left));
        const len = 1 + (next() % 80);
        for (let i = x; i < Math.min(RECT.right, x + len); i++) setPixel(now, i, y, next() & 0x00ffffff);
      }
      const boxes = shadowOf(before).changedBoxes(RECT, inRect(now));
      expect(uncovered(before, now, boxes)).toBe(0);
    }
  });
});
