/**
 * One viewer connection's bandwidth and latency, estimated from what the connection already shows:
 * no probe traffic. Three sources:
 *   - the kernel (TCP_INFO, read by the caller): bytes acknowledged by the peer, bytes not yet sent
 *     or in flight, the smoothed and least round trip. Between two readings that both found the
 *     link full (bytes unsent, or more than the one segment a delayed ACK holds in flight), the link
 *     was busy the whole time, so the bytes acknowledged over that time are what it carries (a
 *     capacity sample). The first such interval of a busy period is skipped: a token
 *     bucket shaper that refilled while the link idled passes a burst at line rate first, and a
 *     maximum over samples would lock onto it. The interval that ends a busy period counts too
 *     (where ACKs queue behind the data, all of a frame's come as its queue empties);
 *   - SPICE ACK timing, where the kernel's counters are unavailable: the client ACKs every `window`
 *     messages, so the time from sending a window's last message to its ACK is a latency sample,
 *     and the bytes between two ACKs over the time between them a rate (a capacity sample when
 *     those bytes were all written before the first ACK came, a lower bound otherwise);
 *   - stream reports: frames that arrive late with drops mean the video is more than the link
 *     carries, whatever the samples say: the estimate is capped for a while.
 *
 * Bandwidth is the largest capacity sample of the last few seconds. When the link has not been full
 * for that long (the sender keeps under it), the last capacity is kept and grows slowly, so that a
 * sender budgeting by it probes upwards and finds a link that got faster. Before any capacity sample
 * the link is assumed to carry spice-server's default, or what it was seen to carry if more.
 * Sans-IO: the caller passes the clock and the kernel's figures.
 */

/** What the caller read from TCP_INFO just now. */
export interface KernelLinkView {
  /** Bytes the peer has acknowledged since the connection began. */
  acked: number;
  /** Bytes the kernel has not sent yet. */
  unsent: number;
  /** Bytes sent and not yet acknowledged by the peer. */
  inFlight: number;
  /** Segments sent and not yet acknowledged by the peer. */
  inFlightSegments: number;
  /** Bytes sent again since the connection began (loss recovery). */
  retransmitted: number;
  rttMs: number;
  minRttMs: number;
}

/** What the estimate says now (stats, logs, the video controller). */
export interface LinkFigures {
  /** Bytes per second the link carries for this connection. */
  bandwidth: number;
  /** True once a capacity sample exists: the link was seen full, so `bandwidth` is its limit. */
  measured: boolean;
  /** Round trip in ms, undefined before any sample. */
  rttMs: number | undefined;
  /** The latest SPICE ACK latency (send of a window's last message to its ACK), ms. */
  ackLatencyMs: number | undefined;
  /**
   * The least round trip seen, ms (the kernel's min_rtt, else the least ACK latency): the path's
   * own delay without the queues and the load on either end, undefined before any sample.
   */
  minRttMs: number | undefined;
}

/** Assumed before any capacity sample: spice-server's own default (10 Mbit/s). */
export const DEFAULT_BANDWIDTH = 10e6 / 8;
/** Samples older than this leave the max filter (a link that got slower shows within this time). */
const WINDOW_MS = 4000;
/** Samples within one bucket share a slot of the max filter. */
const BUCKET_MS = 250;
/** Busy time gathered into one capacity sample. */
const MIN_BUSY_MS = 100;
/** Acknowledged bytes gathered into one lower-bound sample, over at least this long. */
const FLOOR_MS = 1000;
/**
 * Bytes in flight the peer has acknowledged nothing of for this long are taken for lost, not
 * queued: TCP recovers a lost tail when new data brings SACKs (or its timer fires, which a shaper
 * still holding the originals can delay for many seconds), so a sender waiting for them to drain
 * could wait for ever.
 */
