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
import { until } from './helpers/wait.js';
import { drawWindow, idle, makeFrames, play, videoOnTestClock, type WindowsAbove } from './helpers/video-rig.js';

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

/** PSNR of `rect` of a screenshot against a picture of that size, leaving out the pixels in `skip`. */
function psnr(shot: PixelImage, rect: Rect, frame: PixelImage, skip?: Rect): number {
  let sum = 0;
  let n = 0;
  for (let y = 0; y < frame.height; y++) {
    for (let x = 0; x < frame.width; x++) {
      const sy = rect.top + y;
      const sx = rect.left + x;
      if (skip && sy >= skip.top && sy < skip.bottom && sx >= skip.left && sx < skip.right) continue;
      const a = sy * shot.stride + sx * 4;
      const b = y * frame.stride + x * 4;
      for (let c = 0; c < 3; c++) sum += (shot.data[a + c]! - frame.data[b + c]!) ** 2;
      n += 3;
    }
  }
  return 10 * Math.log10((255 * 255) / (sum / n));
}

/** Pixels of `rect` whose colour differs between two pictures. */
function differing(a: PixelImage, b: PixelImage, rect: Rect): number {
  let n = 0;
  for (let y = rect.top; y < rect.bottom; y++) {
    for (let x = rect.left; x < rect.right; x++) {
      const i = y * a.stride + x * 4;
      const j = y * b.stride + x * 4;
      if (a.data[i] !== b.data[j] || a.data[i + 1] !== b.data[j + 1] || a.data[i + 2] !== b.data[j + 2]) n++;
    }
  }
  return n;
}

/**
 * The video area of `shot` (but `skip`) is a frame drawn after the stream started (by 3 frames at
 * least): once a stream started no draw reaches the viewer inside it, so it came from a stream frame.
 */
function expectStreamFrame(shot: PixelImage, frames: readonly PixelImage[], startedAt: number, skip?: Rect): void {
  expect(startedAt).toBeGreaterThanOrEqual(0);
  const scores = frames.map((f) => psnr(shot, VIDEO, f, skip));
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
    // A picture there that matches a later frame came from a stream frame, decoded and shown by spice-gtk.
    expectStreamFrame(during!, frames, startedAt);
    expect(viewer.log()).toMatch(/display_handle_stream_create/);
    // The video stops: the stream ends, the area comes again losslessly.
    await idle(700);
    await exactAtGtk(viewer, server, join(dir, 'after.png'));
  });
});

/** Wait until spice-gtk shows the server's exact screen (the stream ended, the area came losslessly). */
async function exactAtGtk(viewer: { shot: (path: string) => Promise<PixelImage> }, server: SpiceServer, path: string) {
  let diff = -1;
  const exactNow = async (): Promise<boolean> =>
    (diff = diffPixels(await viewer.shot(path), server.desktop.primary!)) === 0;
  await until(() => `the exact screen at spice-gtk (${diff} pixels differ)`, exactNow, 15_000, 100);
}

describe.skipIf(noGlib !== '')(`spice-gtk clips spiced's streams where a window covers them${skipNote(noGlib)}`, () => {
  it('shows the window exact over the playing video, the video around it, and the exact final frame', async () => {
    const { feed, server } = await startServer();
    const viewer = await gtkViewer(server.port);
    cleanup = async () => {
      viewer.child.kill();
      await server.stop();
    };
    const dir = tempDir('spiced-video-clip-');
    // A window in the middle of the video: the capture's bands cross it with its unchanged pixels.
    const win: Rect = { top: 96, left: 160, bottom: 192, right: 288 };
    const above: WindowsAbove = { rects: [], mode: 'span', surface: server.desktop.primary! };
    const frames = makeFrames(VIDEO, 110);
    let startedAt = -1;
    let during: PixelImage | undefined;
    await play(feed, VIDEO, frames, 25, {
      above,
      onFrame: async (n) => {
        if (startedAt < 0 && server.display.video.stats.started > 0) {
          startedAt = n;
          drawWindow(feed, win);
          above.rects.push(win);
        }
        // Two seconds later (a clip that lapsed after one would show the window as a JPEG frame).
        if (startedAt >= 0 && n === startedAt + 50) during = await viewer.shot(join(dir, 'during.png'));
      },
    });
    expect(startedAt).toBeGreaterThanOrEqual(0);
    expect(startedAt).toBeLessThan(110 - 50);
    // Where the window is, spice-gtk shows its exact pixels (drawn, then clipped out of every frame);
    // around it, a stream frame.
    expect(differing(during!, server.desktop.primary!, win)).toBe(0);
    expectStreamFrame(during!, frames, startedAt, win);
    await idle(700);
    await exactAtGtk(viewer, server, join(dir, 'after.png'));
  });
});

/*
 * spice-html5 (0.3.0) keeps a stream's clip but draws every frame whole: where a window covers a
 * stream it shows the frame's JPEG of the window (frames are captured from the server's surface),
 * until the stream ends and the area comes again losslessly. Clipping is tested with spice-gtk only.
 */
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
