import type { DisplaySink } from '../../seam/index.js';
import { cropImage, type PixelImage } from '../../display/pixels.js';
import { makeRect, type Rect } from '../../protocol/geometry.js';
import { bands, type Capture } from './capture.js';
import { coalesceRects } from './rects.js';
import { findMove } from './move.js';
import { findVerticalScroll } from './scroll.js';
import { Shadow } from './shadow.js';

/*
 * Turns "these rects may have changed" into display commands for one primary surface of a fixed
 * size: coalesce, fetch the pixels (one pipelined round trip), drop rows equal to what was sent,
 * detect vertical scrolls, emit copyBits + copy commands, and keep the shadow in step.
 * Captured images are lent (they may view the capture's shared segment until the next grab): what
 * is sent is copied out of them, exactly the changed rows, into images the sink may keep.
 */

const PRIMARY_SURFACE = 0;
const BAND_ROWS = 64;

export interface UpdaterOptions {
  readonly maxRects: number;
  readonly detectScroll: boolean;
}

export interface UpdateStats {
  frames: number;
  rectsFetched: number;
  pixelsFetched: number;
  copies: number;
  copyBits: number;
  /** copyBits that moved a window sideways or diagonally (vertical scrolls are counted in copyBits only). */
  moves: number;
}

export class ScreenUpdater {
  readonly shadow: Shadow;
  readonly stats: UpdateStats = { frames: 0, rectsFetched: 0, pixelsFetched: 0, copies: 0, copyBits: 0, moves: 0 };

  constructor(
    private readonly sink: DisplaySink,
    private readonly capture: Capture,
    readonly width: number,
    readonly height: number,
    private readonly opts: UpdaterOptions,
  ) {
    this.shadow = new Shadow(width, height);
  }

  get bounds(): Rect {
    return { top: 0, left: 0, bottom: this.height, right: this.width };
  }

  /** Create the primary surface and send every pixel, in bands. */
  async sendFullScreen(): Promise<void> {
    this.sink.display({
      kind: 'surfaceCreate',
      surfaceId: PRIMARY_SURFACE,
      width: this.width,
      height: this.height,
      primary: true,
    });
    const rects = bands(this.bounds, BAND_ROWS);
    const images = await this.capture.grab(rects);
    rects.forEach((r, i) => {
      const img = images[i]!;
      this.shadow.store(r, img);
      this.emitCopy(r, img, r);
    });
  }

  /**
   * Fetch whatever changed inside `rects` and, once `beforeSend` resolves (the viewers are ready for
   * a frame), send it. The fetched images stay lent meanwhile: no other grab runs until this returns.
   */
  async refresh(rects: readonly Rect[], beforeSend: () => Promise<void> = () => Promise.resolve()): Promise<void> {
    const fetch = coalesceRects(rects, { bounds: this.bounds, maxRects: this.opts.maxRects });
    if (fetch.length === 0) return;
    this.stats.frames++;
    const images = await this.capture.grab(fetch);
    await beforeSend();
    fetch.forEach((r, i) => this.apply(r, images[i]!));
  }

  /** `img` is the current content of `rect`: send the difference from the shadow. */
  apply(rect: Rect, img: PixelImage): void {
    this.stats.rectsFetched++;
    this.stats.pixelsFetched += (rect.right - rect.left) * (rect.bottom - rect.top);
    if (this.opts.detectScroll && !this.applyScroll(rect, img)) this.applyMove(rect, img);
    for (const box of this.shadow.changedBoxes(rect, img)) {
      this.shadow.store(rect, img, box);
      this.emitCopy(rect, img, box);
    }
  }

  private applyScroll(rect: Rect, img: PixelImage): boolean {
    const move = findVerticalScroll(this.shadow, rect, img);
    if (!move) return false;
    const dest = makeRect(move.top, rect.left, move.bottom, rect.right);
    this.emitCopyBits({ x: rect.left, y: move.top + move.dy }, dest);
    return true;
  }

  /** A window moved inside rect: move what viewers have instead of sending it again. */
  private applyMove(rect: Rect, img: PixelImage): void {
    const move = findMove(this.shadow, rect, img);
    if (!move) return;
    this.emitCopyBits({ x: move.dest.left - move.dx, y: move.dest.top - move.dy }, move.dest);
    this.stats.moves++;
  }

  private emitCopyBits(src: { x: number; y: number }, dest: Rect): void {
    this.sink.display({ kind: 'copyBits', surfaceId: PRIMARY_SURFACE, src, dest });
    this.shadow.copyBits(src, dest);
    this.stats.copyBits++;
  }

  /** Send `box` (absolute, inside rect) from the lent `img` (which covers all of rect) as an image of its own. */
  private emitCopy(rect: Rect, img: PixelImage, box: Rect): void {
    const image = cropImage(img, box.left - rect.left, box.top - rect.top, box.right - box.left, box.bottom - box.top);
    this.sink.display({ kind: 'copy', surfaceId: PRIMARY_SURFACE, dest: box, image });
    this.stats.copies++;
  }
}
