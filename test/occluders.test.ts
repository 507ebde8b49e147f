import { describe, expect, it } from 'vitest';
import { allocImage, type PixelImage } from '../src/display/pixels.js';
import type { Rect } from '../src/protocol/geometry.js';
import { VideoDetector } from '../src/video/detector.js';
import { Occluders } from '../src/video/occluders.js';
import { maskRects } from '../src/video/rects.js';

/*
 * What covers part of a stream stays clipped out of it for as long as its pixels stay: only video
 * that changes them gives the area back, and only the box it changed.
 */

function paint(surface: PixelImage, r: Rect, value: number): void {
  for (let y = r.top; y < r.bottom; y++)
    for (let x = r.left; x < r.right; x++) surface.data.writeUInt32LE(value, y * surface.stride + x * 4);
}

const WIN: Rect = { top: 20, left: 30, bottom: 60, right: 90 };

describe('occluders', () => {
  it('keep a window whose pixels a video draw crossing it left as they were', () => {
    const surface = allocImage(128, 96);
    paint(surface, WIN, 0xeeeeee);
    const o = new Occluders();
    o.add(WIN, surface);
    // A band of video drawn across the window, carrying the window's own pixels there.
    paint(surface, { top: 10, left: 0, bottom: 20, right: 128 }, 0x123456);
    expect(o.videoDrawn({ top: 10, left: 0, bottom: 70, right: 128 }, surface)).toBe(false);
    expect(o.rects).toEqual([WIN]);
  });

  it('give back only the box video changed (a window moved partly away)', () => {
    const surface = allocImage(128, 96);
    paint(surface, WIN, 0xeeeeee);
    const o = new Occluders();
    o.add(WIN, surface);
    const changed = { top: 20, left: 70, bottom: 60, right: 90 };
    paint(surface, changed, 0x123456);
    expect(o.videoDrawn({ top: 0, left: 0, bottom: 96, right: 128 }, surface)).toBe(true);
    expect(o.rects).toEqual([{ top: 20, left: 30, bottom: 60, right: 70 }]);
    // All of it changed: none left.
    paint(surface, WIN, 0x654321);
    expect(o.videoDrawn(WIN, surface)).toBe(true);
    expect(o.size).toBe(0);
  });

  it('follow what is drawn in a window that is not video (typed text), and keep one occluder for it', () => {
    const surface = allocImage(128, 96);
    paint(surface, WIN, 0xeeeeee);
    const o = new Occluders();
    o.add(WIN, surface);
    for (let k = 0; k < 40; k++) {
      const glyph = { top: 24, left: 32 + k, bottom: 36, right: 33 + k };
      paint(surface, glyph, 0);
      o.add(glyph, surface);
    }
    expect(o.rects).toEqual([WIN]);
    expect(o.videoDrawn({ top: 0, left: 0, bottom: 96, right: 128 }, surface)).toBe(false);
  });
});

describe('maskRects', () => {
  it('make a rectangle one rect, and an L two', () => {
    const w = 8;
    const mask = new Uint8Array(w * 6);
    for (let y = 1; y < 4; y++) mask.fill(1, y * w + 2, y * w + 6);
    expect(maskRects(mask, w, { x: 100, y: 10 })).toEqual([{ top: 11, left: 102, bottom: 14, right: 106 }]);
    mask.fill(1, 4 * w + 2, 4 * w + 8);
    expect(maskRects(mask, w, { x: 0, y: 0 })).toEqual([
      { top: 1, left: 2, bottom: 4, right: 6 },
      { top: 4, left: 2, bottom: 5, right: 8 },
    ]);
  });
});

describe('the detector: still parts of a video region', () => {
  it('name where no video plays (a window over it), to the pixel, and nothing where it plays everywhere', () => {
    const d = new VideoDetector(320, 240);
    const video: Rect = { top: 16, left: 16, bottom: 208, right: 272 };
    const win: Rect = { top: 16, left: 200, bottom: 100, right: 272 };
    for (let n = 0; n < 8; n++) {
      // X clips the player's drawing around the window: the rows beside it stop at its left edge.
      d.observe({ top: 16, left: 16, bottom: 100, right: 200 }, n * 40);
      d.observe({ top: 100, left: 16, bottom: 208, right: 272 }, n * 40);
    }
    expect(d.stillParts(video, 7 * 40)).toEqual([win]);
    for (let n = 8; n < 16; n++) d.observe(video, n * 40);
    expect(d.stillParts(video, 15 * 40)).toEqual([]);
  });
});
