import { rectContains, type Point, type Rect } from '../protocol/geometry.js';
import { cropImage } from '../display/pixels.js';
import type { Surface } from '../display/surface.js';
import { SharedImage, type DrawItem } from './display-items.js';

/** The key frame and the log are dropped this long after the last viewer joined, so an idle server holds no copy of its screen. */
export const KEY_FRAME_IDLE_MS = 10_000;

/**
 * Draws kept for joiners past the key frame, at most: a joiner replays them (each is a few bytes,
 * or an image encoded once for everybody), so the bound is on what a joiner receives and what the
 * log holds, not on CPU.
 */
export const MAX_LOG_DRAWS = 1024;

/**
 * A draw on the primary surface, as the viewers who were there got it: the very item queued for
 * all of them (fills, copy-bits), or the image they shared (copies; each viewer adds its cache state).
 */
export type LoggedDraw =
  | { kind: 'fill'; rect: Rect; item: DrawItem }
  | { kind: 'copyBits'; rect: Rect; src: Point; item: DrawItem }
  | { kind: 'copy'; rect: Rect; shared: SharedImage };

/** What a joining viewer is sent: the key frame (the whole screen as one image), then the draws since, in order. */
export interface JoinFrame {
  image: SharedImage;
  draws: readonly LoggedDraw[];
}

/**
 * The current primary surface for viewers that join, encoded once for all of them: a key frame
 * (the whole screen, captured and encoded on first use) plus a log of the draws made since (the
 * draws every viewer already got: their images are encoded once for everybody). A joiner gets the
 * key frame as one image, as a lone viewer always did (spicy-screenshot saves the first frame it
 * sees), and then the log, which brings it up to date: a screen that moves (a dragged window, a
 * ticking clock) costs a joiner no encoding at all.
 *
 * The log is bounded (MAX_LOG_DRAWS draws, copies of at most one screen of pixels); past the bound
 * it is dropped, and the next joiner captures a new key frame and starts an empty log. A later fill
 * or copy drops the logged fills and copies it covers (back to the last copy-bits, which reads what
 * is under it), as a viewer's pipe does. Nothing is kept or logged while nobody joins: the key
 * frame and the log go KEY_FRAME_IDLE_MS after the last join, and then only the pipes that still
 * hold an image keep it.
 */
export class KeyFrame {
  private image: SharedImage | undefined;
  private log: LoggedDraw[] = [];
  private logPixels = 0;
  /** A draw happened since the key frame was captured. */
  private changed = false;
  /** The log went past its bound and was dropped: the next joiner needs a new key frame. */
  private overflowed = false;
  private surface: Surface | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Key frames captured (each encoded at most once per compression), for tests and stats. */
  captured = 0;

  /** The screen for a viewer joining now. */
  take(surface: Surface): JoinFrame {
    if (surface !== this.surface) this.reset(surface);
    if (!this.image || this.overflowed) this.capture(surface);
    this.armIdle();
    return { image: this.image!, draws: this.log.slice() };
  }

  /** A draw on the primary surface (after it was applied): logged for joiners while there is a key frame. */
  record(draw: LoggedDraw): void {
    if (!this.image) return;
    this.changed = true;
    if (this.overflowed) return;
    if (draw.kind !== 'copyBits') this.dropCovered(draw.rect);
    this.log.push(draw);
    if (draw.kind === 'copy') this.logPixels += draw.shared.pixels;
    const s = this.surface!;
    if (this.log.length > MAX_LOG_DRAWS || this.logPixels > s.width * s.height) this.dropLog();
  }

  /** Forget everything (the primary surface was replaced or destroyed, or nobody joined for a while). */
  reset(surface?: Surface): void {
    this.image = undefined;
    this.log = [];
    this.logPixels = 0;
    this.changed = false;
    this.overflowed = false;
    this.surface = surface;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** A new key frame if the screen changed since the last one; the log starts empty. */
  private capture(s: Surface): void {
    if (!this.image || this.changed) {
      this.captured++;
      this.image = new SharedImage(cropImage(s, 0, 0, s.width, s.height), { x: 0, y: 0 }, s.bounds);
    }
    this.changed = false;
    this.log = [];
    this.logPixels = 0;
    this.overflowed = false;
  }

  private dropLog(): void {
    this.log = [];
    this.logPixels = 0;
    this.overflowed = true;
  }

  /** Logged fills and copies inside `rect` will be painted over: drop them, back to the last copy-bits, 64 at most. */
  private dropCovered(rect: Rect): void {
    const stop = Math.max(0, this.log.length - 64);
    for (let i = this.log.length - 1; i >= stop; i--) {
      const d = this.log[i]!;
      if (d.kind === 'copyBits') return;
      if (!rectContains(rect, d.rect)) continue;
      if (d.kind === 'copy') this.logPixels -= d.shared.pixels;
      this.log.splice(i, 1);
    }
  }

  private armIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.reset(), KEY_FRAME_IDLE_MS);
    this.idleTimer.unref();
  }
}
