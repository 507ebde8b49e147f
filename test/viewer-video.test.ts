import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PipeItem } from '../src/channel-core/pipe.js';
import { DisplayCap } from '../src/protocol/constants.js';
import type { OutMessage } from '../src/protocol/message.js';
import { silentLogger } from '../src/util/log.js';
import { ViewerVideo, type ViewerVideoHost } from '../src/video/viewer-video.js';
import type { EncodedFrame, VideoStream } from '../src/video/streams.js';

/*
 * One viewer's side of the streams, against a host that records what it is given and a made-up link.
 * Its timers (the look again once the link drained) and its clock (performance.now, the quality's
 * step up) are Vitest's fake ones where a test depends on them: no socket is involved, and the
 * test says when time has passed instead of sleeping on a machine that may be slow.
 */
const fakeTime = (): void => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
afterEach(() => {
  vi.useRealTimers();
});

/** A stream of 25 fps whose frames at quality q weigh sizes[q] bytes. */
function stream(sizes: Record<number, number>): VideoStream {
  return {
    id: 2,
    rect: { top: 0, left: 0, bottom: 96, right: 128 },
    clip: undefined,
    width: 128,
    height: 96,
    frames: 0,
    sourceFps: 25,
    frameBytes: (q) => sizes[q],
  };
}

interface Link {
  drainMs: number;
  bandwidth: number;
}

function host(link: Link): ViewerVideoHost & { pushed: PipeItem[]; background: PipeItem[]; exact: string[] } {
  const pushed: PipeItem[] = [];
  const background: PipeItem[] = [];
  const exact: string[] = [];
  return {
    pushed,
    background,
    exact,
    push: (item) => pushed.push(item),
    pushBackground: (item) => background.push(item),
    dropQueued: () => 0,
    hasChannelCap: (cap) => ([DisplayCap.MultiCodec, DisplayCap.CodecMjpeg] as number[]).includes(cap),
    lagging: () => false,
    drainMs: () => link.drainMs,
    bandwidth: () => link.bandwidth,
    refresh: (r) => exact.push(`refresh ${r.top}-${r.bottom}`),
    forgetRefresh: (r) => exact.push(`forget ${r.top}-${r.bottom}`),
    peer: 'test',
    log: silentLogger,
  };
}

const frames = (items: PipeItem[]): number => items.filter((i) => 'streamFrame' in i).length;
/** A capture encoded at the given qualities, each JPEG `bytes` long. */
const encoded = (bytes: number, ...qualities: number[]): EncodedFrame =>
  new Map(qualities.map((q) => [q, Buffer.alloc(bytes, q)]));

describe('a viewer on a thin link', () => {
  it('keeps the newest frame back while the link still carries the last, and sends it once drained', async () => {
    fakeTime();
    const link = { drainMs: 0, bandwidth: 10e6 };
    const h = host(link);
    const v = new ViewerVideo(h, true);
    const s = stream({});
    v.frame(s, encoded(5000, 70), 1000);
    expect(frames(h.background)).toBe(1);
    link.drainMs = 80; // the socket and the link's queue still hold 80 ms of bytes
    expect(v.wants(s, 10)).toBeUndefined();
    v.frame(s, encoded(5000, 70), 1040);
    v.frame(s, encoded(5001, 70), 1080);
    expect(frames(h.background)).toBe(1);
    expect(v.dropped).toBe(1); // the 1040 frame, replaced while it waited
    link.drainMs = 0;
    expect(frames(h.background)).toBe(1); // until the timer looks again
    await vi.advanceTimersByTimeAsync(120);
    // The newest frame left by itself once the link drained, in the background lane only.
    expect(frames(h.background)).toBe(2);
    expect(frames(h.pushed)).toBe(0);
    expect((h.background[1]!.marshal() as OutMessage).parts.some((p) => p.length === 5001)).toBe(true);
    v.close();
  });

  it('asks for a lower quality while frames are over its share of the link, and a better one once they fit', async () => {
    // 2 Mbit/s: 250 kB/s, 60 % of it for 25 fps is 6 kB a frame.
    fakeTime();
    const link = { drainMs: 0, bandwidth: 250_000 };
    const v = new ViewerVideo(host(link), true);
    const sizes: Record<number, number> = { 70: 21_000, 55: 13_000, 40: 8000, 30: 5000, 20: 2400 };
    const s = stream(sizes);
    expect(v.wants(s, 10)).toBe(70);
    v.frame(s, encoded(21_000, 70), 0);
    const asked: number[] = [];
    for (let i = 0; i < 5; i++) asked.push(v.wants(s, 10)!);
    expect(asked).toEqual([55, 40, 30, 30, 30]);
    // The link turns out faster (10 Mbit/s): back up, one step per half second at most.
    link.bandwidth = 1_250_000;
    expect(v.wants(s, 10)).toBe(30);
    await vi.advanceTimersByTimeAsync(499);
    expect(v.wants(s, 10)).toBe(30);
    await vi.advanceTimersByTimeAsync(1);
    expect(v.wants(s, 10)).toBe(40);
    expect(v.wants(s, 10)).toBe(40);
    v.close();
  });

  it('takes nothing while it is not due: a report slowed it down', () => {
    const link = { drainMs: 0, bandwidth: 10e6 };
    const h = host(link);
    const v = new ViewerVideo(h, true);
    const s = stream({});
    v.frame(s, encoded(1000, 70), 0);
    v.frameIntervalMs = 200;
    expect(v.wants(s, 10)).toBeUndefined();
    v.close();
  });

  it("takes a quiet stream's area losslessly once its last frame was shown, forgets it when the video resumes", () => {
    const h = host({ drainMs: 0, bandwidth: 10e6 });
    const v = new ViewerVideo(h, true);
    const s = stream({});
    v.frame(s, encoded(5000, 70), 1000); // stamped 1100: spice-gtk shows it then
    v.quiet(s, 1100);
    expect(h.exact).toEqual([]); // a band drawn now would be painted over by that frame
    v.quiet(s, 1140);
    v.quiet(s, 1190);
    expect(h.exact).toEqual(['refresh 0-96']); // once
    v.resumed(s);
    expect(h.exact).toEqual(['refresh 0-96', 'forget 0-96']);
    v.frame(s, encoded(5000, 70), 1300);
    expect(v.destroy(s)).toBe(false); // a frame since: the stream's end owes the area again
    const t = { ...stream({}), id: 3 };
    v.frame(t, encoded(5000, 70), 2000);
    v.quiet(t, 2200);
    expect(v.destroy(t)).toBe(true); // sent already: the end need not send it again
  });
});
