import { intersectRect, rectIsEmpty, type Point, type Rect, makeRect } from '../protocol/geometry.js';
import { copyRect, type PixelImage } from './pixels.js';

/**
 * A server-side surface: 32-bit pixels (bytes B,G,R,X), tightly packed. It is the truth that every
 * viewer's framebuffer must equal after its pipe drains.
 */
export class Surface implements PixelImage {
  readonly stride: number;
  readonly data: Buffer;
  /** The same memory as u32 pixels (little-endian hosts: 0xXXRRGGBB). */
  readonly pixels: Uint32Array;
  private drawn = false;

  /** `memory`, when given, must be exactly stride * height zero bytes (a recycled surface's). */
  constructor(
    readonly id: number,
    readonly width: number,
    readonly height: number,
    memory?: Buffer,
  ) {
    this.stride = width * 4;
    if (memory && memory.length !== this.stride * height)
      throw new RangeError(`surface ${id}: ${memory.length} bytes of memory for ${width}x${height}`);
    this.data = memory ?? Buffer.alloc(this.stride * height);
    this.pixels = new Uint32Array(this.data.buffer, this.data.byteOffset, width * height);
  }

  /** True until something draws on it: every pixel is still 0 (then a viewer needs no image of it). */
  get blank(): boolean {
    return !this.drawn;
  }

  get bounds(): Rect {
    return { top: 0, left: 0, bottom: this.height, right: this.width };
  }

  /** The part of `r` that lies on this surface (may be empty). */
  clip(r: Rect): Rect {
    return intersectRect(r, this.bounds);
  }

  fill(r: Rect, color: number): Rect {
    const c = this.clip(r);
    if (rectIsEmpty(c)) return c;
    this.drawn = true;
    const value = color >>> 0;
    for (let y = c.top; y < c.bottom; y++) this.pixels.fill(value, y * this.width + c.left, y * this.width + c.right);
    return c;
  }

  /**
   * Copy from `img` (area starting at `src`) into `dest`. Returns the destination rect actually
   * written (clipped to both the surface and the image).
   */
  putImage(dest: Rect, img: PixelImage, src: Point = { x: 0, y: 0 }): Rect {
    const c = this.clip(dest);
    const sx0 = src.x + (c.left - dest.left);
    const sy0 = src.y + (c.top - dest.top);
    const w = Math.min(c.right - c.left, img.width - sx0);
    const h = Math.min(c.bottom - c.top, img.height - sy0);
    if (w <= 0 || h <= 0 || sx0 < 0 || sy0 < 0) return makeRect(c.top, c.left, c.top, c.left);
    const out = makeRect(c.top, c.left, c.top + h, c.left + w);
    this.drawn = true;
    copyRect(img, sx0, sy0, this, c.left, c.top, w, h);
    return out;
  }

  /**
   * Move the area at `src` (of `dest`'s size) to `dest`, correct for overlapping areas (rows are
   * walked bottom-up when moving down; copyWithin is memmove within a row).
   *
   * Moved windows and scrolls make this the surface's heaviest operation (every pixel of a window
   * per step of a drag), so it works on the u32 view: copyWithin is one memmove per row, where
   * Buffer.copy also checked its arguments and made a view of the source for every row. An area
   * of whole rows moved vertically (a full-width scroll) is one contiguous block: one memmove.
   */
  copyBits(src: Point, dest: Rect): Rect {
    // Clip destination and source together so both stay on the surface.
    const dx = dest.left - src.x;
    const dy = dest.top - src.y;
    let c = this.clip(dest);
    c = intersectRect(c, { top: dy, left: dx, bottom: this.height + dy, right: this.width + dx });
    if (rectIsEmpty(c)) return c;
    const width = this.width;
    const pixels = this.pixels;
    const shift = dy * width + dx; // how far each pixel moves, in pixels
    if (dx === 0 && c.left === 0 && c.right === width) {
      pixels.copyWithin(c.top * width, c.top * width - shift, c.bottom * width - shift);
      return c;
    }
    const rowPixels = c.right - c.left;
    if (dy > 0) {
      for (let y = c.bottom - 1; y >= c.top; y--) {
        const to = y * width + c.left;
        pixels.copyWithin(to, to - shift, to - shift + rowPixels);
      }
    } else {
      for (let y = c.top; y < c.bottom; y++) {
        const to = y * width + c.left;
        pixels.copyWithin(to, to - shift, to - shift + rowPixels);
      }
    }
    return c;
  }

  /** Copy an area of another surface into `dest`. */
  blitFrom(other: Surface, src: Point, dest: Rect): Rect {
    return this.putImage(dest, other, src);
  }
}
