import { describe, expect, it } from 'vitest';
import { DEFAULT_BANDWIDTH, LinkEstimate, type KernelLinkView } from '../src/channel-core/link-estimate.js';

/* The per-viewer link estimate, driven by a hand-set clock and made-up kernel readings. */

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** A kernel reading: nothing in flight or lost on a fast path unless said otherwise. */
function reading(v: Partial<KernelLinkView>): KernelLinkView {
  return { acked: 0, unsent: 0, inFlight: 0, inFlightSegments: 0, retransmitted: 0, rttMs: 0.1, minRttMs: 0.05, ...v };
}

/**
 * A link of `rate` bytes/s behind a token bucket of `burst` bytes, fed `offered` bytes every
 * `everyMs`, read every 10 ms: what the kernel would show of a shaped link.
 */
function shapedLink(
  e: LinkEstimate,
  c: ReturnType<typeof clock>,
  o: { rate: number; burst: number; offered: number; everyMs: number; ms: number },
): void {
  let acked = 0;
  let waiting = 0;
  let tokens = o.burst;
  let sinceOffer = o.everyMs;
  for (let t = 0; t < o.ms; t += 10) {
    if (sinceOffer >= o.everyMs) {
      waiting += o.offered;
      sinceOffer = 0;
    }
    // Tokens first (a burst at line rate), then the rate.
    tokens = Math.min(o.burst, tokens + (o.rate * 10) / 1000);
    const sent = Math.min(waiting, tokens);
    tokens -= sent;
    waiting -= sent;
    acked += sent;
    c.advance(10);
    sinceOffer += 10;
    const view: KernelLinkView = {
      acked,
      unsent: 0,
      inFlight: waiting,
      inFlightSegments: Math.ceil(waiting / 1448),
      retransmitted: 0,
      rttMs: 1,
      minRttMs: 0.05,
    };
    e.kernel(view);
  }
}

