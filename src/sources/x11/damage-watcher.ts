import { rect, type Rect } from '../../protocol/geometry.js';
import type { ExtensionInfo, XConnection, XEvent } from './connection.js';
import {
  DAMAGE_NOTIFY,
  DAMAGE_REPORT_RAW_RECTANGLES,
  damageCreate,
  damageDestroy,
  damageQueryVersion,
  decodeDamageNotify,
} from './ext-damage.js';
import { foldIntoBands } from './rects.js';

const RAW_BACKLOG = 1024;

/*
 * Where the root window was drawn, from DAMAGE at report level RawRectangles: every drawing
 * request's rectangle arrives as an event, and a frame takes what has accumulated here. The other
 * way (x11spice's: level NonEmpty, then DamageSubtract into an XFIXES region and FetchRegion at
 * each frame) costs a round trip to the X server before the pixels can even be asked for; with raw
 * rectangles a frame's only round trip is the one that fetches the pixels, which is what a
 * keystroke waits for. The events are 32 bytes each and come in the X server's batches; a flood
 * of small draws is folded into bands so the backlog stays bounded.
 */

export class DamageWatcher {
  private raw: Rect[] = [];

  private constructor(
    private readonly conn: XConnection,
    private readonly damageExt: ExtensionInfo,
    private readonly damage: number,
    private readonly onDamage: () => void,
  ) {}

  /** Start watching `root`. Returns null when the server has no DAMAGE extension. */
  static async open(conn: XConnection, root: number, onDamage: () => void): Promise<DamageWatcher | null> {
    const ext = await conn.extension('DAMAGE');
    if (!ext) return null;
    conn.nameErrors(ext, ['BadDamage']);
    await damageQueryVersion(conn, ext);
    const damage = conn.allocId();
    const watcher = new DamageWatcher(conn, ext, damage, onDamage);
    conn.onEvent((ev) => watcher.handleEvent(ev));
    // The caller sends the full screen after this: whatever was drawn before is in it.
    await damageCreate(conn, ext, damage, root, DAMAGE_REPORT_RAW_RECTANGLES);
    return watcher;
  }

  /** Everything drawn since the last call (events read so far; emptied). */
  takeRects(): Rect[] {
    const out = this.raw;
    this.raw = [];
    return out;
  }

  close(): void {
    if (this.conn.isClosed) return;
    damageDestroy(this.conn, this.damageExt, this.damage);
  }

  private handleEvent(ev: XEvent): void {
    if (ev.code !== this.damageExt.firstEvent + DAMAGE_NOTIFY) return;
    const notify = decodeDamageNotify(ev.data);
    if (notify.damage !== this.damage) return;
    const a = notify.area;
    this.raw.push(rect(a.x, a.y, a.width, a.height));
    // Keep the backlog bounded when frames fall behind a flood of small draws.
    if (this.raw.length > RAW_BACKLOG) this.raw = foldIntoBands(this.raw, 64);
    this.onDamage();
  }
}
