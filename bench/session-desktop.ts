/**
 * The desktop's own side of the session soak: an X client on the desktop's display (our own X
 * protocol code from src/sources/x11, as a second client next to the server's) that timestamps
 * every DAMAGE rectangle drawn on the screen, and reads the screen itself for the final check.
 * What the desktop drew, and when, is the reference the viewers are measured against.
 */
import type { PixelImage } from '../src/display/pixels.js';
import type { Rect } from '../src/protocol/geometry.js';
import { XConnection, type ExtensionInfo, type XEvent } from '../src/sources/x11/connection.js';
import { getGeometry, getImage } from '../src/sources/x11/core.js';
import {
  DAMAGE_NOTIFY,
  DAMAGE_REPORT_RAW_RECTANGLES,
  damageCreate,
  damageQueryVersion,
  decodeDamageNotify,
} from '../src/sources/x11/ext-damage.js';
import { PictureJudge } from './session-changes.js';
import { monoMs } from './x11-server.js';

/** Something drawn: when (monotonic ms) and where. */
export interface Drawn {
  atMs: number;
  rect: Rect;
  /** False when the drawing changed no pixel (judged only while judging is on: bench/session-changes.ts). */
  changed?: boolean;
}

/** At most this many damage events are kept (a minute of a busy desktop is far fewer). */
const LOG_LIMIT = 500_000;

const U32 = 2 ** 32;

/**
 * An X server timestamp (ms of its CLOCK_MONOTONIC, cut to 32 bits; DamageNotify carries the time
 * the drawing request was dispatched) as monotonic ms of this machine, given the time now. The
 * event's own time is used, not its arrival here: this process also decodes the measuring viewer's
 * images, and a busy moment would otherwise bunch many drawings into one.
 */
export function xTimeToMono(xMs: number, nowMs: number): number {
  const now = Math.floor(nowMs);
  let behind = (now - xMs) % U32;
  if (behind < 0) behind += U32;
  // A time a little ahead (the two clocks are read at different ms boundaries) wraps to ~2^32.
  if (behind > U32 / 2) behind -= U32;
  return now - behind;
}

export class DesktopWatch {
  /** Every damage rectangle since the last take(), oldest first. */
  private log: Drawn[] = [];

  private constructor(
    private readonly conn: XConnection,
    private readonly damageExt: ExtensionInfo,
    private readonly damage: number,
    /** Tells drawings that changed pixels from those that did not, while on (judgeChanges). */
    readonly judge: PictureJudge,
  ) {}

  /** Watch `display` (no Xauthority: the server's Xvfb has none). */
  static async open(display: string): Promise<DesktopWatch> {
    const conn = await XConnection.connect(display, { xauthority: null });
    const ext = await conn.extension('DAMAGE');
    if (!ext) throw new Error(`session soak: X display ${display} has no DAMAGE extension`);
    await damageQueryVersion(conn, ext);
    const damage = conn.allocId();
    const watch = new DesktopWatch(conn, ext, damage, await PictureJudge.open(conn));
    conn.onEvent((ev) => watch.onEvent(ev));
    // Raw rectangles: one event per drawing request, each timestamped on arrival.
    await damageCreate(conn, ext, damage, conn.screen.root, DAMAGE_REPORT_RAW_RECTANGLES);
    return watch;
  }

  /** The damage log since the last call (emptied). */
  take(): Drawn[] {
    const out = this.log;
    this.log = [];
    return out;
  }

  /**
   * The screen as the X server holds it (the desktop's own screenshot), at the root window's size
   * now: a viewer may have resized the desktop since this connection's setup reply.
   */
  async screenshot(): Promise<PixelImage> {
    const { width, height } = await getGeometry(this.conn, this.conn.screen.root);
    return this.grab({ left: 0, top: 0, right: width, bottom: height });
  }

  /** `rect` of the screen as the X server holds it (32-bit pixels, rows packed). */
  async grab(rect: Rect): Promise<PixelImage> {
    const width = rect.right - rect.left;
    const height = rect.bottom - rect.top;
    const reply = await getImage(this.conn, this.conn.screen.root, rect.left, rect.top, width, height);
    if (reply.data.length < width * height * 4) {
      throw new Error(`desktop watch: GetImage returned ${reply.data.length} bytes for ${width}x${height}`);
    }
    // Copied: the reply buffer belongs to the connection's decoder.
    return { width, height, stride: width * 4, data: Buffer.from(reply.data.subarray(0, width * height * 4)) };
  }

  close(): void {
    this.conn.close();
    // With the connection closed this only unmaps our side of the judge's shared segment.
    this.judge.close().catch((err: unknown) => console.error(`desktop watch: ${String(err)}`));
  }

  /** Judge from now on which drawings changed pixels (Drawn.changed), e.g. during a drag. */
  judgeChanges(): Promise<void> {
    return this.judge.start();
  }

  stopJudging(): void {
    this.judge.stop();
  }

  private onEvent(ev: XEvent): void {
    if (ev.code !== this.damageExt.firstEvent + DAMAGE_NOTIFY) return;
    const n = decodeDamageNotify(ev.data);
    if (n.damage !== this.damage) return;
    const a = n.area;
    if (this.log.length >= LOG_LIMIT) return;
    const rect = { left: a.x, top: a.y, right: a.x + a.width, bottom: a.y + a.height };
    const entry: Drawn = { atMs: xTimeToMono(ev.data.readUInt32LE(12), monoMs()), rect };
    this.log.push(entry);
    this.judge.note(entry);
  }
}
