import { describe, expect, it } from 'vitest';
import { StreamReports } from '../src/client/stream-reports.js';
import { MmClock } from '../src/client/mm-clock.js';

/* The headless client's stream reports follow spice-gtk's rules (window, timeout, drop runs). */

function reporter(): { r: StreamReports; clock: { ms: number } } {
  const clock = { ms: 1000 };
  const r = new StreamReports(() => clock.ms);
  r.activate({ streamId: 3, uniqueId: 77, maxWindow: 5, timeoutMs: 1000 });
  return { r, clock };
}

describe('stream reports as spice-gtk sends them', () => {
  it('reports after the window of frames, with the frames, drops and last delay', () => {
    const { r, clock } = reporter();
    const latencies = [40, -5, 30, 20, 10];
    const out = latencies.map((lat, i) => {
      clock.ms += 40;
      return r.frame(3, 5000 + 40 * i, lat);
    });
    expect(out.slice(0, 4)).toEqual([undefined, undefined, undefined, undefined]);
    expect(out[4]).toEqual({
      streamId: 3,
      uniqueId: 77,
      startFrameMmTime: 5000,
      endFrameMmTime: 5160,
      numFrames: 5,
      numDrops: 1,
      lastFrameDelay: 10,
      audioDelay: 0xffffffff,
    });
    // The counters start again: the next report covers the next frames only.
    clock.ms += 40;
    expect(r.frame(3, 5200, 5)).toBeUndefined();
  });

  it('reports when the window time runs out, and at once after three late frames in a row', () => {
    const { r, clock } = reporter();
    expect(r.frame(3, 100, 10)).toBeUndefined();
    clock.ms += 1000;
    expect(r.frame(3, 1100, 10)?.numFrames).toBe(2);
    expect(r.frame(3, 1140, -1)).toBeUndefined();
    expect(r.frame(3, 1180, -2)).toBeUndefined();
    const late = r.frame(3, 1220, -3);
    expect(late).toMatchObject({ numFrames: 3, numDrops: 3, lastFrameDelay: -3 });
  });

  it('reports nothing for a stream not activated or ended', () => {
    const { r } = reporter();
    expect(r.frame(4, 100, 10)).toBeUndefined();
    r.end(3);
    for (let i = 0; i < 10; i++) expect(r.frame(3, 100 + i, 10)).toBeUndefined();
  });

  it('runs the multimedia clock on from the last time the server set it', () => {
    const now = { ms: 50 };
    const c = new MmClock(() => now.ms);
    expect(c.time()).toBeUndefined();
    c.set(0xffffff00);
    now.ms += 0x200;
    expect(c.time()).toBe(0x100);
    c.set(7);
    expect(c.time()).toBe(7);
  });
});
