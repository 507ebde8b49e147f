import { pixelWords, type PixelImage } from '../../display/pixels.js';
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
/** Columns compared as words before a whole row is (most rows differ, and a memcmp call costs far more). */
const SAMPLES = 4;

/**
 * Row comparisons between the new image and the shadow, over rect's columns. The search compares
 * each anchor row with every row of the rect, and almost all of them differ: a few pixels sampled
 * as words reject those in a few nanoseconds, where a native memcmp call costs 100-200 ns however
 * early it stops (on a 900x470 damage rect of a dragged window the search cost 0.5-1.4 ms).
 */
class RowComparer {
  private readonly a: Uint32Array | undefined;
  private readonly b: Uint32Array | undefined;
  private readonly columns: number[] = [];

  constructor(
    private readonly shadow: Shadow,
    private readonly rect: Rect,
    private readonly img: PixelImage,
  ) {
    this.a = pixelWords(img);
    this.b = pixelWords({ width: shadow.width, height: shadow.height, stride: shadow.stride, data: shadow.data });
    const width = rect.right - rect.left;
    for (let k = 0; k < SAMPLES; k++) this.columns.push(Math.floor(((2 * k + 1) * width) / (2 * SAMPLES)));
  }

  /** Does image row `imgRow` equal shadow row `y`? */
  equal(imgRow: number, y: number): boolean {
    const { a, b } = this;
    if (a && b) {
      const ia = imgRow * (this.img.stride >> 2);
      const ib = y * (this.shadow.stride >> 2) + this.rect.left;
      for (const x of this.columns) if (a[ia + x] !== b[ib + x]) return false;
    }
    return this.shadow.rowEquals(this.rect, this.img, imgRow, y);
  }
}

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

function voteOffsets(rows: RowComparer, rect: Rect, anchors: number[], height: number): number[] {
  const votes = new Map<number, number>();
  for (const a of anchors) {
    for (let j = 0; j < height; j++) {
      if (j !== a && rows.equal(a, rect.top + j)) votes.set(j - a, (votes.get(j - a) ?? 0) + 1);
    }
  }
  return [...votes.entries()]
    .sort((x, y) => y[1] - x[1])
    .slice(0, CANDIDATES)
    .map(([dy]) => dy);
}

/** Longest run of rows i (rect-relative) with new row i == shadow row i + dy. */
function longestRun(rows: RowComparer, rect: Rect, dy: number, height: number): { a: number; b: number } {
  let best = { a: 0, b: 0 };
  let start = -1;
  const from = Math.max(0, -dy);
  const to = Math.min(height, height - dy);
  for (let i = from; i <= to; i++) {
    const match = i < to && rows.equal(i, rect.top + i + dy);
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
  const rows = new RowComparer(shadow, rect, img);
  let best: ScrollMatch | null = null;
  for (const dy of voteOffsets(rows, rect, anchors, height)) {
    const run = longestRun(rows, rect, dy, height);
    if (run.b - run.a < minRows) continue;
    // The move must carry real content that changed, not just rows that match anyway.
    const carries = anchors.some((a) => a >= run.a && a < run.b && !rows.equal(a, rect.top + a));
    if (!carries) continue;
    if (!best || run.b - run.a > best.bottom - best.top) best = { dy, top: rect.top + run.a, bottom: rect.top + run.b };
  }
  return best;
}
