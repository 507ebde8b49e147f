import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocImage, copyRect, cropImage, pixelAt, type PixelImage } from '../src/display/pixels.js';
import { Surface } from '../src/display/surface.js';
import type { Rect } from '../src/protocol/geometry.js';
import { Desktop } from '../src/display/desktop.js';
import { warmUpDisplayPaths } from '../src/channels/warm-up.js';
import { encodeImagePayload } from '../src/display/wire-image.js';
import { SharedImage } from '../src/channels/display-items.js';

function noise(w: number, h: number, seed: number, stride = w * 4): PixelImage {
  const data = Buffer.alloc(stride * h);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) data[i] = s = (Math.imul(s, 1103515245) + 12345) >>> 24;
  return { width: w, height: h, stride, data };
}

/** The obvious pixel-by-pixel copy the fast paths must agree with. */
function referenceCopy(
  src: PixelImage,
  sx: number,
  sy: number,
  dst: PixelImage,
  dx: number,
  dy: number,
  w: number,
  h: number,
): void {
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      dst.data.writeUInt32LE(pixelAt(src, sx + x, sy + y), (dy + y) * dst.stride + (dx + x) * 4);
}

describe('copyRect', () => {
  it('copies narrow (word loop) and wide (Buffer.copy) rectangles like a pixel-by-pixel copy', () => {
    const src = noise(200, 90, 7, 200 * 4 + 12);
    for (const [w, h] of [
      [1, 1],
      [24, 24],
      [63, 5],
      [64, 5],
      [150, 40],
    ] as const) {
      const a = noise(180, 80, 3);
      const b = { ...a, data: Buffer.from(a.data) };
      copyRect(src, 17, 9, a, 5, 11, w, h);
      referenceCopy(src, 17, 9, b, 5, 11, w, h);
      expect(a.data.equals(b.data), `${w}x${h}`).toBe(true);
    }
  });

  it('takes the byte path for unaligned buffers', () => {
    const backing = Buffer.alloc(4 * 40 * 10 + 1);
    const src: PixelImage = { width: 40, height: 10, stride: 160, data: backing.subarray(1) };
    noise(40, 10, 9).data.copy(src.data);
    const out = cropImage(src, 3, 2, 20, 6);
    const ref = allocImage(20, 6);
    referenceCopy(src, 3, 2, ref, 0, 0, 20, 6);
    expect(out.data.equals(ref.data)).toBe(true);
  });
});

describe('Surface', () => {
  it('is blank until something draws on it; moving its zeros keeps it blank', () => {
    const s = new Surface(0, 64, 48);
    expect(s.blank).toBe(true);
    s.copyBits({ x: 0, y: 0 }, { top: 10, left: 10, bottom: 20, right: 20 });
    expect(s.blank).toBe(true);
    s.fill({ top: 100, left: 100, bottom: 110, right: 110 }, 0xff0000); // off the surface: nothing drawn
    expect(s.blank).toBe(true);
    s.putImage({ top: 0, left: 0, bottom: 4, right: 4 }, noise(4, 4, 1));
    expect(s.blank).toBe(false);
    const t = new Surface(1, 8, 8);
    t.fill({ top: 0, left: 0, bottom: 1, right: 1 }, 0);
    expect(t.blank).toBe(false);
  });
});

/** copyBits as its definition: read the whole clipped source area first, then write it at the destination. */
function referenceCopyBits(s: Surface, src: { x: number; y: number }, dest: Rect): void {
  const dx = dest.left - src.x;
  const dy = dest.top - src.y;
  const c = {
    top: Math.max(dest.top, 0, dy),
    left: Math.max(dest.left, 0, dx),
    bottom: Math.min(dest.bottom, s.height, s.height + dy),
    right: Math.min(dest.right, s.width, s.width + dx),
  };
  if (c.bottom <= c.top || c.right <= c.left) return;
  const saved = cropImage(s, c.left - dx, c.top - dy, c.right - c.left, c.bottom - c.top);
  referenceCopy(saved, 0, 0, s, c.left, c.top, c.right - c.left, c.bottom - c.top);
}