const STALLED_MS = 400;
/** Two ACKs closer than this carry no usable rate (they came in one segment). */
const MIN_ACK_GAP_MS = 5;
/** A late-frames report caps the bandwidth at this fraction of the estimate, for CAP_MS. */
const LATE_CAP = 0.75;
const CAP_MS = 3000;
/** A kept capacity grows this fraction per second once its samples aged out, up to PROBE_MAX times. */
const PROBE_PER_S = 0.1;
const PROBE_MAX = 4;
/**
 * How long a growing kept capacity's answer is reused: with hundreds of viewers most links are
 * sampled seldom and sit in that state, and it is asked for every message to each of them.
 */
const GROWING_MEMO_MS = 1;

/**
 * Whether a reading finds the link holding the sender back: bytes the kernel has not sent yet, or
 * more than one segment unacknowledged. One segment alone is what a receiver's delayed ACK holds
 * (it acknowledges every second full segment at once and a lone one up to 40 ms later), whatever
 * the link: on loopback, after every small write, so an app-limited sender's own rate was taken
 * for the capacity and every loopback viewer was measured under the lossy threshold.
 */
function full(view: KernelLinkView): boolean {
  return view.unsent > 0 || view.inFlightSegments > 1;
}

/** The previous kernel reading, as the next one needs it. */
interface PrevView {
  at: number;
  acked: number;
  retransmitted: number;
  full: boolean;
  /** The interval that ended with this reading was busy (full at both ends). */
  busy: boolean;
}

/** The largest value seen in the last WINDOW_MS, kept in BUCKET_MS slots. */
class WindowedMax {
  private buckets: { at: number; value: number }[] = [];
  /**
   * The median as last computed, until a bucket changes: it is asked for every message sent (the
   * fluid model drains at the bandwidth), and sorting the slots each time was a per-message,
   * per-viewer cost that showed in profiles of hundreds of viewers.
   */
  private median: number | undefined;
  private stale = true;

  add(at: number, value: number): void {
    const last = this.buckets[this.buckets.length - 1];
    if (last && at - last.at < BUCKET_MS) {
      if (value > last.value) {
        last.value = value;
        this.stale = true;
      }
    } else {
      this.buckets.push({ at, value });
      this.stale = true;
    }
    this.expire(at);
  }

  private expire(now: number): void {
    while (this.buckets.length > 0 && now - this.buckets[0]!.at > WINDOW_MS) {
      this.buckets.shift();
      this.stale = true;
    }
  }

  /** When the oldest slot leaves the window (the median may change then without an add), or Infinity. */
  get expiresAt(): number {
    const first = this.buckets[0];
    return first ? first.at + WINDOW_MS : Infinity;
  }

  /**
   * The median of the slots' maxima: a link's rate is what most slots saw. A plain maximum locked
   * onto the odd spike (a shaper's burst, a filled hole acknowledging much at once) and took a
   * 2 Mbit/s link for 20: the video's budget then never came down.
   */
  max(now: number): number | undefined {
    this.expire(now);
    if (!this.stale) return this.median;
    this.stale = false;
    if (this.buckets.length === 0) this.median = undefined;
    else {
      const values = this.buckets.map((b) => b.value).sort((a, b) => a - b);
      this.median = values[Math.floor(values.length / 2)];
    }
    return this.median;
  }
}

/** A window boundary: the window's last message, written at `at` with `bytes` written in all. */
interface Boundary {
  bytes: number;
  at: number;
}

/** Bytes and milliseconds gathered towards one sample. */
interface Tally {
  bytes: number;
  ms: number;
}

