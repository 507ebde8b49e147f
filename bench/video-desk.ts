/**
 * The desktop's side of the video bench: an X client on the served display (DesktopWatch, our own X
 * protocol code) that notes when each numbered frame of the clip was drawn on the screen (DAMAGE on
 * the frame-number stripe, then the stripe read back), and reads the whole screen for the final
 * check. Works on spiced's Xvfb and on Xspice's Xorg alike.
 */
import { intersectRect, rectIsEmpty, type Rect } from '../src/protocol/geometry.js';
import type { PixelImage } from '../src/display/pixels.js';
import { DesktopWatch } from './session-desktop.js';
import { readFrameNumber } from './video-clip.js';

/** How often the damage log is looked at (a frame lasts 40 ms). */
const POLL_MS = 5;

export interface DrawnFrame {
  n: number;
  /** Monotonic ms (the X server's timestamp of the drawing). */
  atMs: number;
}

export class DeskFrames {
  readonly drawn: DrawnFrame[] = [];
  private last: number | undefined;
  private busy = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly watch: DesktopWatch,
    private readonly stripe: Rect,
  ) {
    this.timer = setInterval(() => void this.poll(), POLL_MS);
  }

  static async open(display: string, stripe: Rect): Promise<DeskFrames> {
    return new DeskFrames(await DesktopWatch.open(display), stripe);
  }

  /**
   * The damage since the last look: if the stripe was drawn, read it back and note the frame it shows
   * at the time of its latest drawing (a frame drawn in between is missed, not misdated: it is rare
   * at 40 ms a frame and a 5 ms poll).
   */
  private async poll(): Promise<void> {
    if (this.busy || this.closed) return;
    this.busy = true;
    try {
      let at: number | undefined;
      for (const d of this.watch.take()) {
        if (!rectIsEmpty(intersectRect(d.rect, this.stripe))) at = Math.max(at ?? 0, d.atMs);
      }
      if (at === undefined) return;
      const img = await this.watch.grab(this.stripe).catch((err: unknown) => {
        // Closed while the read was on its way (the run is over): nothing more to note.
        if (this.closed) return undefined;
        throw err;
      });
      if (!img) return;
      const n = readFrameNumber({ data: img.data, stride: img.stride, channels: 4 }, 0, 0);
      if (n === undefined || n === this.last) return;
      this.last = n;
      this.drawn.push({ n, atMs: at });
    } finally {
      this.busy = false;
    }
  }

  /** When frame `n` was last drawn before `beforeMs` (the clip loops: numbers come again). */
  drawnAt(n: number, beforeMs: number): number | undefined {
    for (let i = this.drawn.length - 1; i >= 0; i--) {
      const d = this.drawn[i]!;
      if (d.n === n && d.atMs <= beforeMs) return d.atMs;
    }
    return undefined;
  }

  /** Frames the desktop drew between two times. */
  countDrawn(fromMs: number, toMs: number): number {
    return this.drawn.filter((d) => d.atMs >= fromMs && d.atMs < toMs).length;
  }

  screenshot(): Promise<PixelImage> {
    return this.watch.screenshot();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.watch.close();
  }
}
