import type { RoundMember, SendRounds } from '../channel-core/send-rounds.js';
import { rectContains } from '../protocol/geometry.js';
import type { LoggedDraw } from './key-frame.js';

/** Covered draws are looked for this many live draws back from the newest (as a viewer's own pipe does). */
const COVER_LOOKBACK = 64;

/**
 * The display channel's draws not yet taken by its caught-up viewers (followers), kept once for
 * all of them with a cursor each, instead of an item queued in each of their pipes. With 500
 * viewers of an animated desktop, queueing every draw into every pipe (the covered-draw scan, the
 * item, the round scheduling) was a sixth of the server's CPU, the same work 500 times over.
 *
 * A viewer follows once its pipe is empty (everything handed to its socket) and it is in the
 * plain state (no damage, no streams); from then on its draws wait here. It takes them (`take`)
 * into its own pipe, in order and through its usual per-viewer path (ACK window, send allowance,
 * lossy choice, damage), at its next send round, or before anything else is queued for it, and
 * so stops following until its pipe drains again. A draw that covers earlier fills and copies
 * drops them here, once for every follower (each is counted as covered when it takes the log).
 */
export class SharedDrawLog<F extends RoundMember> implements RoundMember {
  /** Draws from `base` on; undefined where a later draw covered one. */
  private entries: (LoggedDraw | undefined)[] = [];
  private base = 0;
  /** Each follower's cursor: the first draw it has not taken. */
  private readonly cursors = new Map<F, number>();
  /** Whether the followers' round is asked for already. */
  private scheduled = false;
  /** Draws logged for followers (stats and tests). */
  appended = 0;

  constructor(private readonly rounds: SendRounds) {}

  private get end(): number {
    return this.base + this.entries.length;
  }

  /** How many viewers follow the log now. */
  get followers(): number {
    return this.cursors.size;
  }

  /** The followers now. */
  members(): F[] {
    return [...this.cursors.keys()];
  }

  /** Whether draws wait here for `f`. */
  pending(f: F): boolean {
    const c = this.cursors.get(f);
    return c !== undefined && c < this.end;
  }

  /** `f` has nothing queued: draws from now on wait here for it. */
  follow(f: F): void {
    this.cursors.set(f, this.end);
  }

  /** A draw for every follower (none: nothing to keep); their round is asked for. */
  append(d: LoggedDraw): void {
    if (this.cursors.size === 0) return;
    if (d.kind !== 'copyBits') this.dropCovered(d.rect);
    this.entries.push(d);
    this.appended++;
    if (this.scheduled) return;
    this.scheduled = true;
    this.rounds.schedule(this);
  }

  /**
   * `f` stops following: `visit` gets each draw it has not taken, in order. Returns how many it was
   * spared because later ones covered them.
   */
  take(f: F, visit: (d: LoggedDraw) => void): number {
    const cursor = this.cursors.get(f);
    if (cursor === undefined) return 0;
    this.cursors.delete(f);
    let covered = 0;
    for (let i = cursor - this.base; i < this.entries.length; i++) {
      const d = this.entries[i];
      if (d) visit(d);
      else covered++;
    }
    if (this.cursors.size === 0) this.trim();
    return covered;
  }

  /** `f` closed. */
  forget(f: F): void {
    this.cursors.delete(f);
  }

  /** The followers' send round: each with draws waiting pushes them (and follows again once drained). */
  runRound(): void {
    this.scheduled = false;
    for (const [f, cursor] of [...this.cursors]) if (cursor < this.end) f.runRound();
    this.trim();
  }

  /** Forget the draws every follower has taken. */
  private trim(): void {
    let min = this.end;
    for (const c of this.cursors.values()) if (c < min) min = c;
    if (min === this.base) return;
    this.entries = min === this.end ? [] : this.entries.slice(min - this.base);
    this.base = min;
  }

  /**
   * Fills and copies inside `rect` not yet taken go unsent, as in a viewer's pipe: only back to the
   * first copy-bits (it reads what is under it), and COVER_LOOKBACK draws at most. A follower whose
   * cursor is past one already sent it; the others get the covering draw instead.
   */
  private dropCovered(rect: LoggedDraw['rect']): void {
    for (let i = this.entries.length - 1, seen = 0; i >= 0 && seen < COVER_LOOKBACK; i--) {
      const d = this.entries[i];
      if (!d) continue;
      if (d.kind === 'copyBits') return;
      seen++;
      if (rectContains(rect, d.rect)) this.entries[i] = undefined;
    }
  }
}
