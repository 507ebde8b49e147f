import { describe, expect, it } from 'vitest';
import { copyItem, fillItem, SharedImage, type ViewerImaging } from '../src/channels/display-items.js';
import { ViewerImageCache } from '../src/channels/image-cache.js';
import type { OutMessage } from '../src/protocol/message.js';
import { gradient } from './helpers/pattern-source.js';
import { Watch } from './helpers/gc.js';

/*
 * A queued copy is weighed by its box (pipe weight, the lagging-viewer bound), so it must not keep
 * a larger image alive: the X11 source hands whole captured rects and sends the rows that changed.
 */
describe('SharedImage keeps only its box', () => {
  it('a box much smaller than the image it comes from does not hold that image', async () => {
    const watch = new Watch();
    const rows = new SharedImage(
      watch.add('capture', gradient(640, 480, 1)),
      { x: 0, y: 100 },
      { top: 100, left: 0, bottom: 116, right: 640 },
    );
    expect(await watch.alive()).toEqual([]);
    expect(rows.key()).toMatch(/^640x16:/);
  });

  it('a box that is most of its image lets the image go once it has been cropped for encoding', async () => {
    const watch = new Watch();
    const most = new SharedImage(
      watch.add('capture', gradient(64, 64, 2)),
      { x: 0, y: 8 },
      { top: 8, left: 0, bottom: 64, right: 64 },
    );
    expect(await watch.alive()).toEqual(['capture']); // not encoded yet: it is all there is
    expect(most.payload('lz').width).toBe(64);
    expect(await watch.alive()).toEqual([]);
    expect(most.uniformColor()).toBeNull();
  });
});

/*
 * Issue 15: with hundreds of viewers, encoding each draw message again per viewer was a large
 * part of the server's CPU; every viewer gets the same bytes except a cache hit and an eviction.
 */
describe('draw messages are encoded once for every viewer', () => {
  const viewer = (cache: ViewerImageCache | undefined): ViewerImaging => ({
    compression: () => 'auto',
    cache: () => cache,
  });
  const rect = { top: 0, left: 0, bottom: 32, right: 32 };

  it('a copy is the same message for viewers with and without a cache', () => {
    const shared = new SharedImage(gradient(32, 32, 3), { x: 0, y: 0 }, rect);
    const a = copyItem(shared, viewer(new ViewerImageCache(1 << 20))).marshal();
    const b = copyItem(shared, viewer(new ViewerImageCache(1 << 20))).marshal();
    expect(b).toBe(a);
    const plain = copyItem(shared, viewer(undefined)).marshal() as OutMessage;
    expect(copyItem(shared, viewer(undefined)).marshal()).toBe(plain);
    // Same payload bytes, not a second encoding.
    expect(plain.parts.at(-1)).toBe((a as OutMessage).parts.at(-1));
  });

  it('a fill item is encoded once however many viewers send it', () => {
    const item = fillItem(rect, 0x123456);
    expect(item.marshal()).toBe(item.marshal());
  });
});
