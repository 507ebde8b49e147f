import type { Clock, Timer } from '../../src/util/clock.js';

/*
 * A Clock that moves only when the test says so (src/util/clock.ts). Hand it to the code under test
 * (the server's `client.clock`, a FrameScheduler) and the test decides when a deadline passes:
 * "not closed at 999 ms, closed by 1250 ms" holds exactly however slow the machine is, and the test
 * does not sleep through the deadline. Sockets, setImmediate and promises stay real; only the
 * timers set through this clock wait for advance().
 */
interface Pending {
  at: number;
  fn: () => void;
  /** Repeat period; undefined for a timeout. */
  every: number | undefined;
}

export class ManualClock implements Clock {
  private time = 0;
  private readonly pending: Pending[] = [];

  now(): number {
    return this.time;
  }

  timeout(fn: () => void, ms: number): Timer {
    return this.add({ at: this.time + Math.max(0, ms), fn, every: undefined });
  }

  interval(fn: () => void, ms: number): Timer {
    // Node runs an interval of 0 every millisecond.
    const every = Math.max(1, ms);
    return this.add({ at: this.time + every, fn, every });
  }

  /**
   * Move time forward by `ms`, firing every timer that falls due on the way, in time order, each
   * with now() at its due time. Then let promise callbacks the timers started run (one turn of the
   * event loop), so what they do synchronously or through resolved promises is visible on return.
   */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (let next = this.due(end); next; next = this.due(end)) {
      this.time = next.at;
      if (next.every === undefined) this.remove(next);
      else next.at += next.every;
      next.fn();
    }
    this.time = end;
    await new Promise((resolve) => setImmediate(resolve));
  }

  private due(end: number): Pending | undefined {
    let first: Pending | undefined;
    for (const p of this.pending) if (p.at <= end && (!first || p.at < first.at)) first = p;
    return first;
  }

  private remove(p: Pending): void {
    const i = this.pending.indexOf(p);
    if (i >= 0) this.pending.splice(i, 1);
  }

  private add(p: Pending): Timer {
    this.pending.push(p);
    const timer: Timer = {
      cancel: () => this.remove(p),
      unref: () => timer,
    };
    return timer;
  }
}
