import { SpiceClient } from '../../src/client/client.js';
import type { ImageQuality } from '../../src/display/wire-image.js';
import type { DisplayCommand } from '../../src/seam/index.js';
import { SpiceServer } from '../../src/server/server.js';
import { FeedSource } from '../../src/sources/feed.js';
import { intersectRect, rectIsEmpty, type Rect } from '../../src/protocol/geometry.js';
import { copyRect, cropImage, type PixelImage } from '../../src/display/pixels.js';
import { subtractAll } from '../../src/video/rects.js';
import { DEFAULT_VIDEO_OPTIONS, type VideoOptions } from '../../src/video/streams.js';
import { textFrame, videoFrame } from './video-frames.js';

/*
 * Playing video into a server in tests. The streams' clock is the test's: on a shared machine a
 * test's 25 fps may reach the server at 5, and the rate decides what is video. Each frame played
 * advances it by 1000 / fps.
 */

export const clock = { ms: 0 };

/** Display options for a server whose streams run on the test's clock. */
export function videoOnTestClock(): { video: VideoOptions } {
  clock.ms = 0;
  return { video: { ...DEFAULT_VIDEO_OPTIONS, clock: () => clock.ms } };
}

export interface StreamViewerRig {
  feed: FeedSource;
  server: SpiceServer;
  viewer: SpiceClient;
  stop(): Promise<void>;
}

/**
 * A server fed by the test (a `width` x `height` primary surface, then `background` drawn on it),
 * its streams on the test's clock, and one viewer of its display that takes streams, past its
 * first frame. `imageQuality` 'lossy' stands in for a link measured thin.
 */
export async function streamViewerRig(
  width: number,
  height: number,
  background: DisplayCommand,
  imageQuality: ImageQuality,
  waitMs: number,
): Promise<StreamViewerRig> {
  const feed = new FeedSource();
  feed.push({ kind: 'surfaceCreate', surfaceId: 0, width, height, primary: true });
  feed.push(background);
  const display = { ...videoOnTestClock(), imageQuality, lossyQuietMs: 150 };
  const server = new SpiceServer({ source: feed, port: 0, listen: '127.0.0.1', audio: false, display });
  await server.start();
  const viewer = new SpiceClient({ port: server.port, channels: [2], streams: true });
  const stop = async (): Promise<void> => {
    viewer.close();
    await server.stop();
  };
  try {
    await viewer.connect();
    await viewer.waitFor(() => viewer.display.marks > 0, waitMs, 'first frame');
  } catch (err) {
    await stop();
    throw err;
  }
  return { feed, server, viewer, stop };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Frames made beforehand, so that playing them costs the test nothing but the pushes. */
export function makeFrames(rect: Rect, count: number, make = videoFrame, first = 0): PixelImage[] {
  return Array.from({ length: count }, (_, i) => make(rect.right - rect.left, rect.bottom - rect.top, first + i));
}

/**
 * Windows above the video while it plays. X clips the player's drawing to what is visible, and the
 * capture sends it in one of two ways: `cut`, bands that leave the windows out (a window at the
 * video's edge: the changed columns jump, the band splits), or `span`, bands whose box crosses a
 * window in the middle and carries the window's own (unchanged) pixels there.
 */
export interface WindowsAbove {
  rects: Rect[];
  mode: 'cut' | 'span';
  /** The server's surface: where `span` bands take the windows' pixels from. */
  surface: PixelImage;
}

export interface PlayOptions {
  /** Runs after frame n was drawn. */
  onFrame?: (n: number) => void | Promise<void>;
  /** Read at every frame: a test may put a window up while the video plays. */
  above?: WindowsAbove;
}

/** Draw the frames into `rect` at `fps` as the X11 capture does, each frame as bands of 48 rows. */
export async function play(
  feed: FeedSource,
  rect: Rect,
  images: readonly PixelImage[],
  fps: number,
  options: PlayOptions = {},
): Promise<void> {
  for (const [n, img] of images.entries()) {
    for (let top = 0; top < img.height; top += 48) {
      const bottom = Math.min(img.height, top + 48);
      const data = img.data.subarray(top * img.stride, bottom * img.stride);
      const band = { width: img.width, height: bottom - top, stride: img.stride, data };
      const dest = { top: rect.top + top, left: rect.left, bottom: rect.top + bottom, right: rect.right };
      drawBand(feed, dest, band, options.above);
    }
    clock.ms += 1000 / fps;
    await options.onFrame?.(n);
    await sleep(1000 / fps);
  }
}

function drawBand(feed: FeedSource, dest: Rect, band: PixelImage, above: WindowsAbove | undefined): void {
  const windows = above?.rects.filter((w) => !rectIsEmpty(intersectRect(w, dest))) ?? [];
  if (windows.length === 0) {
    feed.push({ kind: 'copy', surfaceId: 0, dest, image: band });
    return;
  }
  if (above!.mode === 'span') {
    feed.push({ kind: 'copy', surfaceId: 0, dest, image: withWindows(band, dest, windows, above!.surface) });
    return;
  }
  for (const part of subtractAll([dest], windows)) {
    const src = { x: part.left - dest.left, y: part.top - dest.top };
    feed.push({ kind: 'copy', surfaceId: 0, dest: part, image: band, src });
  }
}

/** The band with the windows' pixels (as the surface has them) where they cover it. */
function withWindows(band: PixelImage, dest: Rect, windows: readonly Rect[], surface: PixelImage): PixelImage {
  const out = cropImage(band, 0, 0, band.width, band.height);
  for (const w of windows) {
    const r = intersectRect(w, dest);
    copyRect(surface, r.left, r.top, out, r.left - dest.left, r.top - dest.top, r.right - r.left, r.bottom - r.top);
  }
  return out;
}

/** A window: a light frame with text in it, drawn as a fill and a copy (neither is video). */
export function drawWindow(feed: FeedSource, win: Rect): void {
  feed.push({ kind: 'fill', surfaceId: 0, rect: win, color: 0xeeeeee });
  const text = { top: win.top + 8, left: win.left + 8, bottom: win.bottom - 8, right: win.right - 8 };
  feed.push({
    kind: 'copy',
    surfaceId: 0,
    dest: text,
    image: textFrame(text.right - text.left, text.bottom - text.top, 7),
  });
}

/** Let the streams' clock run on for `ms` (real time too, for the timer that looks at it). */
export async function idle(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 50) {
    clock.ms += 50;
    await sleep(50);
  }
}
