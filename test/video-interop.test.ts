import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sameRgb, type PixelImage } from '../src/display/pixels.js';
import type { Rect } from '../src/protocol/geometry.js';
import { SpiceServer } from '../src/server/server.js';
import { FeedSource } from '../src/sources/feed.js';
import { canvasPixels, launchChromium, waitForCanvas } from './helpers/browser.js';
import { lacking, skipNote } from './helpers/probes.js';
import { gtkViewer } from './helpers/gtk-viewer.js';
import { diffPixels, tempDir } from './helpers/tools.js';
import { idle, makeFrames, play, sleep, videoOnTestClock } from './helpers/video-rig.js';

/*
 * Real viewers play spiced's MJPEG streams: spice-gtk (SpiceClientGLib, what remote-viewer uses)
 * and spice-html5 in Chromium show stream frames where the video is while it plays, and the exact
 * final frame once it stops. Once a stream started, no draw reaches a viewer inside it: a picture
 * there that matches a frame drawn after the start came from a stream frame the viewer decoded.
 */

const W = 640;
const H = 400;
const VIDEO: Rect = { top: 48, left: 64, bottom: 48 + 192, right: 64 + 320 };
const noGlib = lacking('spice-glib');

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function startServer(): Promise<{ feed: FeedSource; server: SpiceServer }> {
  const feed = new FeedSource();
  feed.push({ kind: 'surfaceCreate', surfaceId: 0, width: W, height: H, primary: true });
  feed.push({ kind: 'fill', surfaceId: 0, rect: { top: 0, left: 0, bottom: H, right: W }, color: 0x336699 });
  const server = new SpiceServer({
    source: feed,
    port: 0,
    listen: '127.0.0.1',
    audio: false,
    display: videoOnTestClock(),
  });
  await server.start();
  return { feed, server };
}

/** PSNR of `rect` of a screenshot against a picture of that size. */
function psnr(shot: PixelImage, rect: Rect, frame: PixelImage): number {
  let sum = 0;
  for (let y = 0; y < frame.height; y++) {
    for (let x = 0; x < frame.width; x++) {
      const a = (rect.top + y) * shot.stride + (rect.left + x) * 4;
      const b = y * frame.stride + x * 4;
      for (let c = 0; c < 3; c++) sum += (shot.data[a + c]! - frame.data[b + c]!) ** 2;
    }
  }
  return 10 * Math.log10((255 * 255) / (sum / (frame.width * frame.height * 3)));
}

/** The video area of `shot` is a frame drawn after the stream started (by 3 frames at least). */
function expectStreamFrame(shot: PixelImage, frames: readonly PixelImage[], startedAt: number): void {
  expect(startedAt).toBeGreaterThanOrEqual(0);
  const scores = frames.map((f) => psnr(shot, VIDEO, f));
  const best = scores.indexOf(Math.max(...scores));
  expect(best).toBeGreaterThan(startedAt + 2);
  expect(scores[best]).toBeGreaterThan(28);
}

describe.skipIf(noGlib !== '')(`spice-gtk plays spiced's streams${skipNote(noGlib)}`, () => {
  it('shows stream frames while the video plays and the exact final frame after it', async () => {
    const { feed, server } = await startServer();
    const viewer = await gtkViewer(server.port);
    cleanup = async () => {
      viewer.child.kill();
      await server.stop();
    };
    const dir = tempDir('spiced-video-');
    const frames = makeFrames(VIDEO, 50);
    let startedAt = -1;
    let during: PixelImage | undefined;
    await play(feed, VIDEO, frames, 25, {
      onFrame: async (n) => {
        if (startedAt < 0 && server.display.video.stats.started > 0) startedAt = n;
        if (n === 44) during = await viewer.shot(join(dir, 'during.png'));
      },
    });
    expect(startedAt).toBeGreaterThanOrEqual(0);
    // Once the stream started no draw reaches the viewer inside it: a picture there that matches a
    // later frame came from a stream frame, decoded and shown by spice-gtk.
    const scores = frames.map((f) => psnr(during!, VIDEO, f));
    const best = scores.indexOf(Math.max(...scores));
    expect(best).toBeGreaterThan(startedAt + 2);
    expect(scores[best]).toBeGreaterThan(28);
    expect(viewer.log()).toMatch(/display_handle_stream_create/);
    // The video stops: the stream ends, the area comes again losslessly.
    await idle(700);
    await sleep(500);
    expect(diffPixels(await viewer.shot(join(dir, 'after.png')), server.desktop.primary!)).toBe(0);
  });
});

const noHtml5 = lacking('chromium', 'spice-html5');

describe.skipIf(noHtml5 !== '')(`spice-html5 in Chromium plays spiced's streams${skipNote(noHtml5)}`, () => {
  it('shows stream frames while the video plays and the exact final frame after it', async () => {
    const { feed, server } = await startServer();
    const browser = await launchChromium();
    cleanup = async () => {
      await browser.close();
      await server.stop();
    };
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.plainPort}/spice-html5/`);
    expect(await waitForCanvas(page, (img) => sameRgb(img, server.desktop.primary!))).toBeDefined();
    const frames = makeFrames(VIDEO, 50);
    let startedAt = -1;
    let during: PixelImage | undefined;
    await play(feed, VIDEO, frames, 25, {
      onFrame: async (n) => {
        if (startedAt < 0 && server.display.video.stats.started > 0) startedAt = n;
        if (n === 44) during = await canvasPixels(page);
      },
    });
    expectStreamFrame(during!, frames, startedAt);
    await idle(700);
    const after = await waitForCanvas(page, (img) => sameRgb(img, server.desktop.primary!), 20_000);
    expect(after && diffPixels(after, server.desktop.primary!)).toBe(0);
  });
});
