import { type Reader } from './reader.js';
import { type Writer } from './writer.js';

/**
 * SPICE Rect: four int32 in the order top, left, bottom, right (exclusive). A value: made by
 * makeRect (or the functions here, which use it) and never changed afterwards.
 */
export interface Rect {
  readonly top: number;
  readonly left: number;
  readonly bottom: number;
  readonly right: number;
}

export interface Point {
  x: number;
  y: number;
}

/**
 * The one constructor of rects. V8 gives the objects one literal makes in one field order one hidden
 * class (map), and compiled code that reads rects is valid for the classes it has seen. A copy by
 * spread (`{ ...r }`, `{ ...r, bottom }`) gets a class of its own at each place it is written, a
 * literal in another field order another one, and a field once set to a non-integer (-0, 0.5) moves
 * every rect to a class with double fields: each sent the functions every draw runs through (the
 * surface's, the channels', the desktop's) back to the interpreter, to be compiled again while a
 * viewer waited (docs/performance.md, the rehearsal's section). Hence one constructor, integers only,
 * and no rect changed in place (a field written after construction is another change of class).
 */
export function makeRect(top: number, left: number, bottom: number, right: number): Rect {
  return { top, left, bottom, right };
}

/** A rect equal to `r`, of the one class (a rect from elsewhere: a decoder, a test, another process). */
export function cloneRect(r: Rect): Rect {
  return makeRect(r.top, r.left, r.bottom, r.right);
}

/** The rect of a box given by its top-left corner and size. */
export function rect(left: number, top: number, width: number, height: number): Rect {
  return makeRect(top, left, top + height, left + width);
}

export function rectsEqual(a: Rect, b: Rect): boolean {
  return a.top === b.top && a.left === b.left && a.bottom === b.bottom && a.right === b.right;
}

export function rectWidth(r: Rect): number {
  return r.right - r.left;
}

export function rectHeight(r: Rect): number {
  return r.bottom - r.top;
}

export function rectArea(r: Rect): number {
  return Math.max(0, r.right - r.left) * Math.max(0, r.bottom - r.top);
}

export function rectIsEmpty(r: Rect): boolean {
  return r.right <= r.left || r.bottom <= r.top;
}

export function intersectRect(a: Rect, b: Rect): Rect {
  return makeRect(
    Math.max(a.top, b.top),
    Math.max(a.left, b.left),
    Math.min(a.bottom, b.bottom),
    Math.min(a.right, b.right),
  );
}

export function unionRect(a: Rect, b: Rect): Rect {
  return makeRect(
    Math.min(a.top, b.top),
    Math.min(a.left, b.left),
    Math.max(a.bottom, b.bottom),
    Math.max(a.right, b.right),
  );
}

export function rectContains(outer: Rect, inner: Rect): boolean {
  return (
    inner.left >= outer.left && inner.top >= outer.top && inner.right <= outer.right && inner.bottom <= outer.bottom
  );
}

/**
 * Copy-bits to `dest` from the same-sized area at `src`: the parts of `areas` it reads, moved to
 * where they land (what a viewer holds there afterwards came from those parts).
 */
export function copiedParts(areas: Iterable<Rect>, dest: Rect, src: Point): Rect[] {
  const dx = dest.left - src.x;
  const dy = dest.top - src.y;
  const from = makeRect(src.y, src.x, src.y + dest.bottom - dest.top, src.x + dest.right - dest.left);
  const landed: Rect[] = [];
  for (const a of areas) {
    const part = intersectRect(a, from);
    if (!rectIsEmpty(part)) landed.push(makeRect(part.top + dy, part.left + dx, part.bottom + dy, part.right + dx));
  }
  return landed;
}

export function writeRect(w: Writer, r: Rect): void {
  w.i32(r.top).i32(r.left).i32(r.bottom).i32(r.right);
}

export function readRect(r: Reader): Rect {
  // Arguments are evaluated left to right: top, left, bottom, right, as on the wire.
  return makeRect(r.i32(), r.i32(), r.i32(), r.i32());
}

export function writePoint(w: Writer, p: Point): void {
  w.i32(p.x).i32(p.y);
}

export function readPoint(r: Reader): Point {
  return { x: r.i32(), y: r.i32() };
}
