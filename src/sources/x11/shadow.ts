import type { PixelImage } from '../../display/pixels.js';
import type { Point, Rect } from '../../protocol/geometry.js';

/*
 * A copy of what the sink's surface holds (what we last sent), B,G,R,X like the surface. Damage
 * says where something was drawn, not that pixels changed (Xvfb's software cursor, an xterm
 * redrawing the same text, a clock face repainted identically): comparing against the shadow
 * drops those rows, and it is what scroll detection compares shifted content against.
 * All comparisons are row-wise Buffer.compare, i.e. native memcmp.
 */

export interface RowRun {
  /** Absolute screen rows [top, bottom). */
  readonly top: number;
  readonly bottom: number;
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

  /**
   * Runs of rows of `rect` where `img` (the new content of rect) differs from the shadow; runs
   * separated by fewer than `minGap` equal rows are joined (one copy beats two tiny ones).
   */
  changedRuns(rect: Rect, img: PixelImage, minGap = 8): RowRun[] {
    const runs: RowRun[] = [];
    let start = -1;
    let lastChanged = -1;
    for (let y = rect.top; y < rect.bottom; y++) {
      if (this.rowEquals(rect, img, y - rect.top, y)) continue;
      if (start >= 0 && y - lastChanged - 1 >= minGap) {
        runs.push({ top: start, bottom: lastChanged + 1 });
        start = -1;
      }
      if (start < 0) start = y;
      lastChanged = y;
    }
    if (start >= 0) runs.push({ top: start, bottom: lastChanged + 1 });
    return runs;
  }

  /** Write `img` rows [top, bottom) of rect (absolute rows) into the shadow. */
  store(rect: Rect, img: PixelImage, run: RowRun = rect): void {
    const n = (rect.right - rect.left) * 4;
    for (let y = run.top; y < run.bottom; y++) {
      const from = (y - rect.top) * img.stride;
      img.data.copy(this.data, y * this.stride + rect.left * 4, from, from + n);
    }
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
