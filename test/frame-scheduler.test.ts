import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FrameScheduler } from '../src/sources/x11/frame-scheduler.js';

/*
 * The X11 frame scheduler's rate rule: one frame per interval on average, with a burst of frames
 * allowed after a quiet moment (a desktop draws in bursts; the second half of a keystroke's
 * drawing must not wait a whole interval behind the first). The scheduler reads performance.now()
 * and waits with setTimeout/setImmediate: Vitest's fake timers stand in for both, so the times
 * below are exact and no test waits on (or is upset by) the wall clock of a loaded machine.
 */
const INTERVAL_MS = 200;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Requests a frame as soon as the previous one finished, `frames` times; returns the start times. */
async function backToBack(burst: number, frames: number): Promise<number[]> {
  const starts: number[] = [];
  const fail = (err: Error): never => {
    throw err;
  };
  const scheduler = new FrameScheduler(
    INTERVAL_MS,
    async () => {
      starts.push(performance.now());
      if (starts.length < frames) setImmediate(() => scheduler.request());
    },
    fail,
    undefined,
    burst,
  );
  scheduler.release();
  scheduler.request();
  await vi.advanceTimersByTimeAsync(frames * INTERVAL_MS);
  await scheduler.stop();
  expect(starts).toHaveLength(frames);
  return starts.map((t) => t - starts[0]!);
}

describe('FrameScheduler', () => {
  it('runs a burst of frames without waiting, then one per interval', async () => {
    const starts = await backToBack(3, 6);
    // Frames 2 and 3 follow at once (a fixed spacing would put them 200 and 400 ms in).
    expect(starts[2]!).toBeLessThan(INTERVAL_MS / 2);
    // Then the budget is spent: frame 4 waits until an interval has passed since the first, and
    // the rest follow one interval apart.
    expect(starts[3]!).toBeGreaterThanOrEqual(INTERVAL_MS);
    expect(starts[3]!).toBeLessThan(INTERVAL_MS + 5);
    expect(starts[5]!).toBeGreaterThanOrEqual(INTERVAL_MS * 3);
    expect(starts[5]!).toBeLessThan(INTERVAL_MS * 3 + 5);
  });

  it('keeps a fixed spacing with a burst of one', async () => {
    const starts = await backToBack(1, 3);
    expect(starts[1]!).toBeGreaterThanOrEqual(INTERVAL_MS);
    expect(starts[1]!).toBeLessThan(INTERVAL_MS + 5);
    expect(starts[2]!).toBeGreaterThanOrEqual(2 * INTERVAL_MS);
    expect(starts[2]!).toBeLessThan(2 * INTERVAL_MS + 5);
  });

  it('refills the burst after a quiet moment', async () => {
    const starts: number[] = [];
    const scheduler = new FrameScheduler(
      INTERVAL_MS,
      async () => void starts.push(performance.now()),
      (e) => {
        throw e;
      },
      undefined,
      2,
    );
    scheduler.release();
    scheduler.request();
    await vi.advanceTimersByTimeAsync(20);
    scheduler.request();
    await vi.advanceTimersByTimeAsync(3 * INTERVAL_MS);
    const quietEnd = performance.now();
    scheduler.request();
    await vi.advanceTimersByTimeAsync(20);
    scheduler.request();
    await vi.advanceTimersByTimeAsync(20);
    await scheduler.stop();
    expect(starts).toHaveLength(4);
    expect(starts[1]! - starts[0]!).toBeLessThan(INTERVAL_MS / 2);
    expect(starts[3]! - quietEnd).toBeLessThan(INTERVAL_MS / 2);
  });
});
