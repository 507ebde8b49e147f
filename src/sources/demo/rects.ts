import { intersectRect, rectArea, rectIsEmpty, unionRect, type Rect } from '../../protocol/geometry.js';

/* Small rectangle algebra for damage tracking (SPICE rects: right and bottom exclusive). */

export function translateRect(r: Rect, dx: number, dy: number): Rect {
  return { top: r.top + dy, left: r.left + dx, bottom: r.bottom + dy, right: r.right + dx };
}

/**
 * a minus b as up to four disjoint rects. 'rows' cuts full-width bands above and below b first, then
 * the sides; 'columns' cuts full-height bands left and right first (the better split for a vertical
 * scroll, where whole columns can move on their own).
 */
export function subtractRect(a: Rect, b: Rect, order: 'rows' | 'columns' = 'rows'): Rect[] {
  const i = intersectRect(a, b);
  if (rectIsEmpty(i)) return rectIsEmpty(a) ? [] : [a];
  const out: Rect[] =
    order === 'rows'
      ? [
          { top: a.top, left: a.left, bottom: i.top, right: a.right },
          { top: i.bottom, left: a.left, bottom: a.bottom, right: a.right },
          { top: i.top, left: a.left, bottom: i.bottom, right: i.left },
          { top: i.top, left: i.right, bottom: i.bottom, right: a.right },
        ]
      : [
          { top: a.top, left: a.left, bottom: a.bottom, right: i.left },
          { top: a.top, left: i.right, bottom: a.bottom, right: a.right },
          { top: a.top, left: i.left, bottom: i.top, right: i.right },
          { top: i.bottom, left: i.left, bottom: a.bottom, right: i.right },
        ];
  return out.filter((r) => !rectIsEmpty(r));
}

/**
 * Worth drawing two damaged rects as one: their union wastes little area. Overlapping rects are
 * merged by the same rule; the flush diff trims whatever did not really change.
 */
export function worthMerging(a: Rect, b: Rect): boolean {
  const sum = rectArea(a) + rectArea(b);
  return rectArea(unionRect(a, b)) <= sum * 1.25 + 512;
}

/** Above this many rects, merging pairwise costs more than repainting their bounding box. */
export const MAX_RECTS = 64;

/** Coalesce a damage list into fewer rects; empty rects are dropped. */
export function mergeRects(input: readonly Rect[]): Rect[] {
  const rects = input.filter((r) => !rectIsEmpty(r));
  if (rects.length > MAX_RECTS) return [rects.reduce(unionRect)];
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = 0; i < rects.length && !changed; i++) {
      for (let j = i + 1; j < rects.length; j++) {
        const a = rects[i] as Rect;
        const b = rects[j] as Rect;
        if (!worthMerging(a, b)) continue;
        rects[i] = unionRect(a, b);
        rects.splice(j, 1);
        changed = true;
        break;
      }
    }
  }
  return rects;
}
