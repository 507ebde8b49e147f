import type { PixelImage } from '../../display/pixels.js';
import type { Rect } from '../../protocol/geometry.js';

/**
 * One element of the scene (desktop, a panel, the moving window): an image placed on the screen,
 * optionally with per-pixel coverage for anti-aliased rounded corners. Coverage is summarised per row
 * as the fully opaque span, so the compositor can copy whole spans and blend only the few edge pixels.
 */
export class Layer {
  private readonly opaqueStart: Int32Array;
  private readonly opaqueEnd: Int32Array;
  /** Local rects holding pixels that are not fully opaque (they show what lies beneath). */
  readonly partialRects: readonly Rect[];

  constructor(
    readonly name: string,
    readonly image: PixelImage,
    public x: number,
    public y: number,
    /** Coverage 0..255 per pixel (width * height), or undefined for a fully opaque layer. */
    readonly alpha?: Uint8Array,
  ) {
    this.opaqueStart = new Int32Array(image.height);
    this.opaqueEnd = new Int32Array(image.height).fill(image.width);
    if (alpha !== undefined) this.summariseRows(alpha);
    this.partialRects = this.findPartialRects();
  }

  get width(): number {
    return this.image.width;
  }

  get height(): number {
    return this.image.height;
  }

  /** Where the layer sits on the screen. */
  get rect(): Rect {
    return { top: this.y, left: this.x, bottom: this.y + this.height, right: this.x + this.width };
  }

  /** The fully opaque columns [start, end) of local row j. */
  opaqueSpan(j: number): [number, number] {
    return [this.opaqueStart[j] ?? 0, this.opaqueEnd[j] ?? 0];
  }

  /** Coverage (0..255) of local pixel (lx, ly). */
  coverage(lx: number, ly: number): number {
    return this.alpha === undefined ? 255 : (this.alpha[ly * this.width + lx] ?? 0);
  }

  /** True when every pixel of the local rect is fully opaque. */
  opaqueOver(local: Rect): boolean {
    for (let j = local.top; j < local.bottom; j++) {
      const [s, e] = this.opaqueSpan(j);
      if (s > local.left || e < local.right) return false;
    }
    return true;
  }

  /** Does the screen point land on this layer (mostly covered pixel)? */
  hit(sx: number, sy: number): boolean {
    const lx = sx - this.x;
    const ly = sy - this.y;
    if (lx < 0 || ly < 0 || lx >= this.width || ly >= this.height) return false;
    return this.coverage(lx, ly) >= 128;
  }

  private summariseRows(alpha: Uint8Array): void {
    const w = this.width;
    for (let j = 0; j < this.height; j++) {
      // Rounded shapes are convex, so the opaque part of a row is one span.
      let s = 0;
      while (s < w && alpha[j * w + s] !== 255) s++;
      let e = w;
      while (e > s && alpha[j * w + e - 1] !== 255) e--;
      this.opaqueStart[j] = s;
      this.opaqueEnd[j] = e;
    }
  }

  /** Group rows with uncovered edges into bands, one rect per side. */
  private findPartialRects(): Rect[] {
    const out: Rect[] = [];
    let j = 0;
    while (j < this.height) {
      if (this.opaqueSpan(j)[0] === 0 && this.opaqueSpan(j)[1] === this.width) {
        j++;
        continue;
      }
      const top = j;
      let left = 0;
      let right = this.width;
      while (j < this.height) {
        const [s, e] = this.opaqueSpan(j);
        if (s === 0 && e === this.width) break;
        left = Math.max(left, Math.min(s, this.width));
        right = Math.min(right, Math.max(e, 0));
        j++;
      }
      if (left >= right) {
        out.push({ top, left: 0, bottom: j, right: this.width });
      } else {
        if (left > 0) out.push({ top, left: 0, bottom: j, right: left });
        if (right < this.width) out.push({ top, left: right, bottom: j, right: this.width });
      }
    }
    return out;
  }
}
