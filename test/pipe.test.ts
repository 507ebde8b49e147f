import { describe, expect, it } from 'vitest';
import { Pipe, type PipeItem } from '../src/channel/pipe.js';

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
