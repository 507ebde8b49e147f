import type { PixelImage } from '../../display/pixels.js';
import type { Rect } from '../../protocol/geometry.js';
import type { Shadow } from './shadow.js';

/*
 * Cheap vertical scroll detection. X tells us only that a rect was redrawn; when a terminal or a
 * browser scrolls, most of the new content is the old content moved by k rows, and sending a
 * copyBits plus the exposed band is far cheaper than the whole rect. We look for k by taking a few
 * non-uniform "anchor" rows of the new image and finding equal rows in the shadow's copy of the
 * same rect (memcmp, early exit), vote, then verify the best offsets row by row and keep the
 * longest contiguous matching run. Uniform rows are useless as anchors: they match anywhere.
 */

export interface ScrollMatch {
  /** New row y shows what the shadow had at row y + dy. */
  readonly dy: number;
  /** Destination rows [top, bottom) (absolute) that the move fills. */
  readonly top: number;
  readonly bottom: number;
}

const ANCHORS = 5;
const CANDIDATES = 3;

function isUniformRow(img: PixelImage, row: number, width: number): boolean {
  const at = row * img.stride;
  // Comparing the row with itself shifted by one pixel: equal means every pixel is the same.
  return img.data.compare(img.data, at, at + (width - 1) * 4, at + 4, at + width * 4) === 0;
}

function anchorRows(img: PixelImage, width: number, height: number): number[] {
  const rows: number[] = [];
  for (let k = 1; k <= ANCHORS * 3 && rows.length < ANCHORS; k++) {
    const row = Math.floor((k * height) / (ANCHORS * 3 + 1));
    if (!isUniformRow(img, row, width) && !rows.includes(row)) rows.push(row);
  }
  return rows;
}

function voteOffsets(shadow: Shadow, rect: Rect, img: PixelImage, anchors: number[], height: number): number[] {
  const votes = new Map<number, number>();
  for (const a of anchors) {
    for (let j = 0; j < height; j++) {
      if (j !== a && shadow.rowEquals(rect, img, a, rect.top + j)) votes.set(j - a, (votes.get(j - a) ?? 0) + 1);
    }
  }
  return [...votes.entries()]
    .sort((x, y) => y[1] - x[1])
    .slice(0, CANDIDATES)
    .map(([dy]) => dy);
}

/** Longest run of rows i (rect-relative) with new row i == shadow row i + dy. */
function longestRun(shadow: Shadow, rect: Rect, img: PixelImage, dy: number, height: number): { a: number; b: number } {
  let best = { a: 0, b: 0 };
  let start = -1;
  const from = Math.max(0, -dy);
  const to = Math.min(height, height - dy);
  for (let i = from; i <= to; i++) {
    const match = i < to && shadow.rowEquals(rect, img, i, rect.top + i + dy);
    if (match && start < 0) start = i;
    if (!match && start >= 0) {
      if (i - start > best.b - best.a) best = { a: start, b: i };
      start = -1;
    }
  }
  return best;
}

/**
 * A vertical move inside `rect` that explains at least `minRows` rows of the new content, or
 * null. Only worth calling for rects that are tall and wide enough to profit.
 */
export function findVerticalScroll(shadow: Shadow, rect: Rect, img: PixelImage, minRows = 16): ScrollMatch | null {
  const width = rect.right - rect.left;
  const height = rect.bottom - rect.top;
  if (width < 16 || height < 2 * minRows) return null;
  const anchors = anchorRows(img, width, height);
  if (anchors.length === 0) return null;
  let best: ScrollMatch | null = null;
  for (const dy of voteOffsets(shadow, rect, img, anchors, height)) {
    const run = longestRun(shadow, rect, img, dy, height);
    if (run.b - run.a < minRows) continue;
    // The move must carry real content that changed, not just rows that match anyway.
    const carries = anchors.some((a) => a >= run.a && a < run.b && !shadow.rowEquals(rect, img, a, rect.top + a));
    if (!carries) continue;
    if (!best || run.b - run.a > best.bottom - best.top) best = { dy, top: rect.top + run.a, bottom: rect.top + run.b };
  }
  return best;
}
