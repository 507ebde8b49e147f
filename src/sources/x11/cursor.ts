import type { CursorShape, DisplaySink } from '../../seam/index.js';
import type { PixelImage } from '../../display/pixels.js';
import type { ExtensionInfo, XConnection, XEvent } from './connection.js';
import { queryPointer, type PointerState } from './core.js';
import {
  XFIXES_CURSOR_NOTIFY,
  decodeCursorNotify,
  getCursorImage,
  selectCursorInput,
  type CursorImage,
} from './ext-xfixes.js';

/*
 * The X cursor for viewers. Shape: XFIXES tells us when the displayed cursor changes
 * (CursorNotify) and GetCursorImage gives its pixels. Position: X has no cheap "pointer moved"
 * notification for other clients' input short of XInput2, so we poll QueryPointer (30 Hz by
 * default) and emit cursorMove only when it changed. The same poll reports the modifier state,
 * which is how the source learns the Caps/Num lock state cheaply.
 */

const MAX_CURSOR = 64;

/** Premultiplied ARGB (XFIXES) to straight-alpha B,G,R,A bytes (SPICE cursor images). */
export function unpremultiply(argb: Uint32Array, width: number, height: number): PixelImage {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const p = argb[i]!;
    const a = p >>> 24;
    if (a === 0) continue;
    const un = (c: number): number => Math.min(255, Math.round((c * 255) / a));
    data[4 * i] = un(p & 0xff);
    data[4 * i + 1] = un((p >>> 8) & 0xff);
    data[4 * i + 2] = un((p >>> 16) & 0xff);
    data[4 * i + 3] = a;
  }
  return { width, height, stride: width * 4, data };
}

/** A cursor shape for viewers: at most 64x64 (cropped around the hot spot when larger). */
function cursorShape(img: CursorImage): CursorShape {
  const full = unpremultiply(img.argb, img.width, img.height);
  const w = Math.min(MAX_CURSOR, img.width);
  const h = Math.min(MAX_CURSOR, img.height);
  const x0 = Math.max(0, Math.min(img.xhot - (w >> 1), img.width - w));
  const y0 = Math.max(0, Math.min(img.yhot - (h >> 1), img.height - h));
  let image = full;
  if (w !== img.width || h !== img.height) {
    const data = Buffer.alloc(w * h * 4);
    for (let y = 0; y < h; y++)
      full.data.copy(data, y * w * 4, ((y0 + y) * img.width + x0) * 4, ((y0 + y) * img.width + x0 + w) * 4);
    image = { width: w, height: h, stride: w * 4, data };
  }
  return { id: img.serial, image, hotX: img.xhot - x0, hotY: img.yhot - y0 };
}

export interface CursorTrackerOptions {
  readonly pollMs: number;
  readonly onPointerState?: (state: PointerState) => void;
  readonly onError: (err: Error) => void;
}

export class CursorTracker {
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private lastX = Number.NaN;
  private lastY = Number.NaN;
  private shapeSerial = -1;
  private shapeFetch: Promise<void> | null = null;
  private shapeStale = false;

  constructor(
    private readonly conn: XConnection,
    private readonly xfixes: ExtensionInfo | null,
    private readonly root: number,
    private readonly sink: DisplaySink,
    private readonly opts: CursorTrackerOptions,
  ) {}

  /** Send the current shape and position, then follow both. */
  async start(): Promise<void> {
    if (this.xfixes) {
      const xfixes = this.xfixes;
      this.conn.onEvent((ev) => this.handleEvent(xfixes, ev));
      selectCursorInput(this.conn, xfixes, this.root);
      await this.fetchShape();
    }
    await this.poll();
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Ask for the pointer now (and emit a move if it changed). */
  async poll(): Promise<void> {
    if (this.polling || this.conn.isClosed) return;
    this.polling = true;
    try {
      const state = await queryPointer(this.conn, this.root);
      this.opts.onPointerState?.(state);
      if (state.sameScreen && (state.rootX !== this.lastX || state.rootY !== this.lastY)) {
        this.lastX = state.rootX;
        this.lastY = state.rootY;
        this.sink.cursor({ kind: 'cursorMove', x: state.rootX, y: state.rootY });
      }
    } catch (err) {
      if (!this.conn.isClosed) this.opts.onError(err as Error);
    } finally {
      this.polling = false;
    }
  }

  private handleEvent(xfixes: ExtensionInfo, ev: XEvent): void {
    if (ev.code !== xfixes.firstEvent + XFIXES_CURSOR_NOTIFY) return;
    if (decodeCursorNotify(ev.data).serial === this.shapeSerial) return;
    // Cursor changes come in bursts (hovering over widgets): one fetch at a time; a change that
    // arrives meanwhile makes that fetch ask once more, so the last shape always wins.
    if (this.shapeFetch) {
      this.shapeStale = true;
      return;
    }
    this.shapeFetch = this.fetchShape()
      .catch((err: unknown) => {
        if (!this.conn.isClosed) this.opts.onError(err as Error);
      })
      .finally(() => {
        this.shapeFetch = null;
      });
  }

  private async fetchShape(): Promise<void> {
    if (!this.xfixes) return;
    do {
      this.shapeStale = false;
      const img = await getCursorImage(this.conn, this.xfixes);
      if (img.serial !== this.shapeSerial) {
        this.shapeSerial = img.serial;
        this.sink.cursor({ kind: 'cursorSet', shape: cursorShape(img) });
      }
    } while (this.shapeStale);
  }
}