describe('Surface.copyBits', () => {
  it('moves any area in any direction (overlapping, clipped, whole rows) like a copy through a buffer', () => {
    const W = 37;
    const H = 23;
    const coord = (n: number) => fc.integer({ min: -8, max: n + 8 });
    fc.assert(
      fc.property(
        fc.record({ x: coord(W), y: coord(H) }),
        fc.record({
          left: coord(W),
          top: coord(H),
          w: fc.integer({ min: 0, max: W + 4 }),
          h: fc.integer({ min: 0, max: H + 4 }),
        }),
        fc.boolean(),
        fc.integer(),
        (src, d, wholeRows, seed) => {
          // Whole rows moved vertically are the one-block path; give it its own share of cases.
          const dest: Rect = wholeRows
            ? { left: 0, top: d.top, right: W, bottom: d.top + d.h }
            : { left: d.left, top: d.top, right: d.left + d.w, bottom: d.top + d.h };
          const from = wholeRows ? { x: 0, y: src.y } : src;
          const a = new Surface(0, W, H);
          noise(W, H, seed).data.copy(a.data);
          const b = new Surface(1, W, H);
          a.data.copy(b.data);
          a.copyBits(from, dest);
          referenceCopyBits(b, from, dest);
          expect(a.data.equals(b.data)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('warming up the display paths', () => {
  it('runs on its own and leaves the encoders producing the same bytes', () => {
    const img = noise(90, 70, 5);
    const before = encodeImagePayload(img, 'quic').data;
    const lzBefore = encodeImagePayload(img, 'lz').data;
    warmUpDisplayPaths(1);
    expect(encodeImagePayload(img, 'quic').data.equals(before)).toBe(true);
    expect(encodeImagePayload(img, 'lz').data.equals(lzBefore)).toBe(true);
  });
});

describe('uniform images, aligned or not', () => {
  function shared(data: Buffer, w: number, h: number, stride: number): SharedImage {
    return new SharedImage(
      { width: w, height: h, stride, data },
      { x: 0, y: 0 },
      { top: 0, left: 0, bottom: h, right: w },
    );
  }
  for (const offset of [0, 1, 3]) {
    it(`finds the colour of a uniform image at byte offset ${offset}, ignoring the fourth byte`, () => {
      const w = 13,
        h = 7,
        stride = w * 4 + 8;
      const backing = Buffer.alloc(offset + stride * h);
      const data = backing.subarray(offset);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) data.writeUInt32LE((((x * y) << 24) | 0x123456) >>> 0, y * stride + x * 4);
      expect(shared(data, w, h, stride).uniformColor()).toBe(0x123456);
      data[3 * stride + 5 * 4 + 2] = 0x13; // one red byte differs
      expect(shared(data, w, h, stride).uniformColor()).toBeNull();
    });
  }
});

describe('Desktop surface memory', () => {
  it('recycles a destroyed small surface zeroed, and never the primary', () => {
    const d = new Desktop();
    d.display({ kind: 'surfaceCreate', surfaceId: 0, width: 32, height: 32, primary: true });
    d.display({ kind: 'surfaceCreate', surfaceId: 5, width: 24, height: 24, primary: false });
    d.display({ kind: 'fill', surfaceId: 5, rect: { top: 0, left: 0, bottom: 24, right: 24 }, color: 0xabcdef });
    const old = d.surface(5)!.data;
    d.display({ kind: 'surfaceDestroy', surfaceId: 5 });
    d.display({ kind: 'surfaceCreate', surfaceId: 6, width: 24, height: 24, primary: false });
    const s = d.surface(6)!;
    expect(s.data.buffer).toBe(old.buffer); // the same memory again
    expect(s.data.every((b) => b === 0)).toBe(true);
    expect(s.blank).toBe(true);
    const primary = d.primary!.data;
    d.display({ kind: 'surfaceDestroy', surfaceId: 0 });
    d.display({ kind: 'surfaceCreate', surfaceId: 7, width: 32, height: 32, primary: false });
    expect(d.surface(7)!.data.buffer).not.toBe(primary.buffer);
  });
});
