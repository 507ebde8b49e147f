import { copiedParts, rectContains, unionRect, type Point, type Rect } from '../protocol/geometry.js';

/**
 * Where one viewer shows lossy pixels (JPEG images), and since when: each area is sent again
 * losslessly once nothing lossy was drawn into it for a moment, so the viewer ends on the exact
 * screen. A lossless draw that covers an area makes it exact already; copy-bits from a lossy area
 * makes its destination lossy too (the viewer copies its own pixels).
 */

/** Past this many areas they merge into their bounding box (a refresh of more than needed, never less). */
const MAX_AREAS = 64;

export class LossyAreas {
  private areas: { rect: Rect; at: number }[] = [];

  get size(): number {
    return this.areas.length;
  }

  /** Lossy pixels were drawn into `rect` at `now`. */
  add(rect: Rect, now: number): void {
    this.covered(rect);
    this.areas.push({ rect, at: now });
    if (this.areas.length > MAX_AREAS) {
      const box = this.areas.map((a) => a.rect).reduce(unionRect);
      this.areas = [{ rect: box, at: now }];
    }
  }

  /** A lossless draw set every pixel of `rect`: the areas inside it are exact now. */
  covered(rect: Rect): void {
    // Asked for every draw to every viewer that takes JPEG: most draws cover no area, and a new
    // array each time was the largest per-viewer cost with 500 such viewers (bench/viewers.ts).
    if (!this.areas.some((a) => rectContains(rect, a.rect))) return;
    this.areas = this.areas.filter((a) => !rectContains(rect, a.rect));
  }

  /** Copy-bits to `dest` from the same-sized area at `src`: what it reads of lossy areas is lossy where it lands. */
  copied(dest: Rect, src: Point, now: number): void {
    // Asked for every copy-bits to every viewer, and most have no lossy area (an array each was 1 %
    // of the server's profile with 500 viewers).
    if (this.areas.length === 0) return;
    const landed = copiedParts(
      this.areas.map((a) => a.rect),
      dest,
      src,
    );
    for (const r of landed) this.add(r, now);
  }

  /** Take the areas nothing lossy was drawn into for `quietMs`: they are due for a lossless refresh. */
  takeQuiet(now: number, quietMs: number): Rect[] {
    const due = this.areas.filter((a) => now - a.at >= quietMs);
    if (due.length === 0) return [];
    this.areas = this.areas.filter((a) => now - a.at < quietMs);
    return due.map((a) => a.rect);
  }
}
