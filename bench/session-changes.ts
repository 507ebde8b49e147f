/**
 * Which of the desktop's drawings changed the picture. DAMAGE says that something was drawn, not
 * that a pixel changed: during a window drag under XFCE's compositor about one paint in eight
 * repaints the window where it already was (the next paint then moves it two steps), and such a
 * paint is nothing anyone sees, on the desktop or in a viewer. Counting it as a desktop update
 * charged the viewers with updates that never existed.
 *
 * The judge keeps its own copy of the screen and, after each batch of damage events, reads the
 * damaged rects (MIT-SHM where it works) and compares them with that copy. Errors may only ever
 * count a drawing as a change (the desktop's side of the share can only grow):
 *  - X delivers events and replies in the order they were made, so a read sent after a batch's
 *    events were received shows at least their drawing; it may also show later drawings, which
 *    can only make the batch look changed;
 *  - an event that arrives while a read is outstanding may already be in that read (and would
 *    then compare equal to it): it is always counted as a change;
 *  - a batch is unchanged only if every rect of it equals the copy; one differing rect marks the
 *    whole batch changed (which of its events drew the change is not known).
 */
import type { PixelImage } from '../src/display/pixels.js';
import type { Rect } from '../src/protocol/geometry.js';
import { openCapture, type Capture } from '../src/sources/x11/capture.js';
import type { XConnection } from '../src/sources/x11/connection.js';
import { getGeometry } from '../src/sources/x11/core.js';
import { rootPixelLayout } from '../src/sources/x11/pixel-format.js';
import { Shadow } from '../src/sources/x11/shadow.js';

/** One damage event's entry: the judge sets `changed` (left undefined while not judging). */
export interface Judged {
  rect: Rect;
  changed?: boolean;
}

interface Pending {
  readonly entry: Judged;
  /** Arrived while a read was outstanding or before the copy of the screen was complete. */
  readonly unsure: boolean;
}

export class PictureJudge {
  private shadow: Shadow | null = null;
  private pending: Pending[] = [];
  private reading = false;
  private scheduled = false;
  private active = false;
  /** Batches judged unchanged, and all batches (stats for the bench's notes). */
  unchangedBatches = 0;
  batches = 0;

  private constructor(
    private readonly conn: XConnection,
    private readonly capture: Capture,
    private width: number,
    private height: number,
  ) {}

  static async open(conn: XConnection): Promise<PictureJudge> {
    const screen = conn.screen;
    const layout = rootPixelLayout(conn.info, screen);
    const { width, height } = await getGeometry(conn, screen.root);
    const capture = await openCapture(conn, screen.root, layout, width, height, {
      useShm: true,
      log: (m) => console.error(`desktop judge: ${m}`),
    });
    return new PictureJudge(conn, capture, width, height);
  }

  /** Start judging: the whole screen is read first (events meanwhile count as changes). */
  async start(): Promise<void> {
    if (this.active) return;
    this.active = true;
    this.reading = true;
    try {
      // A viewer may have resized the desktop (--resize) since the last start.
      const { width, height } = await getGeometry(this.conn, this.conn.screen.root);
      if (width !== this.width || height !== this.height) await this.capture.resize(width, height);
      this.width = width;
      this.height = height;
      const whole = { left: 0, top: 0, right: this.width, bottom: this.height };
      const [img] = await this.capture.grab([whole]);
      const shadow = new Shadow(this.width, this.height);
      shadow.store(whole, img!);
      this.shadow = shadow;
    } finally {
      this.reading = false;
    }
    this.schedule();
  }

  /** Stop judging; entries noted from now on stay unjudged (counted as changes). */
  stop(): void {
    this.active = false;
    this.shadow = null;
    for (const p of this.pending) p.entry.changed = true;
    this.pending = [];
  }

  /** A damage event's entry, in the order received. */
  note(entry: Judged): void {
    if (!this.active) return;
    this.pending.push({ entry, unsure: this.reading || this.shadow === null });
    this.schedule();
  }

  async close(): Promise<void> {
    this.stop();
    await this.capture.close();
  }

  /** On the next turn, so that the events of one socket read form one batch. */
  private schedule(): void {
    if (this.scheduled || this.reading || this.pending.length === 0 || !this.shadow) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.judge();
    });
  }

  private async judge(): Promise<void> {
    const shadow = this.shadow;
    if (!shadow || this.reading || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const rects = batch.map((p) => clip(p.entry.rect, this.width, this.height)).filter((r) => r !== null);
    this.reading = true;
    let images: PixelImage[];
    try {
      images = await this.capture.grab(rects);
    } finally {
      this.reading = false;
    }
    // stop() may have run meanwhile: its entries are already marked.
    if (this.shadow !== shadow) return;
    const changed = rects.some((r, i) => differs(shadow, r, images[i]!));
    rects.forEach((r, i) => shadow.store(r, images[i]!));
    this.batches++;
    if (!changed) this.unchangedBatches++;
    for (const p of batch) p.entry.changed = changed || p.unsure;
    this.schedule();
  }
}

function clip(r: Rect, width: number, height: number): Rect | null {
  const c = {
    left: Math.max(0, r.left),
    top: Math.max(0, r.top),
    right: Math.min(width, r.right),
    bottom: Math.min(height, r.bottom),
  };
  return c.left < c.right && c.top < c.bottom ? c : null;
}

function differs(shadow: Shadow, r: Rect, img: PixelImage): boolean {
  for (let y = r.top; y < r.bottom; y++) if (!shadow.rowEquals(r, img, y - r.top, y)) return true;
  return false;
}
