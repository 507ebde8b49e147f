import { rectIsEmpty, type Rect, cloneRect, makeRect } from '../../../protocol/geometry.js';

/*
 * Pixel regions as the canvas sees them (pixman_region32 semantics): a set of pixels kept as
 * non-overlapping rectangles in "y-x banded" order - sorted by top, rects of one band share top
 * and bottom and are sorted by left, and vertically adjacent bands with the same x spans are
 * merged. The order matters: copy-bits walks these rects in an order derived from it, and the
 * number of rects is the number of commands a clipped draw becomes.
 */

export type Region = readonly Rect[];

export function regionFromRect(r: Rect): Region {
  return rectIsEmpty(r) ? [] : [cloneRect(r)];
}

/** The union of arbitrary (possibly overlapping) rects, normalised to banded form. */
export function regionFromRects(rects: readonly Rect[]): Region {
  const live = rects.filter((r) => !rectIsEmpty(r));
  if (live.length <= 1) return live.map(cloneRect);
  const ys = uniqueSorted(live.flatMap((r) => [r.top, r.bottom]));
  const byTop = [...live].sort((a, b) => a.top - b.top);
  const out: Rect[] = [];
  let active: Rect[] = [];
  let next = 0;
  let prevBand: Rect[] = [];
  for (let i = 0; i + 1 < ys.length; i++) {
    const y0 = ys[i]!;
    const y1 = ys[i + 1]!;
    active = active.filter((r) => r.bottom > y0);
    while (next < byTop.length && byTop[next]!.top <= y0) active.push(byTop[next++]!);
    const spans = mergeSpans(
      active.filter((r) => r.top <= y0 && r.bottom >= y1).map((r) => [r.left, r.right] as const),
    );
    prevBand = appendBand(out, prevBand, spans, y0, y1);
  }
  return out;
}

/** Adds one band, merging it into the previous band when it continues it with the same spans. */
function appendBand(
  out: Rect[],
  prevBand: Rect[],
  spans: readonly (readonly [number, number])[],
  y0: number,
  y1: number,
): Rect[] {
  if (spans.length === 0) return [];
  const continues =
    prevBand.length === spans.length &&
    prevBand[0]!.bottom === y0 &&
    prevBand.every((r, k) => r.left === spans[k]![0] && r.right === spans[k]![1]);
  if (continues) {
    // The previous band is the tail of `out`: grown by new rects, as rects are never changed.
    const grown = prevBand.map((r) => makeRect(r.top, r.left, y1, r.right));
    out.splice(out.length - grown.length, grown.length, ...grown);
    return grown;
  }
  const band = spans.map(([left, right]) => makeRect(y0, left, y1, right));
  out.push(...band);
  return band;
}

function mergeSpans(spans: (readonly [number, number])[]): (readonly [number, number])[] {
  spans.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [l, r] of spans) {
    const last = out[out.length - 1];
    if (last && l <= last[1]) last[1] = Math.max(last[1], r);
    else out.push([l, r]);
  }
  return out;
}

function uniqueSorted(values: number[]): number[] {
  values.sort((a, b) => a - b);
  return values.filter((v, i) => i === 0 || v !== values[i - 1]);
}

export function intersectRegionRect(region: Region, r: Rect): Region {
  const out: Rect[] = [];
  for (const a of region) {
    const c = {
      top: Math.max(a.top, r.top),
      left: Math.max(a.left, r.left),
      bottom: Math.min(a.bottom, r.bottom),
      right: Math.min(a.right, r.right),
    };
    if (!rectIsEmpty(c)) out.push(c);
  }
  // Clipping can make bands mergeable again (as pixman would), so normalise.
  return regionFromRects(out);
}

export function intersectRegions(a: Region, b: Region): Region {
  const out: Rect[] = [];
  for (const x of a) {
    for (const y of b) {
      const c = {
        top: Math.max(x.top, y.top),
        left: Math.max(x.left, y.left),
        bottom: Math.min(x.bottom, y.bottom),
        right: Math.min(x.right, y.right),
      };
      if (!rectIsEmpty(c)) out.push(c);
    }
  }
  return regionFromRects(out);
}

/** `bounds` minus the region. */
export function invertRegion(region: Region, bounds: Rect): Region {
  let remaining: Rect[] = rectIsEmpty(bounds) ? [] : [cloneRect(bounds)];
  for (const hole of region) remaining = remaining.flatMap((r) => subtractRect(r, hole));
  return regionFromRects(remaining);
}

function subtractRect(r: Rect, hole: Rect): Rect[] {
  if (hole.right <= r.left || hole.left >= r.right || hole.bottom <= r.top || hole.top >= r.bottom) return [r];
  const out: Rect[] = [];
  if (hole.top > r.top) out.push({ top: r.top, left: r.left, bottom: hole.top, right: r.right });
  if (hole.bottom < r.bottom) out.push({ top: hole.bottom, left: r.left, bottom: r.bottom, right: r.right });
  const top = Math.max(r.top, hole.top);
  const bottom = Math.min(r.bottom, hole.bottom);
  if (hole.left > r.left) out.push({ top, left: r.left, bottom, right: hole.left });
  if (hole.right < r.right) out.push({ top, left: hole.right, bottom, right: r.right });
  return out;
}

export function translateRegion(region: Region, dx: number, dy: number): Region {
  return region.map((r) => ({ top: r.top + dy, left: r.left + dx, bottom: r.bottom + dy, right: r.right + dx }));
}

/** Bounding box of the region (null when empty). */
export function regionBounds(region: Region): Rect | null {
  if (region.length === 0) return null;
  let { top, left, bottom, right } = region[0]!;
  for (const r of region) {
    top = Math.min(top, r.top);
    left = Math.min(left, r.left);
    bottom = Math.max(bottom, r.bottom);
    right = Math.max(right, r.right);
  }
  return { top, left, bottom, right };
}

/** Pixels set in a 1-bit-per-pixel bitmap (`bit(x, y)` says whether pixel x,y is set). */
export function regionFromBits(width: number, height: number, bit: (x: number, y: number) => boolean): Region {
  const rows: Rect[] = [];
  for (let y = 0; y < height; y++) {
    let x = 0;
    while (x < width) {
      while (x < width && !bit(x, y)) x++;
      const start = x;
      while (x < width && bit(x, y)) x++;
      if (x > start) rows.push({ top: y, left: start, bottom: y + 1, right: x });
    }
  }
  return regionFromRects(rows);
}

/**
 * Rects in the order copy-bits must move them so that no rect reads pixels an earlier one has
 * already overwritten (spice-common sw_canvas copy_region): moving down walks bands bottom-up,
 * moving right walks each band right to left.
 */
export function copyOrder(region: Region, dx: number, dy: number): Rect[] {
  const bands: Rect[][] = [];
  for (const r of region) {
    const band = bands[bands.length - 1];
    if (band && band[0]!.top === r.top) band.push(r);
    else bands.push([r]);
  }
  if (dy > 0) bands.reverse();
  const rightwards = dy > 0 ? dx >= 0 : dx > 0;
  return bands.flatMap((band) => (rightwards ? [...band].reverse() : band));
}
