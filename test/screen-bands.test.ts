import { afterEach, describe, expect, it, vi } from 'vitest';
import { SharedImage } from '../src/channels/display-items.js';
import { BAND_IDLE_MS, BAND_ROWS, MAX_LOG_DRAWS, ScreenBands } from '../src/channels/screen-bands.js';
import { Surface } from '../src/display/surface.js';
import { gradient } from './helpers/pattern-source.js';

function screen(): Surface {
  const s = new Surface(0, 128, 3 * BAND_ROWS);
  s.putImage(s.bounds, gradient(128, 3 * BAND_ROWS, 1));
  return s;
}

describe('ScreenBands', () => {
  afterEach(() => vi.useRealTimers());

  it('logs draws after the bands and covers what later draws hide', () => {
    const s = screen();
    const bands = new ScreenBands();
    expect(bands.take(s).bands).toHaveLength(3);
    const small = { top: 10, left: 10, bottom: 20, right: 20 };
    bands.record({ kind: 'copy', rect: small, shared: new SharedImage(gradient(10, 10, 2), { x: 0, y: 0 }, small) });
    bands.record({ kind: 'fill', rect: { top: 0, left: 0, bottom: 30, right: 30 }, color: 1 });
    const frame = bands.take(s);
    expect(frame.draws.map((d) => d.kind)).toEqual(['fill']);
    expect(bands.captured).toBe(3);
  });

  it('past its bound drops the log and captures again only the bands that changed', () => {
    const s = screen();
    const bands = new ScreenBands();
    bands.take(s);
    for (let i = 0; i <= MAX_LOG_DRAWS; i++) bands.record({ kind: 'copyBits', rect: { top: BAND_ROWS + 1, left: 1, bottom: BAND_ROWS + 2, right: 2 }, src: { x: 0, y: BAND_ROWS } });
    const frame = bands.take(s);
    expect(frame.draws).toHaveLength(0);
    expect(bands.captured).toBe(4);
  });

  it('holds nothing once nobody joined for a while', () => {
    vi.useFakeTimers();
    const s = screen();
    const bands = new ScreenBands();
    bands.take(s);
    vi.advanceTimersByTime(BAND_IDLE_MS + 1);
    // Nothing logged while idle, and the next joiner captures afresh.
    bands.record({ kind: 'fill', rect: { top: 0, left: 0, bottom: 1, right: 1 }, color: 0 });
    expect(bands.take(s).draws).toHaveLength(0);
    expect(bands.captured).toBe(6);
  });
});
