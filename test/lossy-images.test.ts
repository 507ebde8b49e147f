import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeStats } from '../src/channels/display-items.js';
import { SpiceClient } from '../src/client/client.js';
import { sameRgb, type PixelImage } from '../src/display/pixels.js';
import type { ImageQuality } from '../src/display/wire-image.js';
import type { Rect } from '../src/protocol/geometry.js';
import { SpiceServer } from '../src/server/server.js';
import { FeedSource } from '../src/sources/feed.js';
import { DEFAULT_VIDEO_OPTIONS } from '../src/video/streams.js';
import { HTML5_CANVAS, launchChromium, VIEWER_CANVAS, waitForCanvas } from './helpers/browser.js';
import type { Page } from 'playwright-core';
import { gtkViewer } from './helpers/gtk-viewer.js';
import { lacking, skipNote } from './helpers/probes.js';
import { diffPixels, tempDir } from './helpers/tools.js';
import { textFrame, videoFrame } from './helpers/video-frames.js';
import { ManualClock } from './helpers/manual-clock.js';
import { until } from './helpers/wait.js';
import { systemClock, type Clock } from '../src/util/clock.js';

/*
 * Lossy images (--image-quality): photo-like images go to viewers as JPEG, text does not, and once
 * an area stays quiet it comes again losslessly, so the viewer ends on the server's exact screen.
 * Through the real server and sockets, with the project's viewer (which decodes JPEG with jpeg-js),
 * spice-gtk (libjpeg) and spice-html5 in Chromium (the browser's decoder).
 */

const W = 480;
const H = 320;
const PHOTO: Rect = { top: 40, left: 32, bottom: 40 + 160, right: 32 + 256 };
const TEXT: Rect = { top: 240, left: 0, bottom: 240 + 28, right: 320 };
const WAIT_MS = 20_000;

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/**
 * The quiet time of lossy areas runs on `clock` (the viewers' channel clients'): the tests that look
 * at the JPEG before it is replaced move it themselves, so a slow look cannot miss the JPEG.
 */
async function startServer(
  imageQuality: ImageQuality,
  lossyQuietMs = 500,
  clock: Clock = systemClock,
): Promise<{ feed: FeedSource; server: SpiceServer }> {
  const feed = new FeedSource();
  feed.push({ kind: 'surfaceCreate', surfaceId: 0, width: W, height: H, primary: true });
  feed.push({ kind: 'fill', surfaceId: 0, rect: { top: 0, left: 0, bottom: H, right: W }, color: 0x204060 });
  const display = { imageQuality, lossyQuietMs, video: { ...DEFAULT_VIDEO_OPTIONS, enabled: false } };
  const options = { source: feed, port: 0, listen: '127.0.0.1', audio: false, display, client: { clock } };
  const server = new SpiceServer(options);
  await server.start();
  return { feed, server };
}

function drawPhotoAndText(feed: FeedSource, n: number): void {
  const w = (r: Rect): number => r.right - r.left;
  const h = (r: Rect): number => r.bottom - r.top;
  feed.push({ kind: 'copy', surfaceId: 0, dest: PHOTO, image: videoFrame(w(PHOTO), h(PHOTO), n) });
  feed.push({ kind: 'copy', surfaceId: 0, dest: TEXT, image: textFrame(w(TEXT), h(TEXT), n) });
}

/** Mean squared error of `rect` between two pictures (0: exact). */
function mse(a: PixelImage, b: PixelImage, rect: Rect): number {
  let sum = 0;
  for (let y = rect.top; y < rect.bottom; y++) {
    for (let x = rect.left; x < rect.right; x++) {
      for (let c = 0; c < 3; c++) sum += (a.data[y * a.stride + 4 * x + c]! - b.data[y * b.stride + 4 * x + c]!) ** 2;
    }
  }
  return sum / ((rect.bottom - rect.top) * (rect.right - rect.left) * 3);
}

async function projectViewer(server: SpiceServer): Promise<SpiceClient> {
  const v = new SpiceClient({ port: server.port, channels: [2] });
  await v.connect();
  await v.waitFor(() => v.display.marks > 0, WAIT_MS, 'first frame');
  return v;
}

describe("the project's viewer and lossy images", () => {
  it('lossy: the photo comes as JPEG (close, not exact), the text exact, and after a quiet moment all is exact', async () => {
    const clock = new ManualClock();
    const { feed, server } = await startServer('lossy', 1500, clock);
    const v = await projectViewer(server);
    cleanup = async () => {
      v.close();
      await server.stop();
    };
    const jpegs = encodeStats.jpegs;
    drawPhotoAndText(feed, 1);
    const s = server.desktop.primary!;
    // The photo arrives lossy: near the server's pixels, not equal; the text beside it exact.
    await v.waitFor(() => mse(v.display.primary!, s, PHOTO) < 40, WAIT_MS, 'the photo, lossy');
    expect(mse(v.display.primary!, s, PHOTO)).toBeGreaterThan(0);
    expect(mse(v.display.primary!, s, TEXT)).toBe(0);
    expect(encodeStats.jpegs).toBe(jpegs + 1);
    // Quiet: the lossy area comes again losslessly, not before.
    await clock.advance(1400);
    expect(mse(v.display.primary!, s, PHOTO)).toBeGreaterThan(0);
    await clock.advance(200);
    await v.waitFor(() => sameRgb(v.display.primary!, s), WAIT_MS, 'the exact screen');
  });

  it('lossy, three viewers: the lossless refresh of the quiet area is taken and encoded once for all of them', async () => {
    const { feed, server } = await startServer('lossy', 1000);
    const viewers = [await projectViewer(server), await projectViewer(server), await projectViewer(server)];
    cleanup = async () => {
      for (const v of viewers) v.close();
      await server.stop();
    };
    const snapshots = server.display.snapshots;
    const before = { taken: snapshots.taken, reused: snapshots.reused, images: encodeStats.images };
    drawPhotoAndText(feed, 3);
    const s = server.desktop.primary!;
    for (const v of viewers) await v.waitFor(() => sameRgb(v.display.primary!, s), WAIT_MS, 'the exact screen');
    // One snapshot of the photo's area, handed to the two other viewers as it is (nothing drew
    // there since), so its pixels were encoded once: with the text, two lossless images in all.
    expect(snapshots.taken - before.taken).toBe(1);
    expect(snapshots.reused - before.reused).toBe(2);
    expect(encodeStats.images - before.images).toBe(2);
  });

  it('lossless, and auto on an unconstrained link: no JPEG, the screen exact at once', async () => {
    for (const mode of ['lossless', 'auto'] as const) {
      const { feed, server } = await startServer(mode);
      const v = await projectViewer(server);
      const jpegs = encodeStats.jpegs;
      drawPhotoAndText(feed, 2);
      await v.waitFor(() => sameRgb(v.display.primary!, server.desktop.primary!), WAIT_MS, `exact (${mode})`);
      expect(encodeStats.jpegs).toBe(jpegs);
      v.close();
      await server.stop();
    }
  });
});

