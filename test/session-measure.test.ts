import { describe, expect, it } from 'vitest';
import { xTimeToMono, type Drawn } from '../bench/session-desktop.js';
import { glyphTime, slotRate } from '../bench/session-measure.js';
import { verdicts, type MinuteRow } from '../bench/session-verdicts.js';

/* The soak's arithmetic: X server times, update rates, key-to-glyph matching and the verdicts. */

function at(atMs: number, left = 0, top = 0, side = 10): Drawn {
  return { atMs, rect: { left, top, right: left + side, bottom: top + side } };
}

describe('session soak figures', () => {
  it('maps 32-bit X server milliseconds onto the monotonic clock, across a wrap and slightly ahead', () => {
    expect(xTimeToMono(1000, 1012.7)).toBe(1000);
    expect(xTimeToMono(2 ** 32 - 5, 2 ** 32 + 3)).toBe(2 ** 32 - 5);
    expect(xTimeToMono(1, 2 ** 32 + 10)).toBe(2 ** 32 + 1);
    expect(xTimeToMono(1001, 1000)).toBe(1001);
  });

  it('counts updates in 1/60 s slots: a burst is one update, faster than 60/s counts as 60/s', () => {
    const burst = [at(0), at(1), at(2), at(3)];
    expect(slotRate(burst, 0, 1000)).toBe(1);
    const fast = Array.from({ length: 240 }, (_, i) => at(i * (1000 / 240)));
    expect(slotRate(fast, 0, 1000)).toBe(60);
    const thirty = Array.from({ length: 30 }, (_, i) => at(i * (1000 / 30) + 1));
    expect(slotRate(thirty, 0, 1000)).toBe(30);
    expect(slotRate(thirty, 500, 1000)).toBe(30);
  });

  it('key-to-glyph: the first drawing in the terminal after the key, and the first viewer draw over it', () => {
    const terminal = { left: 100, top: 100, right: 400, bottom: 300 };
    const desktop = [at(5, 0, 0), at(12, 150, 150), at(14, 200, 200)];
    const viewer = [at(13, 0, 0), at(20, 300, 300), at(31, 145, 145)];
    expect(glyphTime(10, terminal, desktop, viewer)).toEqual({ desktopMs: 2, viewerMs: 21 });
    expect(glyphTime(20, terminal, desktop, viewer)).toBeUndefined();
  });

  it('judges RSS on every sample after the first minute', () => {
    const row = (minute: number, rssMb: number, rssMinMb: number, rssMaxMb: number): MinuteRow => ({
      minute,
      rssMb,
      rssMinMb,
      rssMaxMb,
      heapMb: 10,
      cpuPct: 5,
      gcFull: 1,
      gcFullPeakPerS: 1,
      gcMs: 5,
      desktopRate: 30,
      desktopPaintRate: 31,
      viewerRate: 29,
      keyDesktopMs: 10,
      keyViewerMs: 12,
      keyExtraMs: 2,
      keySamples: 5,
      keysSent: 5,
      serverBytesPerS: 1,
      viewerBytesPerS: 1,
      drags: 2,
      dragsMoved: 2,
    });
    // Minute 1's own climb (50 -> 400 MB) does not count; later ones do.
    const flat = verdicts([row(1, 400, 50, 400), row(2, 420, 395, 430), row(3, 410, 405, 440)]);
    expect(flat.map((v) => v.pass)).toEqual([true, true, true, true]);
    const growing = verdicts([row(1, 400, 50, 400), row(2, 430, 400, 430), row(3, 460, 430, 460)]);
    expect(growing[0]!.pass).toBe(false);
    expect(growing[0]!.measured).toContain('spread 60.0 MB');
  });
});
