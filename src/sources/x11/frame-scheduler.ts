import type { ViewerPace } from '../../seam/index.js';
import { systemClock, type Clock } from '../../util/clock.js';

/*
 * Runs an async job at most once per `intervalMs` on average, never overlapping: requests that
 * arrive while it runs or waits are folded into the next run. This is the per-frame coalescing of
 * damage (DamageNotify only says "something changed"; the frame collects everything since).
 *
 * The rate is a budget, not a spacing: up to `burst` frames may run back to back after a quiet
 * moment, and only then does each wait an interval (a cell-rate rule). A desktop draws in small
 * bursts (a terminal erases its cursor, then draws the glyph; a window manager paints the frame,
 * then the client its contents): with a fixed minimum spacing the second part of a burst waited a
 * whole interval behind the first, adding up to one interval to a keystroke and folding drag steps
 * that fell in different display frames into one. The average stays at one frame per interval.
 *
 * A frame that follows another at once starts in the same turn of the event loop as the previous
 * one ends, before the previous frame's messages are encoded and written: its capture requests
 * reach the X server while this process encodes, so the X server's work and the round trip overlap
 * with ours instead of following them.
 *
 * With a `pace`, a frame hands its draws to the viewers only once they have sent on the previous
 * one (at most `maxWaitMs`): the job awaits `viewersReady` between capture and hand-over. Capture
 * runs as fast as viewers take it, up to one frame per `intervalMs`, and slower, with larger
 * frames, when they fall behind, instead of queueing frames they would receive late.
 */
export interface FramePacing {
  readonly pace: ViewerPace;
  /** Capture anyway after waiting this long for viewers to catch up. */
  readonly maxWaitMs: number;
}

export class FrameScheduler {
  private timer: { cancel(): void } | null = null;
  private running: Promise<void> | null = null;
  private wanted = false;
  /** Cell-rate state: when the budget is back to full if nothing else runs (ms, clock.now()). */
  private theoreticalStart = -Infinity;
  private stopped = false;
  private held = true;
  /** Frames that waited for viewers to catch up (stats). */
  pacedWaits = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly job: (viewersReady: () => Promise<void>) => Promise<void>,
    private readonly onError: (err: Error) => void,
    private readonly pacing?: FramePacing,
    private readonly burst = 1,
    /** The interval and maxWaitMs run on it; setImmediate (a frame due now) stays the event loop's. */
    private readonly clock: Clock = systemClock,
  ) {}

  /** Schedulers start held: requests are remembered until release() (e.g. after the first full frame). */
  release(): void {
    this.held = false;
    if (this.wanted) {
      this.wanted = false;
      this.request();
    }
  }

  request(): void {
    if (this.stopped) return;
    if (this.running || this.held) {
      this.wanted = true;
      return;
    }
    if (this.timer) return;
    const delay = this.delay();
    // Node stretches setTimeout(0) to 1 ms: a frame that is due now runs on the next turn instead
    // (after every event already read, so one frame covers a batch of DamageNotify events).
    if (delay < 1) {
      const immediate = setImmediate(() => this.fire());
      this.timer = { cancel: () => clearImmediate(immediate) };
    } else {
      this.timer = this.clock.timeout(() => this.fire(), delay);
    }
  }

  /** Cancel what is scheduled and wait for a running job to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    await this.running;
  }

  /** Milliseconds until the budget allows another frame. */
  private delay(): number {
    return Math.max(0, this.theoreticalStart - (this.burst - 1) * this.intervalMs - this.clock.now());
  }

  /** What a job awaits before it hands its frame over: viewers caught up, or maxWaitMs. */
  private readonly viewersReady = (): Promise<void> => {
    const pacing = this.pacing;
    if (!pacing || pacing.pace.caughtUp() || this.stopped) return Promise.resolve();
    this.pacedWaits++;
    return new Promise((resolve) => {
      const go = (): void => {
        timeout.cancel();
        cancelWait();
        resolve();
      };
      const timeout = this.clock.timeout(go, pacing.maxWaitMs);
      const cancelWait = pacing.pace.whenCaughtUp(go);
    });
  };

  /** After a frame: the next one at once if damage came meanwhile and the budget allows. */
  private next(): void {
    this.running = null;
    if (!this.wanted || this.stopped) return;
    this.wanted = false;
    if (this.held || this.delay() >= 1) return this.request();
    this.fire();
  }

  private fire(): void {
    this.timer = null;
    this.theoreticalStart = Math.max(this.theoreticalStart, this.clock.now()) + this.intervalMs;
    this.running = this.job(this.viewersReady)
      .catch((err: unknown) => this.onError(err instanceof Error ? err : new Error(String(err))))
      .finally(() => this.next());
  }
}