describe('the link estimate', () => {
  it('assumes 10 Mbit/s and knows nothing before any sample', () => {
    const e = new LinkEstimate(clock().now);
    expect(e.bandwidth).toBe(DEFAULT_BANDWIDTH);
    expect(e.measured).toBe(false);
    expect(e.rttMs).toBeUndefined();
  });

  it('finds a 2 Mbit/s shaped link that is kept full, not the burst its shaper lets through', () => {
    const c = clock();
    const e = new LinkEstimate(c.now);
    // 40 kB every 100 ms: 400 kB/s offered to a 250 kB/s link with a 32 kB bucket.
    shapedLink(e, c, { rate: 250_000, burst: 32_000, offered: 40_000, everyMs: 100, ms: 3000 });
    expect(e.measured).toBe(true);
    expect(e.bandwidth).toBeGreaterThan(200_000);
    expect(e.bandwidth).toBeLessThan(320_000);
  });

  it('learns nothing of the capacity from a link that is never full, only a lower bound', () => {
    const c = clock();
    const e = new LinkEstimate(c.now);
    // 10 kB every 100 ms over a 1.25 MB/s link: every reading finds the queue empty.
    shapedLink(e, c, { rate: 1_250_000, burst: 32_000, offered: 10_000, everyMs: 100, ms: 3000 });
    expect(e.measured).toBe(false);
    expect(e.bandwidth).toBe(DEFAULT_BANDWIDTH);
  });

  it('keeps a measured capacity when the link stops being full, and lets it grow slowly', () => {
    const c = clock();
    const e = new LinkEstimate(c.now);
    shapedLink(e, c, { rate: 250_000, burst: 4000, offered: 40_000, everyMs: 100, ms: 2000 });
    const measured = e.bandwidth;
    c.advance(4000);
    expect(Math.abs(e.bandwidth / measured - 1)).toBeLessThan(0.02);
    c.advance(5000); // five seconds past the window: +50 %
    expect(e.bandwidth).toBeGreaterThan(1.4 * measured);
    expect(e.bandwidth).toBeLessThan(1.6 * measured);
  });

  it('answers as time passes though asked every few ms (the answer is kept only while nothing can change it)', () => {
    const c = clock();
    const e = new LinkEstimate(c.now);
    shapedLink(e, c, { rate: 250_000, burst: 4000, offered: 40_000, everyMs: 100, ms: 2000 });
    const measured = e.bandwidth;
    const seen: number[] = [];
    for (let t = 0; t < 9000; t += 5) {
      c.advance(5);
      seen.push(e.bandwidth);
    }
    // Unchanged while the samples are in the window, then growing with every step past it.
    expect(Math.abs(seen[600]! / measured - 1)).toBeLessThan(0.02);
    expect(seen[1700]!).toBeGreaterThan(seen[1600]!);
    expect(seen[1799]!).toBeGreaterThan(1.4 * measured);
  });

  it('takes a lone segment in flight for a delayed ACK, not a full link (loopback, an app-limited sender)', () => {
    const c = clock();
    const e = new LinkEstimate(c.now);
    // Loopback: a 4 kB write every 10 ms, acknowledged at once but for its last segment, which the
    // receiver's delayed ACK holds until the next write: every reading finds one segment in flight.
    let acked = 0;
    for (let t = 0; t < 300; t++) {
      c.advance(10);
      acked += 4000;
      e.kernel({
        acked,
        unsent: 0,
        inFlight: 4000,
        inFlightSegments: 1,
        retransmitted: 0,
        rttMs: 0.05,
        minRttMs: 0.02,
      });
    }
    // 400 kB/s is what the sender offered, not what loopback carries: no capacity sample.
    expect(e.measured).toBe(false);
    expect(e.bandwidth).toBeGreaterThanOrEqual(DEFAULT_BANDWIDTH);
    // Bytes the kernel could not send yet do show a full link, one segment in flight or not.
    for (let t = 0; t < 50; t++) {
      c.advance(10);
      acked += 4000;
      e.kernel({
        acked,
        unsent: 8000,
        inFlight: 4000,
        inFlightSegments: 1,
        retransmitted: 0,
        rttMs: 0.05,
        minRttMs: 0.02,
      });
    }
    expect(e.measured).toBe(true);
    expect(e.bandwidth).toBeLessThan(500_000);
  });

  it('does not count a lone segment a delayed ACK holds as waiting, so a loopback viewer is not watched', () => {
    const c = clock();
    const e = new LinkEstimate(c.now);
    // Loopback after a flush: its last segment (up to 64 KiB there) waits for the receiver's delayed ACK.
    const lone = reading({ acked: 10_000, inFlight: 4000, inFlightSegments: 1 });
    e.kernel(lone);
    expect(e.waitingBytes(0, lone)).toBe(0);
    expect(e.waitingBytes(300, lone)).toBe(300); // ours, in user space, still wait
    // Two segments in flight, or bytes the kernel has not sent, are a link holding bytes back.
    c.advance(5);
    const two = reading({ acked: 10_000, inFlight: 8000, inFlightSegments: 2 });
    e.kernel(two);
    expect(e.waitingBytes(0, two)).toBeGreaterThan(7000);
    c.advance(5);
    const unsent = reading({ acked: 10_000, unsent: 2000, inFlight: 4000, inFlightSegments: 1 });
    e.kernel(unsent);
    expect(e.waitingBytes(0, unsent)).toBeGreaterThan(5000);
  });

  it('finds a link whose ACKs queue behind its data, each frame acknowledged in one lump as it drains', () => {
    const c = clock();
    const e = new LinkEstimate(c.now);
    // A 16 kB frame every 80 ms into a 250 kB/s shaper that queues the receiver's ACKs behind the
    // data (tc tbf on lo, a slow uplink): nothing is acknowledged until the frame's last byte is
    // through, 64 ms on, then all of it at once and nothing is in flight. Read every 5 ms.
    let acked = 0;
    for (let frame = 0; frame < 40; frame++) {
      for (let t = 5; t <= 80; t += 5) {
        c.advance(5);
        const through = t >= 64;
        e.kernel(
          reading({
            acked: acked + (through ? 16_000 : 0),
            inFlight: through ? 0 : 16_000,
            inFlightSegments: through ? 0 : 12,
            rttMs: 60,
          }),
        );
      }
      acked += 16_000;
    }
    expect(e.measured).toBe(true);
    expect(e.bandwidth).toBeGreaterThan(200_000);
    expect(e.bandwidth).toBeLessThan(300_000);
  });

  it('does not take a fast link for a thin one when a burst is acknowledged within one reading', () => {
    const c = clock();
    const e = new LinkEstimate(c.now);
    // A loopback viewer read every 50 ms (the sampler's pace with many viewers): a 30 kB frame is
    // full at one reading and acknowledged by the next, 1 ms after it was sent. Counting the 50 ms
    // interval as busy would read 600 kB/s and send a LAN viewer JPEG.
    let acked = 0;
    const full = (): KernelLinkView => reading({ acked, inFlight: 30_000, inFlightSegments: 21 });
    for (let frame = 0; frame < 40; frame++) {
      e.kernel(full());
      c.advance(1);
      e.kernel(full());
      c.advance(49);
      acked += 30_000;
      e.kernel(reading({ acked }));
      c.advance(50);
    }
    expect(!e.measured || e.bandwidth > 2_500_000).toBe(true);
  });

  it('counts bytes in flight beyond the path as waiting, and drains them at the estimate', () => {
    const c = clock();
    const e = new LinkEstimate(c.now);
    shapedLink(e, c, { rate: 250_000, burst: 4000, offered: 40_000, everyMs: 100, ms: 2000 });
    const view = {
      acked: 1e6,
      unsent: 3000,
      inFlight: 20_000,
      inFlightSegments: 14,
      retransmitted: 0,
      rttMs: 80,
      minRttMs: 0.05,
    };
    e.kernel(view);
    const waiting = e.waitingBytes(1000, view);
    expect(waiting).toBeGreaterThan(23_900);
    expect(e.drainMs(waiting)).toBeGreaterThan(70);
    expect(e.drainMs(waiting)).toBeLessThan(120);
    expect(e.rttMs).toBe(80);
    // Nothing acknowledged for half a second: the bytes in flight are lost, not queued (TCP needs
    // new data to recover them), and only the unsent ones wait.
    c.advance(500);
    e.kernel(view);
    expect(e.waitingBytes(1000, view)).toBe(4000);
  });

  it('takes no capacity sample from loss recovery, when a filled hole acknowledges much at once', () => {
    const c = clock();
    const e = new LinkEstimate(c.now);
    let acked = 0;
    for (let t = 0; t < 30; t++) {
      c.advance(10);
      acked += t === 20 ? 400_000 : 100;
      e.kernel({
        acked,
        unsent: 0,
        inFlight: 500_000,
        inFlightSegments: 346,
        retransmitted: t >= 20 ? 1448 : 0,
        rttMs: 300,
        minRttMs: 0.05,
      });
    }
    expect(e.bandwidth).toBeLessThan(50_000 + 1);
  });

  it('measures a slow client by ACK timing when the kernel says nothing', () => {
    const c = clock();
    const e = new LinkEstimate(c.now);
    e.ackReset(4);
    // Messages of 1000 bytes written at once, a window of four ACKed every 40 ms: 100 kB/s.
    for (let i = 0; i < 40; i++) e.messagesSent([1000]);
    for (let k = 0; k < 10; k++) {
      c.advance(40);
      e.acked();
    }
    expect(e.measured).toBe(true);
    expect(e.bandwidth).toBeCloseTo(100_000, -3);
    // The first window's ACK came 40 ms after it was written; the last one 400 ms after.
    expect(e.rttMs).toBe(40);
    expect(e.figures().ackLatencyMs).toBe(400);
    // Without the kernel's counters the bytes written drain as a fluid at the estimate.
    e.messagesSent([10_000]);
    expect(e.waitingBytes(0, undefined)).toBe(10_000);
    c.advance(50);
    expect(e.waitingBytes(0, undefined)).toBeCloseTo(5000, -2);
  });

  it('counts a flush told at once as its messages told one by one', () => {
    const oneByOne = clock();
    const batched = clock();
    const a = new LinkEstimate(oneByOne.now);
    const b = new LinkEstimate(batched.now);
    a.ackReset(4);
    b.ackReset(4);
    // Flushes of 3 and 7 messages: window boundaries fall inside them.
    for (const sizes of [
      [300, 500, 700],
      [100, 200, 300, 400, 500, 600, 700],
      [900, 800, 700],
    ]) {
      for (const n of sizes) a.messagesSent([n]);
      b.messagesSent(sizes);
      for (const c of [oneByOne, batched]) c.advance(30);
    }
    for (let k = 0; k < 3; k++) {
      for (const c of [oneByOne, batched]) c.advance(25);
      a.acked();
      b.acked();
    }
    expect(b.figures()).toEqual(a.figures());
    expect(b.waitingBytes(0, undefined)).toBe(a.waitingBytes(0, undefined));
    expect(a.figures().ackLatencyMs).toBeDefined();
  });

  it('takes ACKs of windows written after the previous ACK as lower bounds only', () => {
    const c = clock();
    const e = new LinkEstimate(c.now);
    e.ackReset(2);
    for (let k = 0; k < 10; k++) {
      e.messagesSent([100]);
      e.messagesSent([100]);
      c.advance(20);
      e.acked();
      c.advance(180);
    }
    expect(e.measured).toBe(false);
  });

  it('caps the estimate when a stream report says frames came late with drops', () => {
    const c = clock();
    const e = new LinkEstimate(c.now);
    shapedLink(e, c, { rate: 250_000, burst: 4000, offered: 40_000, everyMs: 100, ms: 2000 });
    const before = e.bandwidth;
    e.streamReport(20, 3); // on time: nothing
    expect(e.bandwidth).toBe(before);
    e.streamReport(-40, 3);
    expect(e.bandwidth).toBeCloseTo(0.75 * before, -3);
    c.advance(3500);
    expect(e.bandwidth).toBeGreaterThan(0.9 * before);
  });
});