export class LinkEstimate {
  private readonly capacity = new WindowedMax();
  private readonly floor = new WindowedMax();
  /** The last capacity seen, and when: kept (and grown) once its samples aged out. */
  private lastCapacity: { value: number; at: number } | undefined;
  private kernelRttMs: number | undefined;
  private kernelMinRttMs: number | undefined;
  private ackLatency: number | undefined;
  private minAckLatency: number | undefined;
  private cap: { value: number; until: number } | undefined;
  /**
   * The bandwidth as last computed, and until when it holds (exclusive) unless a sample or a report
   * comes: it is asked for every message and every image sent to every viewer (the fluid model,
   * the lossy choice, the send allowance), and with hundreds of viewers recomputing it (two
   * windowed filters, each expired first) was the largest per-viewer cost after the writes.
   */
  private memo: { value: number; from: number; until: number } | undefined;
  // Kernel readings: the previous one, whether the interval before it was busy, and the tallies.
  private prevView: PrevView | undefined;
  /** The busy period under way: its opening interval's length and the bytes acknowledged after it. */
  private readonly period = { openingMs: 0, bytes: 0, busyIntervals: 0 };
  /** When the peer last acknowledged anything (or nothing was in flight). */
  private progressAt = 0;
  private busyTally: Tally = { bytes: 0, ms: 0 };
  private carried: Tally = { bytes: 0, ms: 0 };
  // SPICE ACK window accounting, counted from the SET_ACK that started it.
  private window = 0;
  private sentMessages = 0;
  private sentBytes = 0;
  private boundaries: Boundary[] = [];
  private lastAck: { at: number; bytes: number } | undefined;
  // The fluid queue used when the kernel's counters are unavailable.
  private fluid = 0;
  private fluidAt = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** SET_ACK with this window has just been sent: the client counts messages from here. */
  ackReset(window: number): void {
    this.window = window;
    this.sentMessages = 0;
    this.boundaries = [];
    this.lastAck = undefined;
  }

  /**
   * Messages of these sizes (headers included) were written for this connection just now, in this
   * order: one flush's, with one reading of the clock. A viewer is sent some 150 messages a second,
   * and with hundreds of viewers a clock reading and a drain of the fluid model per message showed.
   */
  messagesSent(sizes: readonly number[]): void {
    if (sizes.length === 0) return;
    const now = this.now();
    this.drainFluid(now);
    for (const bytes of sizes) {
      this.fluid += bytes;
      this.sentBytes += bytes;
      if (this.window === 0) continue;
      this.sentMessages++;
      if (this.sentMessages % this.window === 0) this.boundaries.push({ bytes: this.sentBytes, at: now });
    }
  }

  /** The client acknowledged the next window of messages (an ACK of the current generation). */
  acked(): void {
    const b = this.boundaries.shift();
    if (!b) return;
    const now = this.now();
    this.ackLatency = now - b.at;
    this.minAckLatency = Math.min(this.minAckLatency ?? Infinity, this.ackLatency);
    const prev = this.lastAck;
    this.lastAck = { at: now, bytes: b.bytes };
    // The kernel's counters, where there are any, measure the same link more finely.
    if (!prev || this.prevView || now - prev.at < MIN_ACK_GAP_MS) return;
    const rate = ((b.bytes - prev.bytes) * 1000) / (now - prev.at);
    // Written after the previous ACK came: the link may have idled in between, a lower bound only.
    this.sample(rate, b.at > prev.at, now);
  }

  /** The kernel's figures, read by the caller just now. */
  kernel(view: KernelLinkView): void {
    const now = this.now();
    if (view.rttMs > 0) this.kernelRttMs = view.rttMs;
    if (view.minRttMs > 0) this.kernelMinRttMs = view.minRttMs;
    const prev = this.prevView;
    let busy = false;
    if (!prev || view.acked > prev.acked || view.inFlight === 0) this.progressAt = now;
    if (prev && now > prev.at) {
      const dt = now - prev.at;
      const bytes = Math.max(0, view.acked - prev.acked);
      busy = this.busyInterval(prev, view, bytes, dt, now);
      this.add(this.carried, bytes, dt, FLOOR_MS, (rate) => this.sample(rate, true, now));
    }
    this.prevView = { at: now, acked: view.acked, retransmitted: view.retransmitted, full: full(view), busy };
  }

