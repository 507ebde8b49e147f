import type { Rect } from '../protocol/geometry.js';
import { cropImage } from '../display/pixels.js';
import type { Surface } from '../display/surface.js';
import { SharedImage } from './display-items.js';

/** Rows per band: the taskbar clock or a blinking cursor invalidates 64 rows, not the whole screen. */
export const BAND_ROWS = 64;

/** A cached band is dropped this long after the last viewer took it, so an idle server holds no copy of its screen. */
export const BAND_IDLE_MS = 10_000;

/**
 * The current primary surface as horizontal bands, each captured and encoded once and shared by
 * every viewer that joins while it is unchanged: the whole frame a late joiner gets costs one
 * encoding per changed band, not one per viewer. Each viewer still adds its own descriptor, image
 * id and cache flags when the band leaves (copyItem).
 *
 * A band is valid until a draw touches its rows (`invalidate`, called for every primary update);
 * then it is forgotten, and the viewers whose pipes still hold it keep the only references: a
 * shared capture is freed once nobody will send it. After BAND_IDLE_MS without a joiner every band
 * is released.
 */
export class ScreenBands {
  private bands: (SharedImage | undefined)[] = [];
  private surface: Surface | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Bands captured (each encoded at most once per compression), for tests and stats. */
  captured = 0;

  /** The screen's bands, top to bottom; unchanged ones are those handed out before. */
  take(surface: Surface): SharedImage[] {
    if (surface !== this.surface) this.reset(surface);
    const count = Math.ceil(surface.height / BAND_ROWS);
    const out: SharedImage[] = [];
    for (let i = 0; i < count; i++) out.push((this.bands[i] ??= this.capture(surface, i)));
    this.armIdle();
    return out;
  }

  /** Pixels in `rect` changed: the bands it crosses must be captured again. */
  invalidate(rect: Rect): void {
    if (this.bands.length === 0) return;
    const last = Math.min(this.bands.length, Math.ceil(rect.bottom / BAND_ROWS));
    for (let i = Math.max(0, Math.floor(rect.top / BAND_ROWS)); i < last; i++) this.bands[i] = undefined;
  }

  /** Forget every band (the primary surface was replaced or destroyed, or nobody joined for a while). */
  reset(surface?: Surface): void {
    this.bands = [];
    this.surface = surface;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
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
