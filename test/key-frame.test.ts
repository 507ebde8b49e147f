import { afterEach, describe, expect, it, vi } from 'vitest';
import { copyBitsItem, fillItem, SharedImage } from '../src/channels/display-items.js';
import { KEY_FRAME_IDLE_MS, KeyFrame, MAX_LOG_DRAWS } from '../src/channels/key-frame.js';
import { Surface } from '../src/display/surface.js';
import { gradient } from './helpers/pattern-source.js';

function screen(): Surface {
  const s = new Surface(0, 128, 96);
  s.putImage(s.bounds, gradient(128, 96, 1));
  return s;
}

describe('KeyFrame', () => {
  afterEach(() => vi.useRealTimers());

  it('logs draws after the key frame and drops those that later draws hide', () => {
    const s = screen();
    const frames = new KeyFrame();
    const first = frames.take(s);
    const small = { top: 10, left: 10, bottom: 20, right: 20 };
    frames.record({ kind: 'copy', rect: small, shared: new SharedImage(gradient(10, 10, 2), { x: 0, y: 0 }, small) });
    const cover = { top: 0, left: 0, bottom: 30, right: 30 };
    frames.record({ kind: 'fill', rect: cover, item: fillItem(cover, 1) });
    const next = frames.take(s);
    expect(next.image).toBe(first.image);
    expect(next.draws.map((d) => d.kind)).toEqual(['fill']);
    expect(frames.captured).toBe(1);
  });

  it('past its bound drops the log, and the next joiner gets a new key frame', () => {
    const s = screen();
    const frames = new KeyFrame();
    const first = frames.take(s);
    const rect = { top: 41, left: 1, bottom: 42, right: 2 };
    for (let i = 0; i <= MAX_LOG_DRAWS; i++)
      frames.record({ kind: 'copyBits', rect, src: { x: 0, y: 40 }, item: copyBitsItem(rect, { x: 0, y: 40 }) });
    const next = frames.take(s);
    expect(next.draws).toHaveLength(0);
    expect(next.image).not.toBe(first.image);
    expect(frames.captured).toBe(2);
  });

  it('holds nothing once nobody joined for a while', () => {
    vi.useFakeTimers();
    const s = screen();
    const frames = new KeyFrame();
    const first = frames.take(s);
    vi.advanceTimersByTime(KEY_FRAME_IDLE_MS + 1);
    // Nothing logged while idle, and the next joiner captures afresh.
    const dot = { top: 0, left: 0, bottom: 1, right: 1 };
    frames.record({ kind: 'fill', rect: dot, item: fillItem(dot, 0) });
    const next = frames.take(s);
    expect(next.draws).toHaveLength(0);
    expect(next.image).not.toBe(first.image);
  });
});
