import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LinkSampler, SAMPLE_MS } from '../src/channel-core/link-sampler.js';

/*
 * Issue 15, hundreds of viewers: the display channel reads its viewers' kernel counters (TCP_INFO)
 * for their link estimates from one timer and within a budget of reads a second, instead of each
 * viewer reading every 20 ms on a timer of its own.
 */

/** A client whose bytes wait for `waitingReads` more readings; counts the reads it got. */
class FakeClient {
  reads = 0;
  constructor(public waitingReads: number) {}
  sampleLink(): boolean {
    this.reads++;
    return this.reads < this.waitingReads;
  }
}

describe('link sampler', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'performance'] }));
  afterEach(() => vi.useRealTimers());

  it('reads a client at once, then every tick while its bytes wait, then lets it go', () => {
    const sampler = new LinkSampler(1000);
    const c = new FakeClient(3);
    sampler.watch(c);
    expect(c.reads).toBe(1);
    sampler.watch(c); // already watched: no second read
    expect(c.reads).toBe(1);
    vi.advanceTimersByTime(SAMPLE_MS);
    expect(c.reads).toBe(2);
    vi.advanceTimersByTime(SAMPLE_MS);
    expect(c.reads).toBe(3); // nothing waits any more
    expect(sampler.size).toBe(0);
    vi.advanceTimersByTime(10 * SAMPLE_MS);
    expect(c.reads).toBe(3);
  });

  it('a client with nothing waiting costs one read and no timer', () => {
    const sampler = new LinkSampler(1000);
    const c = new FakeClient(1);
    sampler.watch(c);
    expect(c.reads).toBe(1);
    expect(sampler.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('few clients are each read every tick; many share the budget in turn', () => {
    const sampler = new LinkSampler(1000); // 20 reads a tick
    const few = Array.from({ length: 10 }, () => new FakeClient(Infinity));
    for (const c of few) sampler.watch(c);
    vi.advanceTimersByTime(5 * SAMPLE_MS);
    for (const c of few) expect(c.reads).toBe(6);

    const busy = new LinkSampler(1000);
    const many = Array.from({ length: 100 }, () => new FakeClient(Infinity));
    for (const c of many) busy.watch(c);
    expect(busy.readings).toBe(20); // the first 20 at once, the others wait their turn
    vi.advanceTimersByTime(1000);
    // About the budget over the second, and every client read in turn (none starved).
    expect(busy.readings).toBeGreaterThanOrEqual(1000);
    expect(busy.readings).toBeLessThanOrEqual(1000 + 20);
    for (const c of many) expect(c.reads).toBeGreaterThanOrEqual(9);
  });

  it('forgets a closed client', () => {
    const sampler = new LinkSampler(1000);
    const c = new FakeClient(Infinity);
    sampler.watch(c);
    sampler.forget(c);
    vi.advanceTimersByTime(5 * SAMPLE_MS);
    expect(c.reads).toBe(1);
  });
});
