/**
 * Kernel readings (TCP_INFO) a channel's link sampling may make a second, summed over its clients.
 * With 500 viewers each read every SAMPLE_MS (as one viewer is), on a timer each, plus a reading at
 * every flush, the readings and timers took a fifth of the server's samples in a --cpu-prof of
 * bench/viewers.ts. Up to 200 viewers are read every SAMPLE_MS as before; beyond that each is read
 * less often (every 50 ms at 500 viewers). A budget of 2,500 (every 200 ms at 500) cost no more
 * CPU than this one but put the p95 of a change to the 500th viewer at 100 to 160 ms in four runs
 * against 63 to 71 ms with this one: readings that far apart changed the estimates' samples.
 */
const DEFAULT_SAMPLES_PER_SECOND = 10000;

/** While some client's bytes wait to leave, its link is read (at most) this often. */
export const SAMPLE_MS = 20;

/** A client whose link is sampled while bytes wait: `sampleLink` reads now and says whether any still wait. */
export interface LinkSampled {
  sampleLink(): boolean;
}

/**
 * One timer for the link sampling of all of a channel's clients, instead of a timer each, and a
 * budget of readings a second (a token bucket refilled at `perSecond`, holding at most one
 * SAMPLE_MS's worth). A client whose pipe drained, and whose bytes may still wait to leave, asks to
 * be watched (`watch`): read at once if the budget allows, then on each tick, oldest reading first,
 * for as long as bytes wait (the display channel asks when its estimate guesses some may, or when
 * its last reading is old: see RESAMPLE_MS there).
 */
export class LinkSampler {
  /** Clients being watched, in the order they are due (a read one goes to the back). */
  private readonly watched = new Set<LinkSampled>();
  private tokens: number;
  private refilledAt = performance.now();
  private timer: NodeJS.Timeout | undefined;
  /** Readings made (stats and tests). */
  readings = 0;

  constructor(private readonly perSecond = DEFAULT_SAMPLES_PER_SECOND) {
    this.tokens = this.burst;
  }

  /** The most readings one tick may make. */
  private get burst(): number {
    return Math.max(1, (this.perSecond * SAMPLE_MS) / 1000);
  }

  /** `client` may have bytes waiting to leave: read its link now if the budget allows, and keep reading while they wait. */
  watch(client: LinkSampled): void {
    if (this.watched.has(client)) return;
    this.refill();
    if (this.tokens >= 1 && !this.read(client)) return;
    this.watched.add(client);
    this.arm();
  }

  /** Stop watching `client` (it closed). */
  forget(client: LinkSampled): void {
    this.watched.delete(client);
  }

  /** How many clients are watched now (tests). */
  get size(): number {
    return this.watched.size;
  }

  private read(client: LinkSampled): boolean {
    this.tokens--;
    this.readings++;
    return client.sampleLink();
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.perSecond) / 1000);
    this.refilledAt = now;
  }

  private arm(): void {
    if (this.timer || this.watched.size === 0) return;
    this.timer = setTimeout(() => this.tick(), SAMPLE_MS);
    this.timer.unref();
  }

  /** Read the clients due, as many as the budget allows; those whose bytes still wait go to the back. */
  private tick(): void {
    this.timer = undefined;
    this.refill();
    const due: LinkSampled[] = [];
    for (const c of this.watched) {
      if (due.length >= Math.floor(this.tokens)) break;
      due.push(c);
    }
    for (const c of due) {
      this.watched.delete(c);
      if (this.read(c)) this.watched.add(c);
    }
    this.arm();
  }
}
