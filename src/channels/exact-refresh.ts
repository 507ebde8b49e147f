import {
  copiedParts,
  rectContains,
  rectIsEmpty,
  unionRect,
  type Point,
  type Rect,
  makeRect,
} from '../protocol/geometry.js';

/**
 * Areas one viewer is owed losslessly (a stream's end, a viewer sent back to images), to be sent in
 * bands: rows of the area, each its own image, captured from the surface only when it is about to
 * leave. Sent as one image, a stream's 640x360 area was 461 kB of QUIC, 1.8 s of a 2 Mbit/s link
 * that a typed glyph waited behind; in bands the glyph waits for one band at most.
 * Sans-IO: the display client says what was drawn and takes the next band when the link has room.
 */

/**
 * Past this many areas they merge into their bounding box (more refreshed than needed, never less).
 * Copy-bits of a terminal scrolling over an area still owed add one a line.
 */
const MAX_AREAS = 64;
/**
 * A band has at least this many rows. The codec choice sends a photo's bands of 8 rows or more as
 * QUIC, 1 % larger in all than one image of the area (bench video's 640x360 frame: 481 kB whole, 486
 * kB in 45 bands); bands of 2 rows went as LZ, 50 % larger.
 */
const MIN_BAND_ROWS = 8;

/** Rows of a band of about `pixels` pixels of an area `width` wide: a power of two, at least MIN_BAND_ROWS. */
function bandRows(pixels: number, width: number): number {
  const rows = Math.max(1, Math.floor(pixels / Math.max(1, width)));
  return Math.max(MIN_BAND_ROWS, 2 ** Math.floor(Math.log2(rows)));
}

export class ExactRefresh {
  private areas: Rect[] = [];

  /** Whether any area is still owed. */
  get pending(): boolean {
    return this.areas.length > 0;
  }

  /** `rect` is owed losslessly (areas inside it are then owed once, as part of it). */
  add(rect: Rect): void {
    if (rectIsEmpty(rect) || this.areas.some((a) => rectContains(a, rect))) return;
    this.areas = this.areas.filter((a) => !rectContains(rect, a));
    this.areas.push(rect);
    if (this.areas.length > MAX_AREAS) this.areas = [this.areas.reduce(unionRect)];
  }

  /** A draw set every pixel of `rect`: the areas inside it are not owed any more (a lossy draw is the lossy areas' to refresh). */
  covered(rect: Rect): void {
    if (this.areas.length > 0) this.areas = this.areas.filter((a) => !rectContains(rect, a));
  }

  /**
   * Copy-bits to `dest` from the same-sized area at `src`, sent before the owed areas: the viewer
   * copied its stale pixels of them, which are owed where they landed too.
   */
  copied(dest: Rect, src: Point): void {
    if (this.areas.length === 0) return; // the common case, for every copy-bits to every viewer
    for (const r of copiedParts(this.areas, dest, src)) this.add(r);
  }

  /**
   * The next band, of about `pixels` pixels: the top rows of the oldest area, a power of two of them
   * and at least MIN_BAND_ROWS. Bands are cut from the area's top, so viewers on links alike cut the
   * same rectangles (and share one snapshot of each, encoded once).
   */
  peek(pixels: number): Rect | undefined {
    const a = this.areas[0];
    if (!a) return undefined;
    return makeRect(a.top, a.left, Math.min(a.bottom, a.top + bandRows(pixels, a.right - a.left)), a.right);
  }

  /** The band peek(pixels) gives, owed no more: it is being sent. */
  take(pixels: number): Rect | undefined {
    const band = this.peek(pixels);
    if (!band) return undefined;
    const a = this.areas[0]!;
    if (band.bottom >= a.bottom) this.areas.shift();
    else this.areas[0] = makeRect(band.bottom, a.left, a.bottom, a.right);
    return band;
  }

  /** Every area owed (the viewer lags: they become damage), left owed no more. */
  takeAll(): Rect[] {
    const all = this.areas;
    this.areas = [];
    return all;
  }
}
