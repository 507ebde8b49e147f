import { intersectRect, rectIsEmpty, type Rect, makeRect } from '../protocol/geometry.js';

/** `a` minus `b`: up to four rects (bands above and below, then the sides), none when b covers a. */
export function subtractRect(a: Rect, b: Rect): Rect[] {
  const i = intersectRect(a, b);
  if (rectIsEmpty(i)) return [a];
  const out: Rect[] = [];
  if (i.top > a.top) out.push({ top: a.top, left: a.left, bottom: i.top, right: a.right });
  if (i.bottom < a.bottom) out.push({ top: i.bottom, left: a.left, bottom: a.bottom, right: a.right });
  if (i.left > a.left) out.push({ top: i.top, left: a.left, bottom: i.bottom, right: i.left });
  if (i.right < a.right) out.push({ top: i.top, left: i.right, bottom: i.bottom, right: a.right });
  return out;
}

/** What of `rects` lies outside every rect of `holes`. */
export function subtractAll(rects: readonly Rect[], holes: readonly Rect[]): Rect[] {
  let out = [...rects];
  for (const h of holes) out = out.flatMap((r) => subtractRect(r, h));
  return out;
}

/**
 * The set pixels of a mask (one byte a pixel, rows of `width`, at `origin` on the surface) as
 * rects: each row's runs, a run joined to the rect above it when that rect spans the same columns.
 * A rectangular area comes out as one rect.
 */
export function maskRects(mask: Uint8Array, width: number, origin: { x: number; y: number }): Rect[] {
  const done: Rect[] = [];
  let open: Rect[] = [];
  const height = mask.length / width;
  for (let y = 0; y < height; y++) {
    const next: Rect[] = [];
    for (let x = 0; x < width;) {
      if (mask[y * width + x] === 0) {
        x++;
        continue;
      }
      const start = x;
      while (x < width && mask[y * width + x] !== 0) x++;
      const left = origin.x + start;
      const right = origin.x + x;
      const above = open.findIndex((r) => r.left === left && r.right === right);
      if (above >= 0) {
        const r = open.splice(above, 1)[0]!;
        next.push(makeRect(r.top, r.left, r.bottom + 1, r.right));
      } else next.push(makeRect(origin.y + y, left, origin.y + y + 1, right));
    }
    done.push(...open);
    open = next;
  }
  return [...done, ...open];
}
