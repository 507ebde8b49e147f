import type { FeedSource } from '../../src/sources/feed.js';
import type { Rect } from '../../src/protocol/geometry.js';
import type { PixelImage } from '../../src/display/pixels.js';
import { DEFAULT_VIDEO_OPTIONS, type VideoOptions } from '../../src/video/streams.js';
import { videoFrame } from './video-frames.js';

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

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Frames made beforehand, so that playing them costs the test nothing but the pushes. */
export function makeFrames(rect: Rect, count: number, make = videoFrame, first = 0): PixelImage[] {
  return Array.from({ length: count }, (_, i) => make(rect.right - rect.left, rect.bottom - rect.top, first + i));
}

/**
 * Draw the frames into `rect` at `fps` as the X11 capture does, each frame as bands of 48 rows;
 * `onFrame(n)` runs after frame n was drawn.
 */
export async function play(
  feed: FeedSource,
  rect: Rect,
  images: readonly PixelImage[],
  fps: number,
  onFrame?: (n: number) => void | Promise<void>,
): Promise<void> {
  for (const [n, img] of images.entries()) {
    for (let top = 0; top < img.height; top += 48) {
      const bottom = Math.min(img.height, top + 48);
      const data = img.data.subarray(top * img.stride, bottom * img.stride);
      const band = { width: img.width, height: bottom - top, stride: img.stride, data };
      const dest = { top: rect.top + top, left: rect.left, bottom: rect.top + bottom, right: rect.right };
      feed.push({ kind: 'copy', surfaceId: 0, dest, image: band });
    }
    clock.ms += 1000 / fps;
    await onFrame?.(n);
    await sleep(1000 / fps);
  }
}

/** Let the streams' clock run on for `ms` (real time too, for the timer that looks at it). */
export async function idle(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 50) {
    clock.ms += 50;
    await sleep(50);
  }
}