  /**
   * The interval since `prev` towards a capacity sample: whether it was busy (full at both ends).
   * Busy after busy counts: past the burst a shaper lets through when a busy period starts (the
   * period's opening interval is left out). So does the interval that ends a busy period: the queue
   * emptied, and the bytes acknowledged meanwhile went while the link was busy but for the idle tail
   * after them (at most this interval, so the sample errs low). When those are all the period's
   * bytes (its ACKs came in one lump as it drained), its opening interval's time counts too: the
   * burst, if any, is inside the lump whatever is left out. Without this a link whose ACKs queue
   * behind its data (a shaper on a shared queue, a slow uplink) gave no sample at all: every ACK
   * of a frame came as the frame's queue emptied, the busy intervals before carried none, and the
   * estimate kept an early reading and grew it (a 2 Mbit/s link taken for 7 while a stream's
   * frames, sized for that, queued in the shaper).
   */
  private busyInterval(prev: PrevView, view: KernelLinkView, bytes: number, dt: number, now: number): boolean {
    const period = this.period;
    // Loss recovery is no measure: a filled hole acknowledges everything behind it at once.
    if (view.retransmitted !== prev.retransmitted) {
      this.busyTally = { bytes: 0, ms: 0 };
      period.openingMs = 0;
      return false;
    }
    const busy = prev.full && full(view);
    if (busy && !prev.busy) {
      period.openingMs = dt;
      period.bytes = 0;
      period.busyIntervals = 0;
    } else if (busy) {
      period.bytes += bytes;
      period.busyIntervals++;
      this.addBusy(bytes, dt, now);
    } else if (prev.busy && period.bytes === 0 && period.busyIntervals > 0) {
      // Only where the ACKs came in one lump after busy readings that saw none: a short burst (one
      // opening interval, as a loopback viewer's frame is) would count its idle tail as link time
      // and take a LAN for a thin link; where ACKs flowed, the busy intervals measured already.
      this.addBusy(bytes, dt + period.openingMs, now);
    }
    return busy;
  }

  /**
   * Busy time and the bytes acknowledged in it, a capacity sample once it holds MIN_BUSY_MS and ends
   * on an interval with ACKs: where they come in lumps, the busy intervals between lumps carry none,
   * and a sample cut among them would count a lump's bytes over part of the time they took. Busy
   * time without an ACK for STALLED_MS is a stall (loss, a peer that stopped reading), not a rate:
   * it is dropped.
   */
  private addBusy(bytes: number, ms: number, now: number): void {
    const t = this.busyTally;
    t.bytes += bytes;
    t.ms += ms;
    if (t.bytes === 0 && t.ms > STALLED_MS) t.ms = 0;
    if (t.ms < MIN_BUSY_MS || bytes === 0) return;
    this.sample((t.bytes * 1000) / t.ms, false, now);
    this.busyTally = { bytes: 0, ms: 0 };
  }

  private add(t: Tally, bytes: number, ms: number, enough: number, done: (rate: number) => void): void {
    t.bytes += bytes;
    t.ms += ms;
    if (t.ms < enough) return;
    done((t.bytes * 1000) / t.ms);
    t.bytes = 0;
    t.ms = 0;
  }

  /**
   * A stream report: frames arriving late (negative delay) with drops mean the frames are more than
   * the link carries, even if no sample showed it yet: the estimate is capped below its value.
   */
  streamReport(lastFrameDelayMs: number, drops: number): void {
    if (lastFrameDelayMs >= 0 || drops === 0) return;
    const now = this.now();
    this.cap = { value: LATE_CAP * this.bandwidthAt(now), until: now + CAP_MS };
    this.memo = undefined;
  }

  private sample(rate: number, lowerBound: boolean, now: number): void {
    if (!(rate > 0) || !Number.isFinite(rate)) return;
    this.memo = undefined;
    if (lowerBound) this.floor.add(now, rate);
    else {
      this.capacity.add(now, rate);
      this.lastCapacity = { value: this.capacity.max(now)!, at: now };
    }
  }

