import { ClipType } from './constants.js';
import { ProtocolError } from './errors.js';
import { readRect, writeRect, type Rect } from './geometry.js';
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * Clip, inline in draw and stream messages: u8 type (0 none, 1 rects) [| u32 n | Rect[n]].
 * Its own module because both the draw messages (display.ts) and the stream messages (stream.ts) carry one.
 */
export type Clip = { type: 'none' } | { type: 'rects'; rects: Rect[] };

export function writeClip(w: Writer, clip: Clip): void {
  if (clip.type === 'none') {
    w.u8(ClipType.None);
    return;
  }
  w.u8(ClipType.Rects).u32(clip.rects.length);
  for (const r of clip.rects) writeRect(w, r);
}

export function readClip(r: Reader): Clip {
  const type = r.u8();
  if (type === ClipType.None) return { type: 'none' };
  const n = r.u32();
  if (n > r.remaining / 16) throw new ProtocolError('BAD_MESSAGE', `clip of ${n} rects overruns the message`);
  const rects: Rect[] = [];
  for (let i = 0; i < n; i++) rects.push(readRect(r));
  return { type: 'rects', rects };
}
