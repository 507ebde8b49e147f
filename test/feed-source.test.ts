import { describe, expect, it } from 'vitest';
import { FEED_INPUTS_KEPT, FeedSource } from '../src/sources/feed.js';

describe('FeedSource', () => {
  it('keeps the latest input events only (viewers may send input for as long as they like)', () => {
    const feed = new FeedSource();
    for (let x = 0; x < 3 * FEED_INPUTS_KEPT; x++) feed.input({ kind: 'pointer', x, y: 0, buttons: 0 });
    expect(feed.inputs).toHaveLength(FEED_INPUTS_KEPT);
    expect(feed.inputs[0]).toMatchObject({ x: 2 * FEED_INPUTS_KEPT });
    expect(feed.inputs.at(-1)).toMatchObject({ x: 3 * FEED_INPUTS_KEPT - 1 });
  });
});