  private bandwidthAt(now: number): number {
    const m = this.memo;
    if (m && now >= m.from && now < m.until) return m.value;
    const value = this.computeBandwidth(now);
    this.memo = { value, from: now, until: this.unchangedUntil(now) };
    return value;
  }

  /**
   * Until when (exclusive) computeBandwidth's answer cannot change without a sample or a report:
   * the next slot to leave either window, the end of a cap. A kept capacity grows with time (no
   * capacity sample in the window): its answer is kept for GROWING_MEMO_MS (0.01 % of growth).
   */
  private unchangedUntil(now: number): number {
    if (this.capacity.expiresAt === Infinity && this.lastCapacity) return now + GROWING_MEMO_MS;
    let until = Math.min(this.capacity.expiresAt, this.floor.expiresAt);
    if (this.cap && now < this.cap.until) until = Math.min(until, this.cap.until);
    return until;
  }

  private computeBandwidth(now: number): number {
    const floor = this.floor.max(now) ?? 0;
    const c = this.capacity.max(now);
    let bw: number;
    if (c !== undefined) bw = Math.max(c, floor);
    else if (this.lastCapacity) {
      const idleS = Math.max(0, now - this.lastCapacity.at - WINDOW_MS) / 1000;
      bw = Math.max(floor, this.lastCapacity.value * Math.min(PROBE_MAX, 1 + PROBE_PER_S * idleS));
    } else bw = Math.max(floor, DEFAULT_BANDWIDTH);
    if (this.cap && now < this.cap.until) return Math.min(bw, this.cap.value);
    return bw;
  }

  get bandwidth(): number {
    return this.bandwidthAt(this.now());
  }

  /** True once the link was seen full: the bandwidth is its measured limit, not an assumption. */
  get measured(): boolean {
    return this.lastCapacity !== undefined;
  }

  get rttMs(): number | undefined {
    return this.kernelRttMs ?? this.minAckLatency;
  }

  figures(): LinkFigures {
    return {
      bandwidth: this.bandwidth,
      measured: this.measured,
      rttMs: this.rttMs,
      ackLatencyMs: this.ackLatency,
      minRttMs: this.kernelMinRttMs ?? this.minAckLatency,
    };
  }

  private drainFluid(now: number): void {
    const bw = this.bandwidthAt(now);
    this.fluid = Math.max(0, this.fluid - ((now - this.fluidAt) * bw) / 1000);
    this.fluidAt = now;
  }

  /**
   * Bytes waiting to leave beyond what the path itself holds: ours (`buffered`, in user space), the
   * kernel's unsent ones, and those in flight beyond one bandwidth-delay product (they sit in a
   * queue on the way, a router's or a shaper's). Without the kernel's view, the fluid model.
   */
  waitingBytes(buffered: number, view: KernelLinkView | undefined): number {
    const now = this.now();
    if (!view) {
      this.drainFluid(now);
      return Math.max(buffered, this.fluid);
    }
    if (now - this.progressAt > STALLED_MS) return buffered + view.unsent;
    // One segment in flight and nothing unsent is what a receiver's delayed ACK holds (see `full`):
    // it has arrived. Counted as waiting, every loopback viewer looked busy after each flush, and the
    // link sampler read all of them continuously (10,000 readings a second with 500 viewers).
    if (!full(view)) return buffered;
    const pathBytes = (this.bandwidthAt(now) * (this.kernelMinRttMs ?? 0)) / 1000;
    return buffered + view.unsent + Math.max(0, view.inFlight - pathBytes);
  }

  /** How long `bytes` take to leave at the estimated bandwidth, ms. */
  drainMs(bytes: number): number {
    return (bytes * 1000) / this.bandwidth;
  }
}
