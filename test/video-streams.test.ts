import { afterEach, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { SpiceClient } from '../src/client/client.js';
import { sameRgb } from '../src/display/pixels.js';
import { encodeStreamReport, type Rect } from '../src/protocol/index.js';
import type { Clip } from '../src/protocol/clip.js';
import { intersectRect, rectArea, rectIsEmpty } from '../src/protocol/geometry.js';
import { SpiceServer } from '../src/server/server.js';
import { FeedSource } from '../src/sources/feed.js';
import {
  clock,
  drawWindow,
  idle,
  makeFrames,
  play,
  sleep,
  videoOnTestClock,
  type WindowsAbove,
} from './helpers/video-rig.js';
import { textFrame } from './helpers/video-frames.js';
import { until } from './helpers/wait.js';

/*
 * Video streams end to end through the real server and sockets, with the project's headless viewer
 * (which records stream messages and frames; the frames are decoded here with sharp). Frames are
 * pushed in real time: detection needs a steady rate over a fraction of a second.
 */

/** Bounded waits on what the viewers receive: generous, since the suite runs on a loaded machine. */
const WAIT_MS = 20_000;
const W = 640;
const H = 480;
const VIDEO: Rect = { top: 64, left: 96, bottom: 64 + 192, right: 96 + 320 };

interface Rig {
  feed: FeedSource;
  server: SpiceServer;
  viewers: SpiceClient[];
}

let rig: Rig | undefined;

afterEach(async () => {
  if (!rig) return;
  for (const v of rig.viewers) v.close();
  await rig.server.stop();
  rig = undefined;
});

async function start(viewerOptions: Array<{ streams: boolean }>): Promise<Rig> {
  const feed = new FeedSource();
  feed.push({ kind: 'surfaceCreate', surfaceId: 0, width: W, height: H, primary: true });
  feed.push({ kind: 'fill', surfaceId: 0, rect: { top: 0, left: 0, bottom: H, right: W }, color: 0x336699 });
  const display = videoOnTestClock();
  const server = new SpiceServer({ source: feed, port: 0, listen: '127.0.0.1', audio: false, display });
  await server.start();
  const viewers = viewerOptions.map((o) => new SpiceClient({ port: server.port, channels: [2], streams: o.streams }));
  rig = { feed, server, viewers };
  for (const v of viewers) {
    await v.connect();
    await v.waitFor(() => v.display.marks > 0, WAIT_MS, 'first frame');
  }
  return rig;
}

function exact(v: SpiceClient, server: SpiceServer): boolean {
  return sameRgb(v.display.primary!, server.desktop.primary!);
}

/** PSNR of a JPEG frame against the server's pixels of `rect` now. */
async function psnrAgainst(jpeg: Buffer, server: SpiceServer, rect: Rect): Promise<number> {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  const s = server.desktop.primary!;
  let sum = 0;
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const o = ((rect.top + y) * s.width + rect.left + x) * 4;
      const i = (y * info.width + x) * info.channels;
      for (let c = 0; c < 3; c++) sum += (data[i + c]! - s.data[o + 2 - c]!) ** 2;
    }
  }
  return 10 * Math.log10((255 * 255) / (sum / (info.width * info.height * 3)));
}

/** The stream's visible part (its clip) leaves out all of `win`: no clip rect reaches into it. */
function keepsOut(clip: Clip, win: Rect): boolean {
  return clip.type === 'rects' && clip.rects.every((r) => rectIsEmpty(intersectRect(r, win)));
}

function visibleArea(clip: Clip): number {
  return clip.type === 'rects' ? clip.rects.reduce((a, r) => a + rectArea(r), 0) : rectArea(VIDEO);
}

