import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { AuthLog } from './auth-log.js';
import { peerAddressKey } from '../util/address.js';
import { AuthThrottle, DEFAULT_THROTTLE, type ThrottleOptions } from './auth-throttle.js';
import { generateTicketKey, KeyPool } from './key-pool.js';
import { TicketKey, type Ticketing, type TicketVerdict } from './ticket.js';

/** One link's side of ticket authentication: the key it was offered and how its ticket is judged. */
export interface LinkTicket {
  readonly publicDer: Buffer;
  check(ticket: Buffer): TicketVerdict;
}

export interface AuthenticatorOptions {
  /** Keys kept ready (0: every link waits for its own). */
  keyPoolSize: number;
  throttle: ThrottleOptions;
  /** How often repeated refusals are summed up in the log. */
  logIntervalMs: number;
  /** The back-off's and the log summary's time (tests move it themselves). */
  clock: Clock;
}

export const DEFAULT_AUTH: AuthenticatorOptions = {
  keyPoolSize: 16,
  throttle: DEFAULT_THROTTLE,
  logIntervalMs: 10_000,
  clock: systemClock,
};

/**
 * Ticket authentication for every link of a server: a fresh key per link from the pool (a captured
 * ticket cannot be replayed), the per-address back-off and global ceiling (auth-throttle.ts), and
 * refusals summed up in the log (auth-log.ts). Links that are refused before their ticket arrives,
 * and servers without a password, are offered one fixed key that is never used to decrypt, so
 * they cost no key generation.
 */
export class Authenticator {
  readonly pool: KeyPool;
  readonly throttle: AuthThrottle;
  private readonly refusals: AuthLog;
  private readonly clock: Clock;
  /** Offered when the ticket will not be decrypted. */
  private readonly fixedKey = TicketKey.generateSync();
  /** Private-key operations on tickets, and tickets refused without one. */
  readonly stats = { decryptions: 0, unchecked: 0 };
  /** Tickets decrypted and refused (wrong password, expired, undecryptable). */
  wrongTickets = 0;

  constructor(
    private readonly ticketing: Ticketing,
    log: Logger,
    opts: AuthenticatorOptions = DEFAULT_AUTH,
  ) {
    this.pool = new KeyPool({ size: opts.keyPoolSize, generate: generateTicketKey });
    this.clock = opts.clock;
    this.throttle = new AuthThrottle(opts.throttle, opts.clock.now());
    this.refusals = new AuthLog(log, opts.logIntervalMs, opts.clock);
  }

  start(): void {
    if (this.ticketing.required) this.pool.start();
  }

  close(): void {
    this.pool.close();
    this.refusals.close();
  }

  /** The key for a link from `peer` (its link message has arrived); `websocket`: spice-html5 may be the client. */
  begin(peer: string, websocket: boolean): LinkTicket | Promise<LinkTicket> {
    const fixed = this.fixedKey.publicDer;
    if (!this.ticketing.required) return { publicDer: fixed, check: () => this.ticketing.verify(undefined) };
    const address = peerAddressKey(peer);
    const early = this.throttle.peek(address, this.clock.now());
    if (early !== 'ok') return { publicDer: fixed, check: () => this.unchecked(address, early) };
    const key = this.pool.take();
    const linkTicket = (k: TicketKey): LinkTicket => ({
      publicDer: k.publicDer,
      check: (t) => this.checkWith(k, address, t, websocket),
    });
    return key instanceof TicketKey ? linkTicket(key) : key.then(linkTicket);
  }

  private checkWith(key: TicketKey, address: string, ticket: Buffer, websocket: boolean): TicketVerdict {
    const admission = this.throttle.admit(address, this.clock.now());
    if (admission !== 'ok') return this.unchecked(address, admission);
    const before = key.decryptions;
    const verdict = this.ticketing.verify(key.decrypt(ticket, websocket));
    this.stats.decryptions += key.decryptions - before;
    const wait = this.throttle.record(address, verdict.ok, this.clock.now());
    if (verdict.ok) return verdict;
    this.wrongTickets++;
    this.refusals.refused(address, 'wrong', verdict.reason, wait);
    return { ...verdict, reported: true };
  }

  /** Refused without decrypting: the address is backing off, or the global ceiling is reached. */
  private unchecked(address: string, why: 'address' | 'global'): TicketVerdict {
    this.stats.unchecked++;
    const reason =
      why === 'address'
        ? 'not checked: too many wrong tickets from this address'
        : 'not checked: too many tickets from everywhere';
    this.refusals.refused(address, why === 'address' ? 'throttled' : 'ceiling', reason);
    return { ok: false, reason, reported: true };
  }
}
