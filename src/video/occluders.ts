import { intersectRect, rectContains, rectIsEmpty, unionRect, type Rect } from '../protocol/geometry.js';
import type { PixelImage } from '../seam/index.js';
import { subtractRect } from './rects.js';

/**
 * What covers a part of a stream: a window over the video, a letterbox drawn as a fill. Those parts
 * are clipped out of the stream (STREAM_CLIP), so viewers keep the exact pixels they were drawn
 * with instead of a JPEG of them. An occluder stays for as long as its pixels do: it goes only when
 * video is drawn there and changes them (the window closed or moved away, the video plays there
 * again). Neither time nor a video draw's box says so on its own: a window stays over a video for
 * minutes, and the X11 capture sends a frame's changed rows as bands whose box crosses a window in
 * the middle of the video, with the window's own, unchanged, pixels there.
 */

interface Occluder {
  rect: Rect;
  /** The surface's pixels of `rect` when it was last drawn by something that is not video (B,G,R,X rows). */
  pixels: Buffer;
}

/** Occluders kept per stream; past this they merge into one box. */
export const MAX_OCCLUDERS = 16;

export class Occluders {
  private list: Occluder[] = [];

  get rects(): Rect[] {
    return this.list.map((o) => o.rect);
  }

  get size(): number {
    return this.list.length;
  }

  /** Something that is not video was drawn over `rect` (inside the stream): it is kept out of it. */
  add(rect: Rect, surface: PixelImage): void {
    for (const o of this.list) {
      const part = intersectRect(o.rect, rect);
      // Its pixels changed by a draw that is not video: what video must change from now on.
      if (!rectIsEmpty(part)) storePixels(o, part, surface);
    }
    if (this.list.some((o) => rectContains(o.rect, rect))) return;
    this.list = this.list.filter((o) => !rectContains(rect, o.rect));
    this.list.push(snapshot(rect, surface));
    if (this.list.length > MAX_OCCLUDERS) this.list = [snapshot(this.rects.reduce(unionRect), surface)];
  }

  /**
   * Video was drawn over `rect`: the occluders lose the box of the pixels it changed in them (the
   * rest of each stays, exact). Says whether any changed.
   */
  videoDrawn(rect: Rect, surface: PixelImage): boolean {
    let changed = false;
    const kept: Occluder[] = [];
    for (const o of this.list) {
      const part = intersectRect(o.rect, rect);
      const box = rectIsEmpty(part) ? undefined : changedBox(o, part, surface);
      if (!box) {
        kept.push(o);
        continue;
      }
      changed = true;
      // What is left of it lies outside the changed box: its pixels are the stored ones still.
      for (const r of subtractRect(o.rect, box)) kept.push(snapshot(r, surface));
    }
    this.list = kept;
    return changed;
  }
}

function snapshot(rect: Rect, surface: PixelImage): Occluder {
  const o = { rect, pixels: Buffer.allocUnsafe((rect.right - rect.left) * (rect.bottom - rect.top) * 4) };
  storePixels(o, rect, surface);
  return o;
}

/** Copy `part` (inside o.rect) of the surface into the occluder's pixels. */
function storePixels(o: Occluder, part: Rect, surface: PixelImage): void {
  const width = o.rect.right - o.rect.left;
  const n = (part.right - part.left) * 4;
  for (let y = part.top; y < part.bottom; y++) {
    const from = y * surface.stride + part.left * 4;
    const to = ((y - o.rect.top) * width + part.left - o.rect.left) * 4;
    surface.data.copy(o.pixels, to, from, from + n);
  }
}

/** The bounding box of the pixels of `part` (inside o.rect) that differ from the occluder's, if any. */
function changedBox(o: Occluder, part: Rect, surface: PixelImage): Rect | undefined {
  const width = o.rect.right - o.rect.left;
  const n = (part.right - part.left) * 4;
  let box: Rect | undefined;
  for (let y = part.top; y < part.bottom; y++) {
    const from = y * surface.stride + part.left * 4;
    const at = ((y - o.rect.top) * width + part.left - o.rect.left) * 4;
    // Whole rows by memcmp; the columns only of rows that differ.
    if (surface.data.compare(o.pixels, at, at + n, from, from + n) === 0) continue;
    let left = 0;
    while (surface.data.readUInt32LE(from + left * 4) === o.pixels.readUInt32LE(at + left * 4)) left++;
    let right = n / 4;
    while (surface.data.readUInt32LE(from + (right - 1) * 4) === o.pixels.readUInt32LE(at + (right - 1) * 4)) right--;
    const row = { top: y, left: part.left + left, bottom: y + 1, right: part.left + right };
    box = box ? unionRect(box, row) : row;
  }
  return box;
}
