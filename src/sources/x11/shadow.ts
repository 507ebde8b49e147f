import { pixelWords, type PixelImage } from '../../display/pixels.js';
import { makeRect, type Point, type Rect } from '../../protocol/geometry.js';

/*
 * A copy of what the sink's surface holds (what we last sent), B,G,R,X like the surface. Damage
 * says where something was drawn, not that pixels changed (Xvfb's software cursor, an xterm
 * redrawing the same text, a clock face repainted identically): comparing against the shadow
 * drops those rows, and it is what scroll detection compares shifted content against.
 * All comparisons are row-wise Buffer.compare, i.e. native memcmp.
 */

/**
 * A row whose changed columns move by more than this against the previous row's starts a new box:
 * a window dragged sideways leaves a narrow exposed strip beside rows that did not change, which
 * should not be sent the width of the whole damaged rect.
 */
const SPAN_SLACK = 64;
/** More boxes than this in one rect (an irregular change, a photo): fall back to one box per row run. */
const MAX_BOXES = 16;
/**
 * Equal pixels in a row's changed columns that split it in two spans. A dragged window under a
 * compositor changes at both sides (its drop shadow moves over the background) while everything
 * between, once the move is a copyBits, is equal: one span per row would send the whole window
 * width again.
 */
const SPLIT_GAP = 32;

interface Span {
  left: number;
  right: number;
}

