import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import type { DisplaySink, ViewerPace } from '../src/seam/index.js';
import { ChannelType } from '../src/protocol/constants.js';
import { SpiceServer } from '../src/server/server.js';
import { FrameScheduler } from '../src/sources/x11/frame-scheduler.js';
import { recordingSink, SessionRecorder } from '../src/sources/recording/spiced-format/index.js';
import { sameRgb } from '../src/display/pixels.js';
import { ManualSource } from './helpers/pattern-source.js';
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

/** A released scheduler whose job counts runs into `count.frames`, paced by `pace`; one frame requested. */
function pacedFrame(pace: ViewerPace, maxWaitMs: number, count: { frames: number }): FrameScheduler {
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
    await sleep(50);
    const pace = sink.pace!;
    expect(pace.caughtUp()).toBe(false);
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
    await sleep(100);
    expect(woken).toBe(0);
    viewer.channels.get(ChannelType.Display)!.socket.resume();
    await viewer.waitFor(() => woken > 0, 5000, 'the caught-up call');
    expect(woken).toBe(1);
    expect(pace.caughtUp()).toBe(true);
  });

  it('holds a due frame until the viewers have caught up, not longer', async () => {
    const pace = await stallViewer();
    const count = { frames: 0 };
    const scheduler = pacedFrame(pace, 60_000, count);
    await sleep(300);
    expect(count.frames).toBe(0);
    expect(scheduler.pacedWaits).toBe(1);
    viewer.channels.get(ChannelType.Display)!.socket.resume();
    await viewer.waitFor(() => count.frames === 1, 5000, 'the held frame');
    // Viewers keep up now: the next frame runs at once.
    scheduler.request();
    await sleep(50);
    expect(count.frames).toBe(2);
    await scheduler.stop();
  });

  it('runs the frame after maxWaitMs when viewers stay behind, and when the lagging viewer leaves', async () => {
    const pace = await stallViewer();
    const count = { frames: 0 };
    const scheduler = pacedFrame(pace, 200, count);
    await sleep(20);
    expect(count.frames).toBe(0);
    await sleep(800);
    expect(count.frames).toBe(1);
    const slow = pacedFrame(pace, 60_000, count);
    await sleep(100);
    expect(count.frames).toBe(1);
    viewer.close();
    for (let i = 0; i < 50 && count.frames < 2; i++) await sleep(20);
    expect(count.frames).toBe(2);
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
      const scheduler = pacedFrame(pace, 60_000, count);
      await sleep(50);
      expect(count.frames).toBe(1);
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
