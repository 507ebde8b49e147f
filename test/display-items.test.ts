import { describe, expect, it } from 'vitest';
import { SharedImage } from '../src/channels/display-items.js';
import { gradient } from './helpers/pattern-source.js';
import { Watch } from './helpers/gc.js';

/*
 * A queued copy is weighed by its box (pipe weight, the lagging-viewer bound), so it must not keep
 * a larger image alive: the X11 source hands whole captured rects and sends the rows that changed.
 */
describe('SharedImage keeps only its box', () => {
  it('a box much smaller than the image it comes from does not hold that image', async () => {
    const watch = new Watch();
    const rows = new SharedImage(watch.add('capture', gradient(640, 480, 1)), { x: 0, y: 100 }, { top: 100, left: 0, bottom: 116, right: 640 });
    expect(await watch.alive()).toEqual([]);
    expect(rows.key()).toMatch(/^640x16:/);
  });

  it('a box that is most of its image lets the image go once it has been cropped for encoding', async () => {
    const watch = new Watch();
    const most = new SharedImage(watch.add('capture', gradient(64, 64, 2)), { x: 0, y: 8 }, { top: 8, left: 0, bottom: 64, right: 64 });
    expect(await watch.alive()).toEqual(['capture']); // not encoded yet: it is all there is
    expect(most.payload('lz').width).toBe(64);
    expect(await watch.alive()).toEqual([]);
    expect(most.uniformColor()).toBeNull();
  });
});
