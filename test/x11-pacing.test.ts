import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import type { DisplaySink, ViewerPace } from '../src/seam/index.js';
import { ChannelType } from '../src/protocol/constants.js';
import { SpiceServer } from '../src/server/server.js';
import { FrameScheduler } from '../src/sources/x11/frame-scheduler.js';
import { recordingSink, SessionRecorder } from '../src/sources/recording/spiced-format/index.js';
import { sameRgb } from '../src/display/pixels.js';
import { ManualClock } from './helpers/manual-clock.js';
import { ManualSource } from './helpers/pattern-source.js';
import { until } from './helpers/wait.js';
import type { Clock } from '../src/util/clock.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * Capture paced by the viewers (issue 18.2): the display channel tells a source whether its viewers
 * have sent on what they were given, and X11Source's frame scheduler waits for them before the next
 * frame. Real server, real client over loopback; a viewer that stops reading stops acknowledging,
 * so after two ACK windows (40 messages) the server's queue for it grows.
 */
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A released scheduler whose job counts runs into `count.frames`, paced by `pace`; one frame requested.
 * Its maxWaitMs runs on `clock`, a ManualClock: the wait ends by time only when the test advances it.
 */
function pacedFrame(pace: ViewerPace, maxWaitMs: number, count: { frames: number }, clock: Clock): FrameScheduler {
  const fail = (err: Error): never => {
    throw err;
  };
  const scheduler = new FrameScheduler(
    0,
    async (viewersReady) => {
      await viewersReady();
      count.frames++;
    },
    fail,
    { pace, maxWaitMs },
    1,
    clock,
  );
  scheduler.release();
  scheduler.request();
  return scheduler;
}

describe('viewer pace', () => {
  let sink!: DisplaySink;
  let server: SpiceServer;
  let viewer: SpiceClient;
  const source = new ManualSource();

  beforeEach(async () => {
    server = new SpiceServer({ source, port: 0, listen: '127.0.0.1', audio: false, web: false });
    await server.start();
    sink = source.sink;
    viewer = new SpiceClient({ port: server.port, channels: [ChannelType.Display] });
    await viewer.connect();
    await viewer.waitFor(() => viewer.display.marks > 0, 5000, 'first frame');
  });

  afterEach(async () => {
    viewer.close();
    await server.stop();
  });

  /** The viewer stops reading; draws queue up behind the ACK window. */
  async function stallViewer(): Promise<ViewerPace> {
    viewer.channels.get(ChannelType.Display)!.socket.pause();
    for (let i = 1; i <= 100; i++) {
      sink.display({ kind: 'fill', surfaceId: 0, rect: { top: i, left: 0, bottom: i + 1, right: 320 }, color: i });
    }
    const pace = sink.pace!;
    // Once behind, the viewer stays behind: it reads (and so acknowledges) nothing more.
    await until('the viewer behind', () => !pace.caughtUp());
    return pace;
  }

  it('says when viewers have caught up', async () => {
    expect(sink.pace).toBeDefined();
    expect(sink.pace!.caughtUp()).toBe(true);
    const pace = await stallViewer();
    let woken = 0;
    pace.whenCaughtUp(() => woken++);
    const cancelled = pace.whenCaughtUp(() => (woken += 1000));
    cancelled();
    // Nothing may wake the listener while the viewer reads nothing, however long one waits: a slow
    // machine can only make this pass for lack of time, never fail.
    await sleep(50);
    expect(woken).toBe(0);
    viewer.channels.get(ChannelType.Display)!.socket.resume();
    await viewer.waitFor(() => woken > 0, 5000, 'the caught-up call');
    expect(woken).toBe(1);
    expect(pace.caughtUp()).toBe(true);
  });

  it('holds a due frame until the viewers have caught up, not longer', async () => {
    const pace = await stallViewer();
    const count = { frames: 0 };
    const clock = new ManualClock();
    const scheduler = pacedFrame(pace, 60_000, count, clock);
    await until('the frame waiting for the viewers', () => scheduler.pacedWaits === 1);
    await clock.advance(59_999);
    expect(count.frames).toBe(0);
    viewer.channels.get(ChannelType.Display)!.socket.resume();
    await viewer.waitFor(() => count.frames === 1, 5000, 'the held frame');
    // Viewers keep up now: the next frame runs without waiting for them (the clock stands still, so
    // only a frame that did not wait can run).
    scheduler.request();
    await until('the next frame', () => count.frames === 2);
    expect(scheduler.pacedWaits).toBe(1);
    await scheduler.stop();
  });

  it('runs the frame after maxWaitMs when viewers stay behind, and when the lagging viewer leaves', async () => {
    const pace = await stallViewer();
    const count = { frames: 0 };
    const clock = new ManualClock();
    const scheduler = pacedFrame(pace, 200, count, clock);
    await until('the frame waiting for the viewers', () => scheduler.pacedWaits === 1);
    await clock.advance(199);
    expect(count.frames).toBe(0);
    await clock.advance(1);
    expect(count.frames).toBe(1);
    const slow = pacedFrame(pace, 60_000, count, clock);
    await until('the second frame waiting for the viewers', () => slow.pacedWaits === 1);
    await clock.advance(59_999);
    expect(count.frames).toBe(1);
    viewer.close();
    await until('the frame released by the lagging viewer leaving', () => count.frames === 2);
    await scheduler.stop();
    await slow.stop();
  });

  it('follows the fastest viewer: a stalled one holds nobody back, and is still served in the end', async () => {
    const fast = new SpiceClient({ port: server.port, channels: [ChannelType.Display] });
    try {
      await fast.connect();
      await fast.waitFor(() => fast.display.marks > 0, 5000, 'first frame of the second viewer');
      viewer.channels.get(ChannelType.Display)!.socket.pause();
      for (let i = 1; i <= 100; i++) {
        sink.display({ kind: 'fill', surfaceId: 0, rect: { top: i, left: 0, bottom: i + 1, right: 320 }, color: i });
      }
      const inSync = (c: SpiceClient): boolean =>
        !!c.display.primary && sameRgb(c.display.primary, server.desktop.primary!);
      await fast.waitFor(() => inSync(fast), 5000, 'the fills at the fast viewer');
      const pace = sink.pace!;
      // The stalled viewer still has draws queued, but the fast one has sent on everything.
      expect(server.display.clients.size).toBe(2);
      expect([...server.display.clients].some((c) => !c.keepsUp)).toBe(true);
      expect(pace.caughtUp()).toBe(true);
      const count = { frames: 0 };
      const scheduler = pacedFrame(pace, 60_000, count, new ManualClock());
      await until('the frame', () => count.frames === 1);
      expect(scheduler.pacedWaits).toBe(0);
      await scheduler.stop();
      // Once it reads again, the stalled viewer ends on the server's frame too.
      viewer.channels.get(ChannelType.Display)!.socket.resume();
      await viewer.waitFor(() => inSync(viewer), 5000, 'the stalled viewer catching up');
    } finally {
      fast.close();
    }
  });

  it('reaches a source through a recording sink (serve --record) as well', async () => {
    const recorder = await SessionRecorder.open(join(mkdtempSync(join(tmpdir(), 'spiced-pace-')), 'r.spicedrec'), {
      source: 'test',
    });
    try {
      const recorded = recordingSink(server.desktop, recorder);
      expect(recorded.pace).toBe(server.desktop.pace);
      expect(recorded.pace).toBeDefined();
    } finally {
      await recorder.close();
    }
  });
});
