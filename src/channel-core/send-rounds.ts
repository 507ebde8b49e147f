/**
 * Writes per second a channel's send rounds aim to stay under, summed over its clients. A round
 * writes (at most) one flush to each client that has something queued, so with V clients rounds
 * are spaced at least V / this apart: no spacing for a handful of viewers, a round every 50 ms for
 * 500. Each write costs the server a system call (on loopback also the receiving side's TCP work),
 * about 10 us whatever its size, so this caps the server's write cost near 10 % of a core however
 * many viewers watch; the draws of the frames in between are merged into the next flush, and
 * covered draws are dropped while they wait.
 */
export const DEFAULT_WRITES_PER_SECOND = 10_000;

/** Spacing below this is not worth a timer (setTimeout rounds to 1 ms): rounds run at once. */
const MIN_SPACING_MS = 2;

/** What a round runs for each client that asked for one. */
export interface RoundMember {
  runRound(): void;
}

/**
 * When a channel's clients push their pipes: together, in rounds. A client with new items asks for
 * the next round (schedule); the round runs on the next turn of the event loop, as a client's own
 * push did, unless the previous round started less than the spacing ago (many viewers, see
 * DEFAULT_WRITES_PER_SECOND), in which case it waits for that. A lone viewer is never held back.
 */
export class SendRounds {
  private readonly pending = new Set<RoundMember>();
  private armed = false;
  private lastRound = -Infinity;
  /** Rounds run, and rounds that waited for the spacing (stats and tests). */
  rounds = 0;
  waited = 0;

  constructor(
    private readonly clients: () => number,
    private readonly writesPerSecond = DEFAULT_WRITES_PER_SECOND,
  ) {}

  /** Spacing between round starts now, in ms (0: none). */
  get spacingMs(): number {
    if (!(this.writesPerSecond > 0)) return 0;
    const ms = (this.clients() / this.writesPerSecond) * 1000;
    return ms < MIN_SPACING_MS ? 0 : ms;
  }

  schedule(member: RoundMember): void {
    this.pending.add(member);
    if (this.armed) return;
    this.armed = true;
    const wait = this.lastRound + this.spacingMs - performance.now();
    if (wait >= 1) {
      this.waited++;
      setTimeout(() => this.run(), wait);
    } else {
      setImmediate(() => this.run());
    }
  }

  private run(): void {
    this.armed = false;
    this.lastRound = performance.now();
    this.rounds++;
    // Members that ask again during the round (an ACK read in between) go to the next one.
    const members = [...this.pending];
    this.pending.clear();
    for (const m of members) m.runRound();
  }
}
