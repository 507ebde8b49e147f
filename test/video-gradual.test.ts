import { afterEach, describe, expect, it } from 'vitest';
import { type SpiceClient } from '../src/client/client.js';
import { allocImage, sameRgb, type PixelImage } from '../src/display/pixels.js';
import type { ImageQuality } from '../src/display/wire-image.js';
import type { Rect } from '../src/protocol/index.js';
import { type SpiceServer } from '../src/server/server.js';
import { isGradual, isPhotoLike } from '../src/video/detector.js';
import { clock, idle, makeFrames, play, sleep, streamViewerRig, type StreamViewerRig } from './helpers/video-rig.js';
import { textFrame, videoFrame } from './helpers/video-frames.js';

/*
 * Smooth video: a pan across a gradient (XFCE's wallpaper in the video bench's grainless clip) is
 * mostly flat runs, not photo-like, but gradual. It counts as video while a viewer taking streams
 * takes lossy images (a thin link; `lossy` stands in for one measured thin, as in
 * video-thin.test.ts); a viewer on a fast link gets it losslessly, as before. Through the real
 * server and sockets with the project's viewer.
 */

const WAIT_MS = 20_000;
const W = 640;
const H = 480;
const VIDEO: Rect = { top: 64, left: 96, bottom: 64 + 192, right: 96 + 320 };

/**
 * Frame `n` of a pan across a soft gradient, like XFCE's wallpaper in the video bench's grainless
 * clip: each channel steps by one every 21 to 43 pixels across and slower down, so 90 % of the
 * pixels equal their left neighbour (LZ runs) and the rest step smoothly, mostly below a step of
 * the row above (LZ matches it): QUIC is estimated at 0.8-1 of LZ, not photo-like.
 */
function panFrame(width: number, height: number, n: number): PixelImage {
  const img = allocImage(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x + 4 * n;
      const r = 40 + (Math.floor(u / 21 + y / 50) % 120);
      const g = 100 + (Math.floor(u / 31 + y / 70) % 100);
      const b = 150 + (Math.floor(u / 43) % 90);
      img.data.writeUInt32LE(((r << 16) | (g << 8) | b) >>> 0, y * img.stride + x * 4);
    }
  }
  return img;
}

/** A wallpaper-like gradient of the whole screen, drawn once. */
function wallpaper(): PixelImage {
  return panFrame(W, H, 0);
}

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function start(imageQuality: ImageQuality): Promise<StreamViewerRig> {
  const background = {
    kind: 'copy',
    surfaceId: 0,
    dest: { top: 0, left: 0, bottom: H, right: W },
    image: wallpaper(),
  } as const;
  const rig = await streamViewerRig(W, H, background, imageQuality, WAIT_MS);
  cleanup = rig.stop;
  return rig;
}

const exact = (viewer: SpiceClient, server: SpiceServer): boolean =>
  sameRgb(viewer.display.primary!, server.desktop.primary!);

describe('gradual content', () => {
  it('a smooth pan is gradual and not photo-like; text, and a thin gradual strip, are not gradual', () => {
    const pan = panFrame(320, 48, 3);
    expect(isPhotoLike(pan)).toBe(false);
    expect(isGradual(pan)).toBe(true);
    expect(isGradual(videoFrame(320, 48, 3))).toBe(true);
    expect(isGradual(textFrame(320, 48, 3))).toBe(false);
    // What a window moving over a gradient uncovers each frame: gradual, but a strip, not video.
    expect(isGradual(panFrame(4, 300, 0))).toBe(false);
  });
});