const noGlib = lacking('spice-glib');

describe.skipIf(noGlib !== '')(`spice-gtk and lossy images${skipNote(noGlib)}`, () => {
  it('shows the JPEG photo, then the exact screen once the area is quiet', async () => {
    const clock = new ManualClock();
    const { feed, server } = await startServer('lossy', 3000, clock);
    const viewer = await gtkViewer(server.port);
    cleanup = async () => {
      viewer.child.kill();
      await server.stop();
    };
    const dir = tempDir('spiced-lossy-');
    const jpegs = encodeStats.jpegs;
    drawPhotoAndText(feed, 3);
    const s = server.desktop.primary!;
    let during: PixelImage = s;
    const shown = async (): Promise<boolean> =>
      mse((during = await viewer.shot(join(dir, 'during.png'))), s, PHOTO) < 40;
    await until('the photo at spice-gtk', shown, WAIT_MS, 100);
    expect(encodeStats.jpegs).toBe(jpegs + 1);
    // spice-gtk decoded and drew the JPEG: the photo is there, close but not exact; the text exact.
    const err = mse(during, s, PHOTO);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(40);
    expect(mse(during, s, TEXT)).toBe(0);
    // After the quiet time the area comes again losslessly.
    await clock.advance(3100);
    let diff = -1;
    const exact = async (): Promise<boolean> => (diff = diffPixels(await viewer.shot(join(dir, 'after.png')), s)) === 0;
    await until(() => `the exact screen at spice-gtk (${diff} pixels differ)`, exact, WAIT_MS, 100);
  });
});

/**
 * A page of `path` on a lossy server (5 s of quiet before the refresh) draws the JPEG photo close
 * but not exact and the text beside it exact, then the exact screen. `grows`, when given, reads a
 * count of the page's that the JPEG must raise.
 */
async function browserShowsJpegThenExact(
  path: string,
  selector: string,
  grows?: (page: Page) => Promise<number>,
): Promise<void> {
  const { feed, server } = await startServer('lossy', 5000);
  const browser = await launchChromium();
  cleanup = async () => {
    await browser.close();
    await server.stop();
  };
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.plainPort}${path}`);
  const s = server.desktop.primary!;
  expect(await waitForCanvas(page, (img) => sameRgb(img, s), WAIT_MS, selector)).toBeDefined();
  const jpegs = encodeStats.jpegs;
  const before = await grows?.(page);
  drawPhotoAndText(feed, 4);
  const lossy = await waitForCanvas(
    page,
    (img) => mse(img, s, TEXT) === 0 && mse(img, s, PHOTO) < 40,
    WAIT_MS,
    selector,
  );
  expect(lossy && mse(lossy, s, TEXT)).toBe(0);
  const err = lossy ? mse(lossy, s, PHOTO) : Infinity;
  expect(err).toBeGreaterThan(0);
  expect(err).toBeLessThan(40);
  expect(encodeStats.jpegs).toBe(jpegs + 1);
  if (grows) expect(await grows(page)).toBeGreaterThan(before!);
  // After the quiet time the area came again losslessly: the canvas equals the server's screen.
  const after = await waitForCanvas(page, (img) => sameRgb(img, s), WAIT_MS, selector);
  expect(after && diffPixels(after, s)).toBe(0);
}

const noHtml5 = lacking('chromium', 'spice-html5');

describe.skipIf(noHtml5 !== '')(`spice-html5 in Chromium and lossy images${skipNote(noHtml5)}`, () => {
  // spice-html5 decodes the JPEG image (type 105) with the browser's decoder.
  it('shows the JPEG photo, then the exact screen once the area is quiet', async () => {
    await browserShowsJpegThenExact('/spice-html5/', HTML5_CANVAS);
  });
});

const noChromium = lacking('chromium');

describe.skipIf(noChromium !== '')(`spiced's web viewer and lossy images${skipNote(noChromium)}`, () => {
  it('shows the JPEG photo (decoded in its worker), then the exact screen once the area is quiet', async () => {
    // The 256x160 JPEG is over the page's size for its decoding worker: it goes there.
    const offloaded = (page: Page): Promise<number> =>
      page.evaluate('window.spiced.session.offloaded') as Promise<number>;
    await browserShowsJpegThenExact('/?resize=0', VIEWER_CANVAS, offloaded);
  });
});
