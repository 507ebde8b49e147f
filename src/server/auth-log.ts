import { systemClock, type Clock, type Timer } from '../util/clock.js';
import type { Logger } from '../util/log.js';

/** What happened to a refused ticket. */
export type TicketFailure = 'wrong' | 'throttled' | 'ceiling';

interface Tally {
  wrong: number;
  throttled: number;
  ceiling: number;
  /** The longest wait imposed on the address in the interval. */
  waitMs: number;
}

const SHOWN_ADDRESSES = 5;

/**
 * Refused tickets in the log without one line each (a guessing client made thousands a minute):
 * the first refusal after a quiet interval gets a line at once, so a mistyped password shows up
 * when it happens; the rest are summed up in one line per interval, per address, the busiest
 * first. The summary timer runs only while refusals keep coming.
 */
export class AuthLog {
  private readonly tallies = new Map<string, Tally>();
  private timer: Timer | undefined;

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 10_000,
    private readonly clock: Clock = systemClock,
  ) {}

  refused(address: string, failure: TicketFailure, reason: string, waitMs = 0): void {
    if (this.timer === undefined) {
      const wait = waitMs > 0 ? `; it waits ${waitMs} ms before its next try` : '';
      const every = `further refusals are summed up every ${this.intervalMs / 1000} s`;
      this.log.warn(`ticket from ${address} refused: ${reason}${wait} (${every})`);
      this.arm();
      return;
    }
    const t = this.tallies.get(address) ?? { wrong: 0, throttled: 0, ceiling: 0, waitMs: 0 };
    t[failure]++;
    t.waitMs = Math.max(t.waitMs, waitMs);
    this.tallies.set(address, t);
  }

  /** Write what is pending and stop the timer (server stop). */
  close(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.summarise();
  }

  private arm(): void {
    this.timer = this.clock.timeout(() => this.tick(), this.intervalMs).unref();
  }

  /** One summary line; the timer goes on while the interval had refusals, else the next one is logged at once. */
  private tick(): void {
    this.timer = undefined;
    if (this.summarise()) this.arm();
  }

  private summarise(): boolean {
    if (this.tallies.size === 0) return false;
    const rows = [...this.tallies].sort((a, b) => total(b[1]) - total(a[1]));
    const shown = rows.slice(0, SHOWN_ADDRESSES).map(([address, t]) => `${address}: ${describe(t)}`);
    const more = rows.length > SHOWN_ADDRESSES ? `; and ${rows.length - SHOWN_ADDRESSES} more addresses` : '';
    const sum = rows.reduce((n, [, t]) => n + total(t), 0);
    this.log.warn(`tickets refused in the last ${this.intervalMs / 1000} s: ${sum} (${shown.join('; ')}${more})`);
    this.tallies.clear();
    return true;
  }
}

function total(t: Tally): number {
  return t.wrong + t.throttled + t.ceiling;
}

function describe(t: Tally): string {
  const parts = [
    t.wrong > 0 ? `${t.wrong} wrong` : '',
    t.throttled > 0 ? `${t.throttled} unchecked while backing off` : '',
    t.ceiling > 0 ? `${t.ceiling} unchecked over the global ceiling` : '',
    t.waitMs > 0 ? `now waits ${t.waitMs} ms` : '',
  ];
  return parts.filter((p) => p !== '').join(', ');
}