describe('smooth video', () => {
  it('streams a smooth pan to a viewer that takes lossy images, and ends on the exact frame', async () => {
    const { feed, server, viewer } = await start('lossy');
    await play(feed, VIDEO, makeFrames(VIDEO, 30, panFrame), 25);
    await viewer.waitFor(() => (viewer.display.streamLog[0]?.frames ?? 0) >= 3, WAIT_MS, 'stream frames');
    expect(viewer.display.streamLog[0]!.create.dest).toEqual(VIDEO);
    await idle(400);
    await viewer.waitFor(
      () => viewer.display.streamLog.every((s) => s.ended) && exact(viewer, server),
      WAIT_MS,
      'exact',
    );
    expect(viewer.errors).toEqual([]);
  });

  it('sends a smooth pan losslessly to a viewer on a fast link (no stream)', async () => {
    const { feed, server, viewer } = await start('auto');
    await play(feed, VIDEO, makeFrames(VIDEO, 30, panFrame), 25);
    await idle(400);
    await viewer.waitFor(() => exact(viewer, server), WAIT_MS, 'exact');
    expect(server.display.video.stats.started).toBe(0);
    expect(viewer.display.streamLog).toEqual([]);
  });

  it('a copy-bits inside the playing pan (a shift the capture found in it) leaves the stream playing', async () => {
    const { feed, server, viewer } = await start('lossy');
    const inside: Rect = { top: VIDEO.top + 48, left: VIDEO.left + 8, bottom: VIDEO.top + 63, right: VIDEO.right };
    await play(feed, VIDEO, makeFrames(VIDEO, 40, panFrame), 25, {
      onFrame: (n) => {
        if (n < 20 || n % 4 !== 0) return;
        feed.push({ kind: 'copyBits', surfaceId: 0, src: { x: inside.left - 8, y: inside.top }, dest: inside });
      },
    });
    await viewer.waitFor(() => (viewer.display.streamLog[0]?.frames ?? 0) >= 3, WAIT_MS, 'stream frames');
    // One stream throughout: the copy-bits (five of them, after it started) ended none.
    expect(viewer.display.streamLog.length).toBe(1);
    expect(server.display.video.stats.started).toBe(1);
    await idle(400);
    await viewer.waitFor(
      () => viewer.display.streamLog.every((s) => s.ended) && exact(viewer, server),
      WAIT_MS,
      'exact',
    );
  });

  it('starts no stream for a scrolling terminal, a blinking cursor or a window moving over a gradient', async () => {
    const { feed, server, viewer } = await start('lossy');
    const paper = wallpaper();
    let win: Rect = { top: 40, left: 40, bottom: 240, right: 300 };
    for (let n = 0; n < 40; n++) {
      // A terminal: new text lines, scrolled up by copy-bits, at 25 updates a second.
      feed.push({
        kind: 'copyBits',
        surfaceId: 0,
        src: { x: 0, y: 314 },
        dest: { top: 300, left: 0, bottom: 426, right: 400 },
      });
      feed.push({
        kind: 'copy',
        surfaceId: 0,
        dest: { top: 426, left: 0, bottom: 440, right: 400 },
        image: textFrame(400, 14, n),
      });
      // A blinking cursor.
      const on = Math.floor(n / 10) % 2 === 0;
      feed.push({
        kind: 'fill',
        surfaceId: 0,
        rect: { top: 450, left: 10, bottom: 464, right: 18 },
        color: on ? 0xffffff : 0,
      });
      // A window drifting down and right by 3 pixels a frame: moved by copy-bits, the gradient it
      // uncovers drawn again as two strips (its left and top edges).
      const to = { top: win.top + 3, left: win.left + 3, bottom: win.bottom + 3, right: win.right + 3 };
      feed.push({ kind: 'copyBits', surfaceId: 0, src: { x: win.left, y: win.top }, dest: to });
      const strips: Rect[] = [
        { top: win.top, left: win.left, bottom: win.bottom, right: to.left },
        { top: win.top, left: to.left, bottom: to.top, right: win.right },
      ];
      for (const s of strips)
        feed.push({ kind: 'copy', surfaceId: 0, dest: s, image: paper, src: { x: s.left, y: s.top } });
      win = to;
      clock.ms += 40;
      await sleep(40);
    }
    await idle(200);
    expect(server.display.video.stats.started).toBe(0);
    expect(viewer.display.streamLog).toEqual([]);
  });
});
