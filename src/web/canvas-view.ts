import type { DisplayServerMessage } from '../protocol/display.js';
import { intersectRect, rectIsEmpty, unionRect, type Rect } from '../protocol/geometry.js';
import type { Surface } from '../display/surface.js';

/** ImageData of at least this many pixels is kept for the next paint of the same size (64x64). */
const SCRATCH_MIN_PIXELS = 4096;
/** Past this many pending rects a frame repaints their bounding box instead (fewer, larger copies). */
const MAX_PENDING_RECTS = 32;

/**
 * Shows the primary surface of a ClientDisplay on a canvas. Draws are applied to the surface's
 * memory as they arrive (exact, the same code as the Node client); the canvas copies the changed
 * rectangles, converting B,G,R,X to the canvas's R,G,B,A, once the messages of the current
 * WebSocket read are applied (a microtask): waiting for the next animation frame instead cost up
 * to a frame of latency on every draw (docs/performance.md), and the browser composites at frame
 * time anyway. Past 32 rects in one read their bounding box is copied instead.
 */
export class CanvasView {
  private readonly ctx: CanvasRenderingContext2D;
  private pending: Rect[] = [];
  private scheduled = false;
  private surface: Surface | undefined;
  /** Paints made (the overlay's frames/s). */
  frames = 0;
  /** Main-thread time spent copying surface pixels to the canvas, ms (the bench reads it). */
  paintMs = 0;
  /** Called after each paint with the time the oldest draw in it waited (ms). */
  onPaint: ((waitedMs: number) => void) | undefined;
  private oldest = 0;
  /**
   * The last ImageData painted through, reused for a rect of the same size (the bands of a large
   * image are): putImageData copies out of it, and a fresh 512 kB one a band was garbage to collect.
   */
  private scratch: ImageData | undefined;

  constructor(readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('this browser gives no 2D canvas');
    this.ctx = ctx;
  }

  /** Note what a display message changed on `primary` (already applied to it). */
  update(m: DisplayServerMessage, primary: Surface | undefined): void {
    if (primary !== this.surface) {
      this.surface = primary;
      if (!primary) return;
      this.canvas.width = primary.width;
      this.canvas.height = primary.height;
      this.invalidate(primary.bounds);
      return;
    }
    if (!primary) return;
    switch (m.kind) {
      case 'drawFill':
      case 'drawCopy':
      case 'copyBits':
        if (m.base.surfaceId === 0) this.invalidate(primary.clip(m.base.box));
        return;
      case 'surfaceCreate':
        if (m.surfaceId === 0) this.invalidate(primary.bounds);
        return;
      default:
        return;
    }
  }

  /** Repaint `r` of the primary surface at the next animation frame. */
  invalidate(r: Rect): void {
    if (rectIsEmpty(r)) return;
    if (this.pending.length === 0) this.oldest = performance.now();
    this.pending.push(r);
    if (this.pending.length > MAX_PENDING_RECTS) this.pending = [this.pending.reduce(unionRect)];
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.paint());
    }
  }

  private paint(): void {
    this.scheduled = false;
    const s = this.surface;
    const rects = this.pending;
    this.pending = [];
    if (!s) return;
    const t0 = performance.now();
    for (const r of rects) this.copyOut(s, intersectRect(r, s.bounds));
    this.paintMs += performance.now() - t0;
    this.frames++;
    this.onPaint?.(performance.now() - this.oldest);
  }

  /** BGRX surface pixels to an RGBA ImageData of the rect, opaque. */
  private copyOut(s: Surface, r: Rect): void {
    if (rectIsEmpty(r)) return;
    const w = r.right - r.left;
    const h = r.bottom - r.top;
    const img = this.imageData(w, h);
    const out = new Uint32Array(img.data.buffer);
    const px = s.pixels;
    for (let y = 0; y < h; y++) {
      let i = (r.top + y) * s.width + r.left;
      let o = y * w;
      for (let x = 0; x < w; x++, i++, o++) {
        const v = px[i]!; // 0xXXRRGGBB; ImageData on a little-endian host wants 0xAABBGGRR
        out[o] = 0xff000000 | ((v & 0xff) << 16) | (v & 0xff00) | ((v >>> 16) & 0xff);
      }
    }
    this.ctx.putImageData(img, r.left, r.top);
  }

  /** An ImageData of `w` x `h` to fill entirely: the last one when it has that size. */
  private imageData(w: number, h: number): ImageData {
    const last = this.scratch;
    if (last?.width === w && last.height === h) return last;
    const img = this.ctx.createImageData(w, h);
    // Small rects are many and cheap: only large ones are kept for the next paint.
    if (w * h >= SCRATCH_MIN_PIXELS) this.scratch = img;
    return img;
  }
}
