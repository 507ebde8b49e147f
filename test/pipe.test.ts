import { describe, expect, it } from 'vitest';
import { Pipe, type PipeItem } from '../src/channel-core/pipe.js';
import { Watch } from './helpers/gc.js';

interface Tagged extends PipeItem {
  tag: string;
}

function item(tag: string, weight = 10): Tagged {
  return { tag, weight, marshal: () => ({ type: 0, parts: [] }) };
}

function drain(p: Pipe<Tagged>): string[] {
  const out: string[] = [];
  for (let it = p.shift(); it; it = p.shift()) out.push(it.tag);
  return out;
}

describe('Pipe', () => {
  it('background items (stream frames) leave after everything queued, even what came later', () => {
    const p = new Pipe<Tagged>();
    p.pushBackground(item('frame1', 100));
    p.push(item('glyph'));
    p.pushBackground(item('frame2', 100));
    p.pushUrgent(item('u'));
    expect(p.length).toBe(4);
    expect(p.shift()!.tag).toBe('u');
    expect(p.shift()!.tag).toBe('glyph');
    p.push(item('cursor'));
    expect(drain(p)).toEqual(['cursor', 'frame1', 'frame2']);
    // extract takes from the background lane too (a frame replaced by a newer one).
    p.pushBackground(item('frame3', 100));
    p.push(item('draw'));
    expect(p.extract((it) => (it as Tagged).tag === 'frame3').length).toBe(1);
    expect(p.weight).toBe(10);
    expect(drain(p)).toEqual(['draw']);
  });

  it('urgent items leave first, then the rest in order; weight follows what is queued', () => {
    const p = new Pipe<Tagged>();
    p.push(item('a'));
    p.push(item('b', 5));
    p.pushUrgent(item('u', 1));
    expect(p.length).toBe(3);
    expect(p.weight).toBe(16);
    expect(drain(p)).toEqual(['u', 'a', 'b']);
    expect(p.weight).toBe(0);
  });

  it('extractFirst takes only the oldest match (a lagging viewer loses one audio frame, not all)', () => {
    const p = new Pipe<Tagged>();
    for (const t of ['x1', 'audio1', 'x2', 'audio2', 'audio3']) p.push(item(t));
    p.shift(); // x1 has left: the search starts at the head
    expect(p.extractFirst((it) => it.tag.startsWith('audio'))?.tag).toBe('audio1');
    expect(p.length).toBe(3);
    expect(p.weight).toBe(30);
    expect(p.extractFirst((it) => it.tag === 'none')).toBeUndefined();
    expect(drain(p)).toEqual(['x2', 'audio2', 'audio3']);
  });

  it('extract takes every match and keeps the order of the rest', () => {
    const p = new Pipe<Tagged>();
    for (const t of ['d1', 'm', 'd2', 'n']) p.push(item(t));
    expect(p.extract((it) => it.tag.startsWith('d')).map((it) => it.tag)).toEqual(['d1', 'd2']);
    expect(p.weight).toBe(20);
    expect(drain(p)).toEqual(['m', 'n']);
  });
});

describe('Pipe releases what has left', () => {
  /** An item whose payload (a 64 KiB buffer) is watched; the item itself holds it. */
  function heavy(watch: Watch, tag: string): Tagged & { payload: Buffer } {
    const payload = watch.add(tag, Buffer.alloc(1 << 16));
    return { ...item(tag, payload.length), payload };
  }

  it('items shifted from either lane are collectable at once', async () => {
    const watch = new Watch();
    const p = new Pipe<Tagged>();
    for (let i = 0; i < 8; i++) p.push(heavy(watch, `n${i}`));
    p.pushUrgent(heavy(watch, 'u'));
    p.push(item('kept')); // the pipe is not empty afterwards: no compaction does the work
    for (let i = 0; i < 9; i++) p.shift();
    expect(p.length).toBe(1);
    expect(await watch.alive()).toEqual([]);
    expect(drain(p)).toEqual(['kept']);
  });

  it('an emptied pipe holds nothing, below and above the compaction threshold', async () => {
    for (const count of [3, 1500]) {
      const watch = new Watch();
      const p = new Pipe<Tagged>();
      for (let i = 0; i < count; i++) p.push(heavy(watch, `n${i}`));
      expect(drain(p)).toHaveLength(count);
      expect(await watch.alive()).toEqual([]);
    }
  });

  it('items taken by extract, extractFirst and dropFromTail are not kept by the pipe', async () => {
    const watch = new Watch();
    const p = new Pipe<Tagged>();
    for (const t of ['sent', 'x1', 'a1', 'x2', 'd1', 'd2']) p.push(heavy(watch, t));
    p.shift();
    p.extract((it) => it.tag === 'x1' || it.tag === 'x2');
    p.extractFirst((it) => it.tag === 'a1');
    expect(p.dropFromTail(() => 'drop', 2)).toBe(2);
    expect(p.length).toBe(0);
    expect(await watch.alive()).toEqual([]);
  });
});
