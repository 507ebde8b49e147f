import { intersectRect, rectArea, rectIsEmpty, unionRect, type Rect } from '../../protocol/geometry.js';

/*
 * Coalescing damage into few rects per frame. An X region arrives as many y-x banded rectangles
 * (a line of terminal text is one rect per glyph run); fetching each costs a request and a copy
 * command, so we merge: first whatever overlaps or nearly touches, then, while there are too many,
 * the pair whose bounding box wastes the fewest pixels. Very large inputs are first folded into
 * one bounding box per horizontal band so the pairwise step stays cheap.
 */

export interface CoalesceOptions {
  /** Clip everything to this (the screen). */
  readonly bounds: Rect;
  /** At most this many rects come out. */
  readonly maxRects: number;
  /** Rects closer than this many pixels are merged (default 8). */
  readonly gap?: number;
  /** Inputs above this count are folded per band first (default 64). */
  readonly foldAbove?: number;
  /** Band height for folding (default 64). */
  readonly bandRows?: number;
}

function inflate(r: Rect, by: number): Rect {
  return { top: r.top - by, left: r.left - by, bottom: r.bottom + by, right: r.right + by };
}

function touches(a: Rect, b: Rect, gap: number): boolean {
  return !rectIsEmpty(intersectRect(inflate(a, gap), b));
}

/** Merge rects that overlap or lie within `gap` pixels of each other, until none do. */
function mergeTouching(rects: readonly Rect[], gap: number): Rect[] {
  const out = rects.slice();
  let merged = true;
  while (merged) {
    merged = false;
    for (let i = 0; i < out.length; i++) {
      for (let j = i + 1; j < out.length; j++) {
        if (!touches(out[i]!, out[j]!, gap)) continue;
        out[i] = unionRect(out[i]!, out[j]!);
        out.splice(j, 1);
        j = i; // out[i] grew: look at everything after it again
        merged = true;
      }
    }
  }
  return out;
}

/** One bounding box per band of `rows` rows (rects spanning bands go to the band of their top). */
export function foldIntoBands(rects: readonly Rect[], rows: number): Rect[] {
  const byBand = new Map<number, Rect>();
  for (const r of rects) {
    const band = Math.floor(r.top / rows);
    const prev = byBand.get(band);
    byBand.set(band, prev ? unionRect(prev, r) : r);
  }
  return [...byBand.values()];
}

/** Merge the cheapest pair (least added area) until at most `max` rects remain. */
export function capCount(rects: readonly Rect[], max: number): Rect[] {
  const out = rects.slice();
  while (out.length > Math.max(1, max)) {
    let best = { i: 0, j: 1, waste: Infinity };
    for (let i = 0; i < out.length; i++) {
      for (let j = i + 1; j < out.length; j++) {
        const u = unionRect(out[i]!, out[j]!);
        const waste = rectArea(u) - rectArea(out[i]!) - rectArea(out[j]!);
        if (waste < best.waste) best = { i, j, waste };
      }
    }
    out[best.i] = unionRect(out[best.i]!, out[best.j]!);
    out.splice(best.j, 1);
  }
  return out;
}

/** Clip, drop empties, merge, and cap: the rects to fetch for one frame. */
export function coalesceRects(rects: readonly Rect[], opts: CoalesceOptions): Rect[] {
  const clipped = rects.map((r) => intersectRect(r, opts.bounds)).filter((r) => !rectIsEmpty(r));
  let out = clipped.length > (opts.foldAbove ?? 64) ? foldIntoBands(clipped, opts.bandRows ?? 64) : clipped;
  out = mergeTouching(out, opts.gap ?? 8);
  if (out.length > opts.maxRects) out = mergeTouching(capCount(out, opts.maxRects), 0);
  return out.map((r) => intersectRect(r, opts.bounds));
}
