import { describe, expect, it } from 'vitest';
import { ViewerImageCache } from '../src/channels/image-cache.js';
import { SpiceClient } from '../src/client/client.js';
import { sameRgb } from '../src/display/pixels.js';
import { SpiceServer } from '../src/server/server.js';
import { FeedSource } from '../src/sources/feed.js';
import { DisplayMsg } from '../src/protocol/constants.js';
import { gradient } from './helpers/pattern-source.js';

describe('viewer image cache model', () => {
  it('hits repeats, evicts least recently used first and never exceeds the capacity', () => {
    const c = new ViewerImageCache(1000);
    expect(c.lookup('a')).toBeUndefined();
    expect(c.insert('a', 1n, 400)).toEqual([]);
    expect(c.insert('b', 2n, 400)).toEqual([]);
    expect(c.lookup('a')).toBe(1n); // a is now the most recent
    expect(c.insert('c', 3n, 400)).toEqual([2n]); // b goes
    expect(c.usedPixels).toBeLessThanOrEqual(1000);
    expect(c.accepts(125)).toBe(true); // up to an eighth of the cache per image
    expect(c.accepts(126)).toBe(false);
  });

  it('remembers a bounded number of entries however large the announced capacity', () => {
    const c = new ViewerImageCache(2 ** 40, 100);
    const evicted: bigint[] = [];
    for (let i = 0; i < 1000; i++) evicted.push(...c.insert(`k${i}`, BigInt(i), 1));
    expect(c.size).toBe(100);
    expect(evicted).toEqual(Array.from({ length: 900 }, (_, i) => BigInt(i))); // oldest first, each told to the viewer
    expect(c.lookup('k999')).toBe(999n);
    expect(c.lookup('k0')).toBeUndefined();
  });
});

describe('repeated images over the wire', () => {
  it('go as FROM_CACHE after the first time, and uniform images as fills', async () => {
    const feed = new FeedSource();
    feed.push({ kind: 'surfaceCreate', surfaceId: 0, width: 200, height: 100, primary: true });
    const server = new SpiceServer({ source: feed, port: 0 });
    await server.start();
    const client = new SpiceClient({ port: server.port, channels: [2] });
    await client.connect();
    await client.waitFor(() => client.display.marks > 0, 5000, 'first frame');
    const glyph = gradient(8, 16, 3);
    for (let i = 0; i < 10; i++)
      feed.push({
        kind: 'copy',
        surfaceId: 0,
        dest: { top: 10, left: 10 + 9 * i, bottom: 26, right: 18 + 9 * i },
        image: glyph,
      });
    const flat = gradient(1, 1, 0);
    feed.push({ kind: 'copy', surfaceId: 0, dest: { top: 50, left: 0, bottom: 51, right: 1 }, image: flat });
    await client.waitFor(() => sameRgb(client.display.primary!, server.desktop.primary!), 5000, 'in sync');
    const display = [...server.display.clients][0]!;
    expect(display.cacheStats).toMatchObject({ hits: 9 });
    const byType = client.channels.get(2)!.stats.byType;
    expect(byType.get(DisplayMsg.DrawCopy)!.count).toBeGreaterThanOrEqual(10);
    // The blank first screen and the one-pixel image both went as fills.
    expect(byType.get(DisplayMsg.DrawFill)?.count).toBe(2);
    client.close();
    await server.stop();
  });
});

describe('content keys of large images', () => {
  it('a repeat hits, a copy differing in one pixel does not (keyed Poly1305 above 16 KiB, SHA-256 below)', async () => {
    const feed = new FeedSource();
    feed.push({ kind: 'surfaceCreate', surfaceId: 0, width: 400, height: 300, primary: true });
    const server = new SpiceServer({ source: feed, port: 0 });
    await server.start();
    const client = new SpiceClient({ port: server.port, channels: [2] });
    await client.connect();
    await client.waitFor(() => client.display.marks > 0, 5000, 'first frame');
    const photo = gradient(160, 120, 5); // 76,800 bytes
    const almost = gradient(160, 120, 5);
    almost.data[4 * 1000] ^= 0x10; // one blue value
    const at = (x: number) => ({ top: 0, left: x, bottom: 120, right: x + 160 });
    feed.push({ kind: 'copy', surfaceId: 0, dest: at(0), image: photo });
    feed.push({ kind: 'copy', surfaceId: 0, dest: at(200), image: photo });
    feed.push({ kind: 'copy', surfaceId: 0, dest: { ...at(0), top: 150, bottom: 270 }, image: almost });
    await client.waitFor(() => sameRgb(client.display.primary!, server.desktop.primary!), 5000, 'in sync');
    const display = [...server.display.clients][0]!;
    expect(display.cacheStats).toMatchObject({ hits: 1 });
    client.close();
    await server.stop();
  });
});
