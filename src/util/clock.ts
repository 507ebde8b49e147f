/*
 * Time and timers as a seam. Code whose behaviour is a deadline (a PING left unanswered, a socket
 * that does not drain, a frame that waited long enough for the viewers) reads the time and sets its
 * timers through a Clock, so that a test can move time itself (test/helpers/manual-clock.ts) and
 * decide "the deadline has passed" or "it has not yet" exactly, however slow the machine is,
 * instead of sleeping on the wall clock and hoping the machine kept up.
 */

/** A timer that was set; cancel() is harmless after it fired. */
export interface Timer {
  cancel(): void;
  /** Do not keep the process alive for this timer (Node's unref). */
  unref(): Timer;
}

export interface Clock {
  /** Milliseconds, monotonic, any origin. */
  now(): number;
  /** Call `fn` once, `ms` from now. */
  timeout(fn: () => void, ms: number): Timer;
  /** Call `fn` every `ms`. */
  interval(fn: () => void, ms: number): Timer;
}

function nodeTimer(handle: NodeJS.Timeout, clear: (handle: NodeJS.Timeout) => void): Timer {
  const timer: Timer = {
    cancel: () => clear(handle),
    unref: () => {
      handle.unref();
      return timer;
    },
  };
  return timer;
}

/**
 * The process's clock. The globals are looked up at each call, not captured, so Vitest's fake
 * timers (which replace them) still stand in for it where a test uses those.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  timeout: (fn, ms) => nodeTimer(setTimeout(fn, ms), (h) => clearTimeout(h)),
  interval: (fn, ms) => nodeTimer(setInterval(fn, ms), (h) => clearInterval(h)),
};
