import { describe, expect, it } from 'vitest';
import { LossyAreas } from '../src/channels/lossy-areas.js';

/* Where a viewer shows JPEG pixels, and which of those areas are due for a lossless refresh. */

const r = (left: number, top: number, right: number, bottom: number) => ({ top, left, bottom, right });

describe('lossy areas', () => {
  it('are due once nothing lossy was drawn into them for the quiet time', () => {
    const a = new LossyAreas();
    a.add(r(0, 0, 100, 100), 0);
    a.add(r(200, 0, 300, 100), 400);
    expect(a.takeQuiet(450, 500)).toEqual([]);
    expect(a.takeQuiet(600, 500)).toEqual([r(0, 0, 100, 100)]);
    expect(a.size).toBe(1);
    expect(a.takeQuiet(900, 500)).toEqual([r(200, 0, 300, 100)]);
    expect(a.size).toBe(0);
  });

  it('a lossless draw over an area makes it exact; copy-bits carries lossy pixels where they land', () => {
    const a = new LossyAreas();
    a.add(r(0, 0, 100, 100), 0);
    a.add(r(0, 200, 50, 250), 0);
    a.covered(r(0, 190, 60, 260));
    expect(a.size).toBe(1);
    // Scroll up by 40: the area's top 40 rows leave the copied source, the rest lands 40 higher.
    a.copied(r(0, 0, 100, 60), { x: 0, y: 40 }, 10);
    expect(a.takeQuiet(1000, 500)).toEqual([r(0, 0, 100, 100), r(0, 0, 100, 60)]);
    // A copy from outside every lossy area adds nothing.
    a.copied(r(300, 300, 310, 310), { x: 400, y: 400 }, 20);
    expect(a.size).toBe(0);
  });
});
