import { rectContains, type Point, type Rect } from '../protocol/geometry.js';
import { cropImage } from '../display/pixels.js';
import type { Surface } from '../display/surface.js';
import { SharedImage } from './display-items.js';

/** Rows per band: the taskbar clock or a blinking cursor touches 64 rows, not the whole screen. */
export const BAND_ROWS = 64;

/** Everything is dropped this long after the last viewer joined, so an idle server holds no copy of its screen. */
export const BAND_IDLE_MS = 10_000;

/**
 * Draws kept for joiners past the bands, at most: a joiner replays them (each is a few bytes, or
 * an image encoded once for everybody), so the bound is on what a joiner receives and what the log
 * holds, not on CPU.
 */
export const MAX_LOG_DRAWS = 1024;

/** A draw on the primary surface, as the viewers who were there got it; a copy carries the image they shared. */
export type LoggedDraw =
  | { kind: 'fill'; rect: Rect; color: number }
  | { kind: 'copy'; rect: Rect; shared: SharedImage }
  | { kind: 'copyBits'; rect: Rect; src: Point };

/** What a joining viewer is sent: the bands as captured, then the draws since, in order. */
export interface JoinFrame {
  bands: readonly SharedImage[];
  draws: readonly LoggedDraw[];
}

/**
 * The current primary surface for viewers that join, encoded once for all of them. It is a key
 * frame of horizontal bands, each captured and encoded on first use, plus a log of the draws made
 * since (the draws every viewer already got: their images are encoded once for everybody). A
 * joiner gets the bands and then the log, which brings the stale bands up to date, so a screen
 * that moves (a dragged window, a ticking clock) costs a joiner no encoding at all.
 *
 * The log is bounded (MAX_LOG_DRAWS draws, copies of at most one screen of pixels); past the bound
 * it is dropped, and the next joiner captures again the bands that changed since the key frame and
 * starts an empty log. A later fill or copy drops the logged fills and copies it covers (back to
 * the last copy-bits, which reads what is under it), as a viewer's pipe does. Nothing is kept or
 * logged while nobody joins: the bands and the log go BAND_IDLE_MS after the last join, and then
 * only the pipes that still hold a band or an image keep it.
 */
export class ScreenBands {
  private bands: SharedImage[] = [];
  /** Per band: a draw touched it since it was captured. */
  private dirty: boolean[] = [];
  private log: LoggedDraw[] = [];
  private logPixels = 0;
  /** The log went past its bound and was dropped: the next joiner needs fresh bands. */
  private overflowed = false;
  private surface: Surface | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Bands captured (each encoded at most once per compression), for tests and stats. */
  captured = 0;

  /** The screen for a viewer joining now. */
  take(surface: Surface): JoinFrame {
    if (surface !== this.surface) this.reset(surface);
    if (this.bands.length === 0 || this.overflowed) this.refresh(surface);
    this.armIdle();
    return { bands: this.bands.slice(), draws: this.log.slice() };
  }

  /** A draw on the primary surface (after it was applied): log it for joiners, or note the bands it spoils. */
  record(draw: LoggedDraw): void {
    if (this.bands.length === 0) return;
    const r = draw.rect;
    const last = Math.min(this.bands.length, Math.ceil(r.bottom / BAND_ROWS));
    for (let i = Math.max(0, Math.floor(r.top / BAND_ROWS)); i < last; i++) this.dirty[i] = true;
    if (this.overflowed) return;
    if (draw.kind !== 'copyBits') this.dropCovered(r);
    this.log.push(draw);
    if (draw.kind === 'copy') this.logPixels += draw.shared.pixels;
    const s = this.surface!;
    if (this.log.length > MAX_LOG_DRAWS || this.logPixels > s.width * s.height) this.dropLog();
  }

  /** Forget everything (the primary surface was replaced or destroyed, or nobody joined for a while). */
  reset(surface?: Surface): void {
    this.bands = [];
    this.dirty = [];
    this.log = [];
    this.logPixels = 0;
    this.overflowed = false;
    this.surface = surface;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** Capture the bands that are missing or changed, so that the bands alone are the screen again. */
  private refresh(s: Surface): void {
    const count = Math.ceil(s.height / BAND_ROWS);
    for (let i = 0; i < count; i++) {
      if (this.bands[i] === undefined || this.dirty[i]) this.bands[i] = this.capture(s, i);
      this.dirty[i] = false;
    }
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

  private capture(s: Surface, i: number): SharedImage {
    this.captured++;
    const top = i * BAND_ROWS;
    const bottom = Math.min(s.height, top + BAND_ROWS);
    const rect = { top, left: 0, bottom, right: s.width };
    return new SharedImage(cropImage(s, 0, top, s.width, bottom - top), { x: 0, y: 0 }, rect);
  }

  private armIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.reset(), BAND_IDLE_MS);
    this.idleTimer.unref();
  }
}
