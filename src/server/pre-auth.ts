import { addressKey } from '../util/address.js';
import type { ThrottledLog } from '../util/throttled-log.js';

/*
 * Connections that have not authenticated yet (TLS handshake, sniffing, HTTP, WebSocket upgrade,
 * link) cost a descriptor each and prove nothing, so they are held to two caps and a deadline:
 *
 * - per source address: the next one is refused at once (one host cannot take every slot);
 * - in total: the oldest of the address holding the most is closed to make room, so a new
 *   viewer from an address that behaves always gets in, however many addresses an attacker has;
 * - every state gets a deadline (armed by whoever runs that state); when it passes, the
 *   connection is closed with a log line naming the peer and the state.
 *
 * A connection leaves the gate when it is authenticated (link accepted) or closed.
 */

export interface PreAuthLimits {
  /** Pre-auth connections held at once from one address (IPv6: one /64). */
  perAddress: number;
  /** Pre-auth connections held at once in total. */
  total: number;
}

export const DEFAULT_PRE_AUTH_LIMITS: PreAuthLimits = { perAddress: 32, total: 512 };

/** One pre-auth connection's place in the gate. */
export interface PreAuthSlot {
  /** (Re)arm the deadline of the state the connection is in now. */
  deadline(state: string, ms: number): void;
  /** No deadline from the gate (the next state keeps its own, e.g. the link stage). */
  disarm(): void;
  /** Authenticated or closed: the slot is free and its deadline disarmed. Idempotent. */
  leave(): void;
}

interface Entry {
  readonly key: string;
  readonly peer: string;
  readonly close: (reason: string) => void;
  timer: NodeJS.Timeout | undefined;
}

export class PreAuthGate {
  /** Per address key, its entries, oldest first. */
  private readonly byAddress = new Map<string, Entry[]>();
  private count = 0;

  constructor(
    private readonly limits: PreAuthLimits,
    private readonly log: ThrottledLog,
  ) {}

  /** Pre-auth connections held now. */
  get size(): number {
    return this.count;
  }

  /**
   * Admit a new connection from `address` (`peer` names it in logs), or say why not. `close` ends
   * the connection (a deadline passed, or it was evicted for a newer one).
   */
  enter(address: string, peer: string, close: (reason: string) => void): PreAuthSlot | string {
    const key = addressKey(address);
    const mine = this.byAddress.get(key) ?? [];
    if (mine.length >= this.limits.perAddress) {
      const limit = this.limits.perAddress;
      return `${mine.length} connections from ${key} are already waiting to authenticate (limit ${limit})`;
    }
    if (this.count >= this.limits.total) this.evictOne();
    const entry: Entry = { key, peer, close, timer: undefined };
    mine.push(entry);
    this.byAddress.set(key, mine);
    this.count++;
    return {
      deadline: (state, ms) => this.arm(entry, state, ms),
      disarm: () => {
        if (entry.timer) clearTimeout(entry.timer);
        entry.timer = undefined;
      },
      leave: () => this.remove(entry),
    };
  }

  private arm(entry: Entry, state: string, ms: number): void {
    if (entry.timer) clearTimeout(entry.timer);
    if (!this.holds(entry)) return;
    entry.timer = setTimeout(() => {
      const message = `connection from ${entry.peer} closed: ${state} not done within ${ms} ms`;
      this.log.emit('warn', `deadline ${entry.key}`, message);
      this.remove(entry);
      entry.close(`${state} timed out`);
    }, ms);
    entry.timer.unref();
  }

  private holds(entry: Entry): boolean {
    return this.byAddress.get(entry.key)?.includes(entry) ?? false;
  }

  private evictOne(): void {
    this.shed(`${this.limits.total} connections are waiting to authenticate (limit)`);
  }

  /**
   * Close the oldest connection of the address holding the most (to make room for a new one, or
   * to free a descriptor). False when there was none to close.
   */
  shed(why: string): boolean {
    let heaviest: Entry[] | undefined;
    for (const list of this.byAddress.values()) if (!heaviest || list.length > heaviest.length) heaviest = list;
    const victim = heaviest?.[0];
    if (!victim) return false;
    const held = heaviest!.length;
    const message = `connection from ${victim.peer} closed to make room: ${why} (${held} from ${victim.key} wait to authenticate)`;
    this.log.emit('warn', `shed ${victim.key}`, message);
    this.remove(victim);
    victim.close('closed to make room: too many connections waiting to authenticate');
    return true;
  }

  private remove(entry: Entry): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    const list = this.byAddress.get(entry.key);
    const i = list?.indexOf(entry) ?? -1;
    if (!list || i < 0) return;
    list.splice(i, 1);
    this.count--;
    if (list.length === 0) this.byAddress.delete(entry.key);
  }
}