export class Shadow {
  readonly stride: number;
  readonly data: Buffer;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.stride = width * 4;
    this.data = Buffer.alloc(this.stride * height);
  }

  /** Does image row `imgRow` equal shadow row `y` over rect's columns? */
  rowEquals(rect: Rect, img: PixelImage, imgRow: number, y: number): boolean {
    const n = (rect.right - rect.left) * 4;
    const from = imgRow * img.stride;
    const at = y * this.stride + rect.left * 4;
    return img.data.compare(this.data, at, at + n, from, from + n) === 0;
  }

  /** Write the part `box` (absolute; all of rect by default) of `img`, the content of rect, into the shadow. */
  store(rect: Rect, img: PixelImage, box: Rect = rect): void {
    const n = (box.right - box.left) * 4;
    const dx = (box.left - rect.left) * 4;
    for (let y = box.top; y < box.bottom; y++) {
      const from = (y - rect.top) * img.stride + dx;
      img.data.copy(this.data, y * this.stride + box.left * 4, from, from + n);
    }
  }

  /**
   * Boxes (absolute) covering every pixel of `rect` where `img` differs from the shadow: runs of
   * changed rows (joined across fewer than `minGap` equal rows: one copy beats two tiny ones), each
   * narrowed to the columns that changed, and split where the changed columns jump (SPAN_SLACK).
   */
  changedBoxes(rect: Rect, img: PixelImage, minGap = 8): Rect[] {
    // Word views made once per rect, not per changed row (this runs on every frame).
    const words = { a: pixelWords(img), b: pixelWords(this) };
    const spans: (Span | null)[] = [];
    // The right part of rows split in two (null elsewhere): grouped into boxes of their own.
    const rights: (Span | null)[] = [];
    for (let y = rect.top; y < rect.bottom; y++) {
      const span = this.rowSpan(rect, img, y, words);
      const split = span && this.splitSpan(rect, img, y, span, words);
      spans.push(split ? split[0] : span);
      rights.push(split ? split[1] : null);
    }
    const boxes = [...this.group(rect, spans, minGap, SPAN_SLACK), ...this.group(rect, rights, minGap, SPAN_SLACK)];
    if (boxes.length <= MAX_BOXES) return boxes;
    const whole = spans.map((s, i) => (s && rights[i] ? { left: s.left, right: rights[i].right } : s));
    return this.group(rect, whole, minGap, Infinity);
  }

  /**
   * Row y's changed columns as two spans when at least SPLIT_GAP equal pixels lie between a changed
   * run at its start and one at its end (all of the middle checked equal), else null.
   */
  private splitSpan(
    rect: Rect,
    img: PixelImage,
    y: number,
    span: Span,
    { a, b }: { a: Uint32Array | undefined; b: Uint32Array | undefined },
  ): [Span, Span] | null {
    if (!a || !b || span.right - span.left < 2 * SPLIT_GAP) return null;
    const ia = (y - rect.top) * (img.stride >> 2) - rect.left;
    const ib = y * (this.stride >> 2);
    // The first run of SPLIT_GAP equal pixels after the start, and the last one before the end.
    let run = 0;
    let x = span.left;
    for (; x < span.right && run < SPLIT_GAP; x++) run = a[ia + x] === b[ib + x] ? run + 1 : 0;
    if (run < SPLIT_GAP) return null;
    const leftEnd = x - run;
    run = 0;
    let z = span.right;
    for (; z > leftEnd && run < SPLIT_GAP; z--) run = a[ia + z - 1] === b[ib + z - 1] ? run + 1 : 0;
    const rightStart = z + run;
    if (run < SPLIT_GAP) return null;
    // Between the two equal runs found, every pixel must be equal too (memcmp).
    const from = x;
    const to = z;
    if (to > from) {
      const n = (to - from) * 4;
      const at = y * this.stride + from * 4;
      const fromImg = (y - rect.top) * img.stride + (from - rect.left) * 4;
      if (img.data.compare(this.data, at, at + n, fromImg, fromImg + n) !== 0) return null;
    }
    return [
      { left: span.left, right: leftEnd },
      { left: rightStart, right: span.right },
    ];
  }

  /** Columns [left, right) (absolute) of row y where img differs, or null when the row is equal. */
  private rowSpan(
    rect: Rect,
    img: PixelImage,
    y: number,
    { a, b }: { a: Uint32Array | undefined; b: Uint32Array | undefined },
  ): Span | null {
    if (this.rowEquals(rect, img, y - rect.top, y)) return null;
    if (!a || !b) return { left: rect.left, right: rect.right };
    const width = rect.right - rect.left;
    const ia = (y - rect.top) * (img.stride >> 2);
    const ib = y * (this.stride >> 2) + rect.left;
    let first = 0;
    while (first < width && a[ia + first] === b[ib + first]) first++;
    let last = width;
    while (last > first && a[ia + last - 1] === b[ib + last - 1]) last--;
    return { left: rect.left + first, right: rect.left + last };
  }

  private group(rect: Rect, spans: readonly (Span | null)[], minGap: number, slack: number): Rect[] {
    const boxes: Rect[] = [];
    // The open box in locals: a rect is made once it is closed (rects are never changed, geometry.ts).
    let open = false;
    let top = 0;
    let bottom = 0;
    let left = 0;
    let right = 0;
    let prev: Span | null = null;
    for (let i = 0; i < spans.length; i++) {
      const s = spans[i];
      if (!s) continue;
      const y = rect.top + i;
      const jump = prev !== null && (Math.abs(s.left - prev.left) > slack || Math.abs(s.right - prev.right) > slack);
      if (open && (y - bottom >= minGap || jump)) {
        boxes.push(makeRect(top, left, bottom, right));
        open = false;
      }
      if (!open) {
        open = true;
        top = y;
        left = s.left;
        right = s.right;
      } else {
        left = Math.min(left, s.left);
        right = Math.max(right, s.right);
      }
      bottom = y + 1;
      prev = s;
    }
    if (open) boxes.push(makeRect(top, left, bottom, right));
    return boxes;
  }

  /** The same move as the copyBits command (rows walked so overlapping areas are safe). */
  copyBits(src: Point, dest: Rect): void {
    const n = (dest.right - dest.left) * 4;
    const dy = dest.top - src.y;
    const rows = dest.bottom - dest.top;
    for (let k = 0; k < rows; k++) {
      const y = dy > 0 ? dest.bottom - 1 - k : dest.top + k;
      const from = (y - dy) * this.stride + src.x * 4;
      this.data.copy(this.data, y * this.stride + dest.left * 4, from, from + n);
    }
  }
}
