import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { countRgbDifferences, sameRgb } from '../src/display/pixels.js';
import type { Rect } from '../src/protocol/geometry.js';
import { SpiceServer } from '../src/server/server.js';
import { FeedSource } from '../src/sources/feed.js';
import { launchChromium, VIEWER_CANVAS, waitForCanvas } from './helpers/browser.js';
import { lacking, skipNote } from './helpers/probes.js';
import { idle, makeFrames, play, videoOnTestClock } from './helpers/video-rig.js';

/*
 * MJPEG video streams in spiced's web viewer (Chromium): frames decoded by the browser are painted
 * while the video plays, and the exact final frame is shown after it stops. With ?video=0 the
 * page takes no streams (the server sends images) and still ends exact.
 */
const W = 640;
const H = 400;
const VIDEO: Rect = { top: 48, left: 64, bottom: 48 + 192, right: 64 + 320 };
// The viewer's bundle is there: test/global-build.ts stops the run when dist/ is missing or stale.
const why = lacking('chromium');

interface VideoCounts {
  painted: number;
  dropped: number;
  streams: number;
}

describe.skipIf(why !== '')(`MJPEG streams in spiced's web viewer${skipNote(why)}`, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  for (const streams of [true, false]) {
    it(
      streams
        ? 'paints stream frames while the video plays, then the exact final frame'
        : '?video=0: no streams, exact all the same',
      async () => {
        const feed = new FeedSource();
        feed.push({ kind: 'surfaceCreate', surfaceId: 0, width: W, height: H, primary: true });
        feed.push({ kind: 'fill', surfaceId: 0, rect: { top: 0, left: 0, bottom: H, right: W }, color: 0x336699 });
        const server = new SpiceServer({ source: feed, port: 0, audio: false, display: videoOnTestClock() });
        await server.start();
        const page = await browser.newPage();
        try {
          await page.goto(`http://127.0.0.1:${server.plainPort}/?resize=0${streams ? '' : '&video=0'}`);
          await waitForCanvas(page, (img) => sameRgb(img, server.desktop.primary!), 15_000, VIEWER_CANVAS);
          await play(feed, VIDEO, makeFrames(VIDEO, 40), 25);
          const counts = (await page.evaluate(`(() => {
          const v = window.spiced.video;
          return { painted: v ? v.painted : 0, dropped: v ? v.dropped : 0, streams: window.spiced.session.display.streamLog.length };
        })()`)) as VideoCounts;
          if (streams) {
            expect(counts.streams).toBeGreaterThan(0);
            expect(counts.painted).toBeGreaterThan(5);
          } else {
            expect(counts).toEqual({ painted: 0, dropped: 0, streams: 0 });
          }
          await idle(700);
          const shown = await waitForCanvas(
            page,
            (img) => sameRgb(img, server.desktop.primary!),
            15_000,
            VIEWER_CANVAS,
          );
          expect(shown && countRgbDifferences(shown, server.desktop.primary!)).toBe(0);
        } finally {
          await page.close();
          await server.stop();
        }
      },
      40_000,
    );
  }
});
