/*
 * Runs an async job at most once per `minIntervalMs`, never overlapping: requests that arrive
 * while it runs or waits are folded into the next run. This is the per-frame coalescing of damage
 * (DamageNotify only says "something changed"; the frame collects everything since).
 */
export class FrameScheduler {
  private timer: { cancel(): void } | null = null;
  private running: Promise<void> | null = null;
  private wanted = false;
  private lastStart = -Infinity;
  private stopped = false;
  private held = true;

  constructor(
    private readonly minIntervalMs: number,
    private readonly job: () => Promise<void>,
    private readonly onError: (err: Error) => void,
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
    const delay = Math.max(0, this.lastStart + this.minIntervalMs - performance.now());
    // Node stretches setTimeout(0) to 1 ms: a frame that is due now runs on the next turn instead.
    if (delay < 1) {
      const immediate = setImmediate(() => this.fire());
      this.timer = { cancel: () => clearImmediate(immediate) };
    } else {
      const timeout = setTimeout(() => this.fire(), delay);
      this.timer = { cancel: () => clearTimeout(timeout) };
    }
  }

  /** Cancel what is scheduled and wait for a running job to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    await this.running;
  }

  private fire(): void {
    this.timer = null;
    this.lastStart = performance.now();
    this.running = this.job()
      .catch((err: unknown) => this.onError(err instanceof Error ? err : new Error(String(err))))
      .finally(() => {
        this.running = null;
        if (this.wanted) {
          this.wanted = false;
          this.request();
        }
      });
  }
}