describe('video streams', () => {
  it('stream a video-like region as MJPEG, then end on the exact final frame', async () => {
    const { feed, server, viewers } = await start([{ streams: true }, { streams: false }]);
    const [streamer, plain] = viewers as [SpiceClient, SpiceClient];
    await play(feed, VIDEO, makeFrames(VIDEO, 30), 25);
    await streamer.waitFor(() => (streamer.display.streamLog[0]?.frames ?? 0) >= 3, WAIT_MS, 'stream frames');
    const s = streamer.display.streamLog[0]!;
    expect(s.create.codec).toBe(1);
    expect(s.create.flags & 1).toBe(1);
    // The stream covers the video, cut to the pixels that changed, not the cells around them.
    expect(s.create.dest).toEqual(VIDEO);
    // Video plays in all of it: nothing is clipped out.
    expect(s.create.clip).toEqual({ type: 'none' });
    expect(s.report).toBeDefined();
    // The last frame comes to show the video's last picture (encoding may finish after the last
    // draw): decoded, it is close to the server's pixels.
    let psnr = 0;
    const close = async (): Promise<boolean> => (psnr = await psnrAgainst(s.lastFrame!, server, VIDEO)) > 30;
    await until(() => `the last frame close to the last picture (PSNR ${psnr.toFixed(1)} dB)`, close, WAIT_MS, 50);
    expect(plain.display.streamLog).toEqual([]);
    // Video stops: within 1 s of the streams' clock the stream ends and the area is sent again losslessly.
    await idle(700);
    await streamer.waitFor(() => s.ended && exact(streamer, server), WAIT_MS, 'stream ended, exact frame');
    await plain.waitFor(() => exact(plain, server), WAIT_MS, 'plain viewer exact');
    expect(server.display.video.stats.frames).toBeGreaterThan(0);
  });

  it('with six viewers (shared draw logs), stream to those that take streams and end all on the exact frame', async () => {
    const { feed, server, viewers } = await start([
      ...Array.from({ length: 3 }, () => ({ streams: true })),
      ...Array.from({ length: 3 }, () => ({ streams: false })),
    ]);
    const logs = server.display.drawLogs;
    const before = { streams: logs.streams.appended, images: logs.images.appended };
    await play(feed, VIDEO, makeFrames(VIDEO, 30), 25);
    for (const v of viewers.slice(0, 3))
      await v.waitFor(() => (v.display.streamLog[0]?.frames ?? 0) >= 3, WAIT_MS, 'stream frames');
    for (const v of viewers.slice(3)) expect(v.display.streamLog).toEqual([]);
    // Caught-up viewers of both kinds took their draws from the logs (routed ones for the streamers).
    expect(logs.streams.appended).toBeGreaterThan(before.streams);
    expect(logs.images.appended).toBeGreaterThan(before.images);
    await idle(700);
    for (const v of viewers) await v.waitFor(() => exact(v, server), WAIT_MS, 'exact frame');
    for (const v of viewers) expect(v.errors).toEqual([]);
  });

  it('look for video only while a viewer takes streams', async () => {
    const { feed, server } = await start([{ streams: false }]);
    await play(feed, VIDEO, makeFrames(VIDEO, 20), 25);
    expect(server.display.video.stats.started).toBe(0);
    // A viewer that takes streams joins: the same video now becomes a stream, for it alone.
    const streamer = new SpiceClient({ port: server.port, channels: [2], streams: true });
    rig!.viewers.push(streamer);
    await streamer.connect();
    await streamer.waitFor(() => streamer.display.marks > 0, WAIT_MS, 'first frame');
    await play(feed, VIDEO, makeFrames(VIDEO, 30), 25);
    await streamer.waitFor(() => (streamer.display.streamLog[0]?.frames ?? 0) >= 1, WAIT_MS, 'stream frames');
    expect(server.display.video.stats.started).toBeGreaterThan(0);
  });

  it('start no stream for a scrolling terminal or a blinking cursor', async () => {
    const { feed, server, viewers } = await start([{ streams: true }]);
    const term: Rect = { top: 200, left: 0, bottom: 440, right: 400 };
    let on = false;
    for (let n = 0; n < 30; n++) {
      // A terminal: new text lines, scrolled up by copy-bits, at 25 updates a second.
      feed.push({
        kind: 'copyBits',
        surfaceId: 0,
        src: { x: 0, y: 214 },
        dest: { top: 200, left: 0, bottom: 426, right: 400 },
      });
      feed.push({
        kind: 'copy',
        surfaceId: 0,
        dest: { top: 426, left: 0, bottom: 440, right: 400 },
        image: textFrame(400, 14, n),
      });
      // And a redrawn page of text beside it.
      feed.push({
        kind: 'copy',
        surfaceId: 0,
        dest: { top: 0, left: 420, bottom: 196, right: 620 },
        image: textFrame(200, 196, n),
      });
      if (n % 10 === 0) {
        on = !on;
        feed.push({
          kind: 'fill',
          surfaceId: 0,
          rect: { top: 100, left: 10, bottom: 114, right: 18 },
          color: on ? 0xffffff : 0,
        });
      }
      clock.ms += 40;
      await sleep(40);
    }
    await idle(200);
    expect(server.display.video.stats.started).toBe(0);
    expect(viewers[0]!.display.streamLog).toEqual([]);
    void term;
  });

  // Windows over the video: `cut` at its top right edge (the capture's bands leave it out), `span`
  // in its middle (bands cross it, carrying its unchanged pixels).
  const WINDOWS = {
    cut: { top: 40, left: 300, bottom: 160, right: 520 },
    span: { top: 112, left: 176, bottom: 208, right: 304 },
  } as const;

  for (const mode of ['cut', 'span'] as const) {
    it(`clip a window put up over a playing stream for as long as it stays (${mode} bands, a 6 s video)`, async () => {
      const { feed, server, viewers } = await start([{ streams: true }]);
      const v = viewers[0]!;
      const win = WINDOWS[mode];
      const above: WindowsAbove = { rects: [], mode, surface: server.desktop.primary! };
      let windowAt = -1;
      await play(feed, VIDEO, makeFrames(VIDEO, 150), 25, {
        above,
        onFrame: (n) => {
          // Once the stream started (on the test's clock), a window opens over part of it and stays to the end.
          if (windowAt >= 0 || server.display.video.active.length === 0) return;
          drawWindow(feed, win);
          above.rects.push(win);
          windowAt = n;
        },
      });
      // More than 2 s of video played under the window (a clip that lapsed after a second shows).
      expect(windowAt).toBeGreaterThanOrEqual(0);
      expect(windowAt).toBeLessThan(150 - 50);
      await idle(700);
      // The stream's DESTROY comes after every clip it had: what follows is all the viewer was told.
      await v.waitFor(() => v.display.streamLog[0]!.ended && exact(v, server), WAIT_MS, 'stream ended, exact');
      expect(v.display.streamLog).toHaveLength(1);
      const clips = v.display.streamLog[0]!.clips;
      const first = clips.findIndex((c) => keepsOut(c, win));
      expect(first).toBeGreaterThanOrEqual(0);
      // From the window's clip on, every clip keeps the window out of the stream, to the end.
      expect(clips.slice(first).map((c) => keepsOut(c, win))).not.toContain(false);
      expect(visibleArea(clips.at(-1)!)).toBe(rectArea(VIDEO) - rectArea(intersectRect(VIDEO, win)));
    });
  }

  it('start a stream clipped around a window that was over the video before it started', async () => {
    const { feed, server, viewers } = await start([{ streams: true }]);
    const v = viewers[0]!;
    const win = WINDOWS.cut;
    drawWindow(feed, win);
    const above: WindowsAbove = { rects: [win], mode: 'cut', surface: server.desktop.primary! };
    await play(feed, VIDEO, makeFrames(VIDEO, 60), 25, { above });
    await idle(700);
    await v.waitFor(() => v.display.streamLog[0]?.ended === true && exact(v, server), WAIT_MS, 'stream ended, exact');
    const s = v.display.streamLog[0]!;
    expect(s.create.dest).toEqual(VIDEO);
    expect(keepsOut(s.create.clip, win)).toBe(true);
    expect(visibleArea(s.create.clip)).toBe(rectArea(VIDEO) - rectArea(intersectRect(VIDEO, win)));
    expect(s.clips.map((c) => keepsOut(c, win))).not.toContain(false);
  });

  it('give the area back to the stream when the video is drawn where a window was (it closed)', async () => {
    const { feed, server, viewers } = await start([{ streams: true }]);
    const v = viewers[0]!;
    const win = WINDOWS.cut;
    const above: WindowsAbove = { rects: [], mode: 'cut', surface: server.desktop.primary! };
    let windowAt = -1;
    await play(feed, VIDEO, makeFrames(VIDEO, 90), 25, {
      above,
      onFrame: (n) => {
        if (windowAt < 0 && server.display.video.active.length > 0) {
          drawWindow(feed, win);
          above.rects.push(win);
          windowAt = n;
        } else if (windowAt >= 0 && n === windowAt + 30) above.rects.length = 0;
      },
    });
    expect(windowAt).toBeGreaterThanOrEqual(0);
    expect(windowAt).toBeLessThan(90 - 40);
    await idle(700);
    await v.waitFor(() => v.display.streamLog[0]!.ended && exact(v, server), WAIT_MS, 'stream ended, exact');
    expect(v.display.streamLog).toHaveLength(1);
    const clips = v.display.streamLog[0]!.clips;
    expect(clips.some((c) => keepsOut(c, win))).toBe(true);
    expect(clips.at(-1)).toEqual({ type: 'none' });
  });

  it('send images to a viewer that reports it cannot decode, and to one whose reports are absurd', async () => {
    const { feed, server, viewers } = await start([{ streams: true }, { streams: true }, { streams: true }]);
    const [cannot, absurd, good] = viewers as [SpiceClient, SpiceClient, SpiceClient];
    const playing = play(feed, VIDEO, makeFrames(VIDEO, 30), 25);
    await good.waitFor(
      () => viewers.every((v) => (v.display.streamLog[0]?.frames ?? 0) >= 2),
      WAIT_MS,
      'stream frames',
    );
    const report = (v: SpiceClient, numFrames: number, numDrops: number): void => {
      const s = v.display.streamLog[0]!;
      const r = {
        streamId: s.create.id,
        uniqueId: s.report!.uniqueId,
        startFrameMmTime: 0,
        endFrameMmTime: 0,
        numFrames,
        numDrops,
        lastFrameDelay: 0,
        audioDelay: 0,
      };
      v.sendDisplay(encodeStreamReport(r));
    };
    report(cannot, 0, 0xffffffff);
    report(absurd, 1_000_000, 0);
    await cannot.waitFor(() => cannot.display.streamLog[0]!.ended, WAIT_MS, 'stream destroyed: cannot decode');
    await absurd.waitFor(() => absurd.display.streamLog[0]!.ended, WAIT_MS, 'stream destroyed for the absurd reporter');
    await playing;
    // The video goes on (the stream was not ended: the streams' clock moves only with the frames).
    const goodFrames = good.display.streamLog[0]!.frames;
    await play(feed, VIDEO, makeFrames(VIDEO, 10, undefined, 100), 25);
    // The good viewer went on streaming; the two went back to images and never got a stream again.
    await good.waitFor(() => good.display.streamLog[0]!.frames > goodFrames, WAIT_MS, 'more frames');
    expect(cannot.display.streamLog).toHaveLength(1);
    expect(absurd.display.streamLog).toHaveLength(1);
    await idle(700);
    for (const v of viewers) await v.waitFor(() => exact(v, server), WAIT_MS, 'exact at the end');
    expect(cannot.errors).toEqual([]);
  });

  it('send images to viewers whose reports are absurd in any field, exact while the video plays on', async () => {
    // Each absurd in one field: more drops than frames sent, a window of 50 days, a frame 33 minutes late.
    const absurd = [
      { numFrames: 0, numDrops: 1_000_000 },
      { numFrames: 2, numDrops: 0, endFrameMmTime: 0xf0000000 },
      { numFrames: 2, numDrops: 0, lastFrameDelay: -2_000_000 },
    ];
    const { feed, server, viewers } = await start([...absurd.map(() => ({ streams: true })), { streams: true }]);
    const refused = viewers.slice(0, absurd.length);
    const good = viewers[absurd.length]!;
    const playing = play(feed, VIDEO, makeFrames(VIDEO, 30), 25);
    await good.waitFor(
      () => viewers.every((v) => (v.display.streamLog[0]?.report ? v.display.streamLog[0].frames : 0) >= 2),
      WAIT_MS,
      'stream frames and report activation',
    );
    for (const [i, v] of refused.entries()) {
      const s = v.display.streamLog[0]!;
      const fields = { startFrameMmTime: 0, endFrameMmTime: 0, lastFrameDelay: 0, audioDelay: 0, ...absurd[i]! };
      v.sendDisplay(encodeStreamReport({ streamId: s.create.id, uniqueId: s.report!.uniqueId, ...fields }));
    }
    for (const v of refused) await v.waitFor(() => v.display.streamLog[0]!.ended, WAIT_MS, 'stream ended');
    await playing;
    const goodFrames = good.display.streamLog[0]!.frames;
    await play(feed, VIDEO, makeFrames(VIDEO, 10, undefined, 200), 25);
    // The refused viewers got the video as images: exact at once, while the good one's stream runs on.
    for (const v of refused) await v.waitFor(() => exact(v, server), WAIT_MS, 'refused viewer exact by images');
    await good.waitFor(() => good.display.streamLog[0]!.frames > goodFrames, WAIT_MS, 'good viewer streams on');
    expect(good.display.streamLog[0]!.ended).toBe(false);
    for (const v of refused) {
      expect(v.display.streamLog).toHaveLength(1);
      expect(v.errors).toEqual([]);
    }
    await idle(700);
    await good.waitFor(() => exact(good, server), WAIT_MS, 'good viewer exact at the end');
  });
});
