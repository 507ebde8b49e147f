import { describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import { sameRgb } from '../src/display/pixels.js';
import { SpiceServer } from '../src/server/server.js';
import { FeedSource } from '../src/sources/feed.js';
import { Watch } from './helpers/gc.js';
import { gradient } from './helpers/pattern-source.js';

/*
 * Issue 18.1: a window drag sends about one whole frame per frame, and every frame stayed
 * referenced by the pipe after it had been sent (1.4 GB after a 10-second drag). Through the whole
 * path (desktop, display channel, pipe, stream, socket): once a viewer has a frame, nothing on the
 * server holds the image the source handed over, nor its encodings.
 */
describe('images that have been sent', () => {
  it('are collectable once the viewer has them', async () => {
    const feed = new FeedSource();
    feed.push({ kind: 'surfaceCreate', surfaceId: 0, width: 320, height: 240, primary: true });
    const server = new SpiceServer({ source: feed, port: 0, listen: '127.0.0.1' });
    await server.start();
    const viewer = new SpiceClient({ port: server.port, channels: [2] });
    try {
      await viewer.connect();
      await viewer.waitFor(() => viewer.display.marks > 0, 5000, 'first frame');
      const watch = new Watch();
      // Not a local of this async function: its suspended frame could keep the last one alive.
      const pushFrame = (i: number): void => {
        const image = watch.add(`frame ${i}`, gradient(320, 240, i + 1));
        feed.push({ kind: 'copy', surfaceId: 0, dest: { top: 0, left: 0, bottom: 240, right: 320 }, image });
      };
      for (let i = 0; i < 60; i++) {
        pushFrame(i);
        if (i % 10 === 9)
          await viewer.waitFor(() => sameRgb(viewer.display.primary!, server.desktop.primary!), 5000, `frame ${i}`);
      }
      expect(await watch.alive()).toEqual([]);
    } finally {
      viewer.close();
      await server.stop();
    }
  });
});
