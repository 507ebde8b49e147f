import { makeRect, type Rect } from '../protocol/geometry.js';

/**
 * Damage accumulated on a surface while a viewer cannot keep up, as a grid of tiles. Bounded
 * memory whatever happens; when the viewer catches up the dirty tiles are merged into a few
 * rectangles (runs of tiles per row, then rows with equal runs) and sent as fresh images.
 */
export class TileDamage {
  private readonly cols: number;
  private readonly rows: number;
  private readonly dirty: Uint8Array;
  private count = 0;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly tile = 64,
  ) {
    this.cols = Math.ceil(width / tile);
    this.rows = Math.ceil(height / tile);
    this.dirty = new Uint8Array(this.cols * this.rows);
  }

  get isEmpty(): boolean {
    return this.count === 0;
  }

  add(r: Rect): void {
    const c0 = Math.max(0, Math.floor(r.left / this.tile));
    const c1 = Math.min(this.cols, Math.ceil(r.right / this.tile));
    const r0 = Math.max(0, Math.floor(r.top / this.tile));
    const r1 = Math.min(this.rows, Math.ceil(r.bottom / this.tile));
    for (let y = r0; y < r1; y++) {
      for (let x = c0; x < c1; x++) {
        const i = y * this.cols + x;
        if (!this.dirty[i]) {
          this.dirty[i] = 1;
          this.count++;
        }
      }
    }
  }

  addAll(): void {
    this.add({ top: 0, left: 0, bottom: this.height, right: this.width });
  }

  /** The dirty area as rectangles (clipped to the surface), and reset. */
  take(): Rect[] {
    const out: Rect[] = [];
    let open = new Map<string, Rect>();
    for (let y = 0; y < this.rows; y++) {
      const next = new Map<string, Rect>();
      for (const [c0, c1] of this.runs(y)) {
        const key = `${c0}:${c1}`;
        const prev = open.get(key);
        const bottom = Math.min(this.height, (y + 1) * this.tile);
        if (prev) {
          next.set(key, makeRect(prev.top, prev.left, bottom, prev.right));
          open.delete(key);
        } else {
          next.set(key, makeRect(y * this.tile, c0 * this.tile, bottom, Math.min(this.width, c1 * this.tile)));
        }
      }
      for (const r of open.values()) out.push(r);
      open = next;
    }
    for (const r of open.values()) out.push(r);
    this.dirty.fill(0);
    this.count = 0;
    return out;
  }

  private runs(y: number): [number, number][] {
    const runs: [number, number][] = [];
    let start = -1;
    for (let x = 0; x <= this.cols; x++) {
      const d = x < this.cols && this.dirty[y * this.cols + x] === 1;
      if (d && start < 0) start = x;
      if (!d && start >= 0) {
        runs.push([start, x]);
        start = -1;
      }
    }
    return runs;
  }
}
