import { describe, expect, it } from 'vitest';
import { ExactRefresh } from '../src/channels/exact-refresh.js';

/* The areas a viewer is owed losslessly (a stream's end), and the bands they are sent in. */

const r = (left: number, top: number, right: number, bottom: number) => ({ top, left, bottom, right });

/** Every band of everything owed, `pixels` at a time. */
function drain(o: ExactRefresh, pixels: number) {
  const bands = [];
  for (let b = o.take(pixels); b; b = o.take(pixels)) bands.push(b);
  return bands;
}

describe('exact refresh', () => {
  it('cuts an area into bands of whole rows from its top, a power of two of them, at least 8', () => {
    const o = new ExactRefresh();
    o.add(r(0, 0, 640, 360));
    // 640 x 100 pixels are 100 rows of the area: 64 (a power of two, so viewers on links alike share bands).
    expect(o.peek(640 * 100)).toEqual(r(0, 0, 640, 64));
    expect(o.peek(640 * 300)).toEqual(r(0, 0, 640, 256));
    const bands = drain(o, 640 * 64);
    expect(bands).toEqual([
      r(0, 0, 640, 64),
      r(0, 64, 640, 128),
      r(0, 128, 640, 192),
      r(0, 192, 640, 256),
      r(0, 256, 640, 320),
      r(0, 320, 640, 360),
    ]);
    expect(o.pending).toBe(false);
    // A band never goes under 8 rows (smaller ones of a photo went as LZ, 50 % larger).
    o.add(r(0, 0, 640, 20));
    expect(drain(o, 100)).toEqual([r(0, 0, 640, 8), r(0, 8, 640, 16), r(0, 16, 640, 20)]);
  });

  it('peek leaves the band owed; take does not', () => {
    const o = new ExactRefresh();
    o.add(r(0, 0, 10, 10));
    expect(o.peek(1000)).toEqual(r(0, 0, 10, 10));
    expect(o.pending).toBe(true);
    expect(o.take(1000)).toEqual(r(0, 0, 10, 10));
    expect(o.pending).toBe(false);
    expect(o.peek(1000)).toBeUndefined();
  });

  it('owes an area once, and no longer once a draw covered it', () => {
    const o = new ExactRefresh();
    o.add(r(0, 0, 100, 100));
    o.add(r(10, 10, 20, 20)); // inside: owed as part of the first
    o.add(r(200, 0, 300, 100));
    o.covered(r(190, 0, 310, 110));
    expect(drain(o, 1e6)).toEqual([r(0, 0, 100, 100)]);
    // A larger area takes in the smaller ones already owed.
    o.add(r(10, 10, 20, 20));
    o.add(r(0, 0, 100, 100));
    expect(drain(o, 1e6)).toEqual([r(0, 0, 100, 100)]);
    // A draw over part of an area leaves it owed whole (more refreshed than needed, never less).
    o.add(r(0, 0, 100, 100));
    o.covered(r(0, 0, 50, 50));
    expect(drain(o, 1e6)).toEqual([r(0, 0, 100, 100)]);
  });

  it('owes where copy-bits landed the stale pixels of an owed area', () => {
    const o = new ExactRefresh();
    o.add(r(0, 100, 100, 200));
    // A scroll up by 40 over rows 60-200: rows 100-200 land at 60-160.
    o.copied(r(0, 60, 100, 160), { x: 0, y: 100 });
    expect(drain(o, 1e6)).toEqual([r(0, 100, 100, 200), r(0, 60, 100, 160)]);
    // A copy from outside every owed area owes nothing more.
    o.add(r(0, 0, 10, 10));
    o.copied(r(300, 300, 310, 310), { x: 400, y: 400 });
    expect(drain(o, 1e6)).toEqual([r(0, 0, 10, 10)]);
  });

  it('merges past 64 areas into their bounding box, and gives everything up at once', () => {
    const o = new ExactRefresh();
    for (let i = 0; i < 65; i++) o.add(r(i * 10, 0, i * 10 + 5, 5));
    expect(o.takeAll()).toEqual([r(0, 0, 645, 5)]);
    expect(o.pending).toBe(false);
  });
});
