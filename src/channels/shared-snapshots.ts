import { rectIsEmpty, intersectRect, type Rect } from '../protocol/geometry.js';
import type { Surface } from '../display/surface.js';
import { snapshotImage, type SharedImage } from './display-items.js';

/** Snapshots kept at once; past this the oldest goes (a busy desktop invalidates most well before). */
const MAX_ENTRIES = 256;
/** Pixels kept at once (raw, 4 bytes each): about two 1920x1080 screens. */
const MAX_PIXELS = 4 << 20;

interface Entry {
  readonly surface: Surface;
  readonly image: SharedImage;
}

/**
 * Fresh images of the primary surface's current pixels (a lagging viewer's damaged tiles, a lossy
 * area's lossless refresh) shared by the viewers that ask for the same rectangle while nothing was
 * drawn into it. Each viewer used to take its own snapshot, so every one of hundreds of viewers
 * whose link looked thin cropped and encoded (QUIC) the same refresh of the same area for itself:
 * in a profile of 500 viewers of the demo that was a fifth of the server's time. Viewers in the
 * same state ask for the same rectangles (their lossy areas come from the same shared draws), so
 * they now get the same SharedImage: cropped and encoded once, one id for all, the same message
 * objects (and so shared flushes).
 * A draw into the primary drops every snapshot it touches (onDraw), so a snapshot handed out
 * always holds the surface's current pixels of its rectangle.
 */
export class SharedSnapshots {
  /** By rectangle, oldest first. */
  private readonly entries = new Map<string, Entry>();
  private pixels = 0;
  /** Snapshots taken, and handed out again (stats and tests). */
  taken = 0;
  reused = 0;

  /** The current pixels of `rect` on `surface`: the snapshot another viewer took if nothing changed there since. */
  take(surface: Surface, rect: Rect): SharedImage {
    const key = rectKey(rect);
    const e = this.entries.get(key);
    if (e && e.surface === surface) {
      this.reused++;
      return e.image;
    }
    if (e) this.remove(key, e);
    const image = snapshotImage(surface, rect);
    this.taken++;
    this.entries.set(key, { surface, image });
    this.pixels += image.pixels;
    this.bound();
    return image;
  }

  /** `rect` of the primary surface was drawn into: snapshots that overlap it no longer hold its pixels. */
  onDraw(rect: Rect): void {
    if (this.entries.size === 0) return;
    for (const [key, e] of this.entries) if (!rectIsEmpty(intersectRect(e.image.rect, rect))) this.remove(key, e);
  }

  /** The primary surface was created or destroyed. */
  clear(): void {
    this.entries.clear();
    this.pixels = 0;
  }

  private remove(key: string, e: Entry): void {
    this.entries.delete(key);
    this.pixels -= e.image.pixels;
  }

  private bound(): void {
    for (const [key, e] of this.entries) {
      if (this.entries.size <= MAX_ENTRIES && this.pixels <= MAX_PIXELS) return;
      this.remove(key, e);
    }
  }
}

function rectKey(r: Rect): string {
  return `${r.left},${r.top},${r.right},${r.bottom}`;
}
