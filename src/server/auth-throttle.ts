/*
 * How often an address may have a ticket checked (issue 12: tickets could be guessed at ~1,500 a
 * second). Policy:
 * - per address (IPv6: per /64, what one machine usually has): the first `freeFailures` wrong
 *   tickets are checked as they come; after that the address waits `baseDelayMs` after its last
 *   failure before the next ticket is checked, doubling with each further failure up to
 *   `maxDelayMs`. A ticket that arrives while the address waits is refused without being
 *   decrypted (PERMISSION_DENIED, like a wrong one) and does not extend the wait. A right ticket
 *   clears the address's failures.
 * - globally: at most `globalPerSecond` checks a second (burst `globalBurst`) for addresses that
 *   have not logged in lately, so many addresses together cannot guess fast either; an address
 *   that logged in within `trustMs` is exempt, so viewers keep opening channels during a flood.
 * - the table is bounded: entries are forgotten `forgetAfterMs` after their last failure, and the
 *   oldest is evicted beyond `maxAddresses`.
 * Every `now` is milliseconds of the caller's clock (the Authenticator's, any origin).
 */

export interface ThrottleOptions {
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
  globalPerSecond: number;
  globalBurst: number;
  trustMs: number;
  forgetAfterMs: number;
  maxAddresses: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = {
  freeFailures: 5,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  globalPerSecond: 50,
  globalBurst: 100,
  trustMs: 3_600_000,
  forgetAfterMs: 900_000,
  maxAddresses: 4096,
};

/** Why a ticket is not checked: its address is backing off, or the global ceiling is reached. */
export type Admission = 'ok' | 'address' | 'global';

interface AddressState {
  failures: number;
  lastFailure: number;
  /** Until when tickets from here are refused unchecked (0: not backing off). */
  retryAt: number;
  /** Until when this address is exempt from the global ceiling (it logged in). */
  trustedUntil: number;
}

/** A token bucket: `rate` tokens a second, at most `burst` saved up. */
class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }

  empty(now: number): boolean {
    this.refill(now);
    return this.tokens < 1;
  }

  take(now: number): boolean {
    if (this.empty(now)) return false;
    this.tokens -= 1;
    return true;
  }
}

export class AuthThrottle {
  private readonly table = new Map<string, AddressState>();
  private readonly global: TokenBucket;

  constructor(
    readonly opts: ThrottleOptions = DEFAULT_THROTTLE,
    now: number,
  ) {
    this.global = new TokenBucket(opts.globalPerSecond, opts.globalBurst, now);
  }

  /** Addresses remembered (bounded by maxAddresses). */
  get size(): number {
    return this.table.size;
  }

  /** What admit() would say now, without using a global token. */
  peek(key: string, now: number): Admission {
    const s = this.state(key, now);
    if (s && now < s.retryAt) return 'address';
    if (s && now < s.trustedUntil) return 'ok';
    return this.global.empty(now) ? 'global' : 'ok';
  }

  /** Whether a ticket from `key` may be checked now; a global token is used when it may. */
  admit(key: string, now: number): Admission {
    const verdict = this.peek(key, now);
    if (verdict === 'ok' && !this.trusted(key, now)) this.global.take(now);
    return verdict;
  }

  private trusted(key: string, now: number): boolean {
    const s = this.table.get(key);
    return s !== undefined && now < s.trustedUntil;
  }

  /** The result of a checked ticket. Returns the wait now imposed on the address (0: none). */
  record(key: string, ok: boolean, now: number): number {
    if (ok) {
      this.put(key, { failures: 0, lastFailure: 0, retryAt: 0, trustedUntil: now + this.opts.trustMs });
      return 0;
    }
    const s = this.state(key, now) ?? { failures: 0, lastFailure: 0, retryAt: 0, trustedUntil: 0 };
    s.failures++;
    s.lastFailure = now;
    const over = s.failures - this.opts.freeFailures;
    const wait = over < 0 ? 0 : Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** over);
    s.retryAt = wait > 0 ? now + wait : 0;
    this.put(key, s);
    return wait;
  }

  /** The live state of an address, dropping it once it has nothing left to remember. */
  private state(key: string, now: number): AddressState | undefined {
    const s = this.table.get(key);
    if (s && this.stale(s, now)) {
      this.table.delete(key);
      return undefined;
    }
    return s;
  }

  private stale(s: AddressState, now: number): boolean {
    return now >= s.trustedUntil && now >= s.retryAt && now - s.lastFailure >= this.opts.forgetAfterMs;
  }

  /** Store as the most recent entry; beyond the cap, the least recently touched goes. */
  private put(key: string, s: AddressState): void {
    this.table.delete(key);
    this.table.set(key, s);
    while (this.table.size > this.opts.maxAddresses) this.table.delete(this.table.keys().next().value!);
  }
}
