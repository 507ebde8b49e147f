import { type Reader } from './reader.js';
import { type Writer } from './writer.js';

/** SPICE Rect: four int32 in the order top, left, bottom, right (exclusive). */
export interface Rect {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

export interface Point {
  x: number;
  y: number;
}

/** The rect of a box given by its top-left corner and size. */
export function rect(left: number, top: number, width: number, height: number): Rect {
  return { top, left, bottom: top + height, right: left + width };
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
  return {
    top: Math.max(a.top, b.top),
    left: Math.max(a.left, b.left),
    bottom: Math.min(a.bottom, b.bottom),
    right: Math.min(a.right, b.right),
  };
}

export function unionRect(a: Rect, b: Rect): Rect {
  return {
    top: Math.min(a.top, b.top),
    left: Math.min(a.left, b.left),
    bottom: Math.max(a.bottom, b.bottom),
    right: Math.max(a.right, b.right),
  };
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
  const from = {
    top: src.y,
    left: src.x,
    bottom: src.y + dest.bottom - dest.top,
    right: src.x + dest.right - dest.left,
  };
  const landed: Rect[] = [];
  for (const a of areas) {
    const part = intersectRect(a, from);
    if (!rectIsEmpty(part))
      landed.push({ top: part.top + dy, left: part.left + dx, bottom: part.bottom + dy, right: part.right + dx });
  }
  return landed;
}

export function writeRect(w: Writer, r: Rect): void {
  w.i32(r.top).i32(r.left).i32(r.bottom).i32(r.right);
}

export function readRect(r: Reader): Rect {
  return { top: r.i32(), left: r.i32(), bottom: r.i32(), right: r.i32() };
}

export function writePoint(w: Writer, p: Point): void {
  w.i32(p.x).i32(p.y);
}

export function readPoint(r: Reader): Point {
  return { x: r.i32(), y: r.i32() };
}
