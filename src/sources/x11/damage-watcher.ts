import type { Rect } from '../../protocol/geometry.js';
import type { ExtensionInfo, XConnection, XEvent } from './connection.js';
import {
  DAMAGE_NOTIFY,
  DAMAGE_REPORT_NON_EMPTY,
  DAMAGE_REPORT_RAW_RECTANGLES,
  damageCreate,
  damageDestroy,
  damageQueryVersion,
  damageSubtract,
  decodeDamageNotify,
} from './ext-damage.js';
import { createRegion, destroyRegion, fetchRegion } from './ext-xfixes.js';
import { foldIntoBands } from './rects.js';

const RAW_BACKLOG = 1024;

/*
 * Where the root window was drawn, from DAMAGE. Preferred mode (like x11spice): report level
 * NonEmpty plus an XFIXES region; one event announces "something was drawn", and the frame
 * atomically moves the accumulated region into our region (DamageSubtract) and fetches its
 * rectangles. Without XFIXES regions (version < 2) we fall back to RawRectangles events, whose
 * rects we accumulate ourselves.
 */

export class DamageWatcher {
  private readonly raw: Rect[] = [];

  private constructor(
    private readonly conn: XConnection,
    private readonly damageExt: ExtensionInfo,
    private readonly xfixes: ExtensionInfo | null,
    private readonly damage: number,
    private readonly region: number,
    private readonly onDamage: () => void,
  ) {}

  get mode(): 'region' | 'raw' {
    return this.xfixes ? 'region' : 'raw';
  }

  /**
   * Start watching `root`. `xfixes` must already be version-negotiated (>= 2) or null.
   * Returns null when the server has no DAMAGE extension.
   */
  static async open(
    conn: XConnection,
    root: number,
    xfixes: ExtensionInfo | null,
    onDamage: () => void,
  ): Promise<DamageWatcher | null> {
    const ext = await conn.extension('DAMAGE');
    if (!ext) return null;
    conn.nameErrors(ext, ['BadDamage']);
    await damageQueryVersion(conn, ext);
    const damage = conn.allocId();
    let region = 0;
    if (xfixes) {
      region = conn.allocId();
      createRegion(conn, xfixes, region);
    }
    const watcher = new DamageWatcher(conn, ext, xfixes, damage, region, onDamage);
    conn.onEvent((ev) => watcher.handleEvent(ev));
    await damageCreate(conn, ext, damage, root, xfixes ? DAMAGE_REPORT_NON_EMPTY : DAMAGE_REPORT_RAW_RECTANGLES);
    // A new damage object starts with the whole window damaged; the caller sends the full
    // screen next anyway, so start from an empty region.
    damageSubtract(conn, ext, damage, 0, 0);
    return watcher;
  }

  /** Everything drawn since the last call (the server's damage is emptied). */
  async takeRects(): Promise<Rect[]> {
    if (!this.xfixes) return this.raw.splice(0);
    damageSubtract(this.conn, this.damageExt, this.damage, 0, this.region);
    return fetchRegion(this.conn, this.xfixes, this.region);
  }

  close(): void {
    if (this.conn.isClosed) return;
    damageDestroy(this.conn, this.damageExt, this.damage);
    if (this.xfixes) destroyRegion(this.conn, this.xfixes, this.region);
  }

  private handleEvent(ev: XEvent): void {
    if (ev.code !== this.damageExt.firstEvent + DAMAGE_NOTIFY) return;
    const notify = decodeDamageNotify(ev.data);
    if (notify.damage !== this.damage) return;
    if (!this.xfixes) {
      const a = notify.area;
      this.raw.push({ left: a.x, top: a.y, right: a.x + a.width, bottom: a.y + a.height });
      // Keep the backlog bounded when frames fall behind a flood of small draws.
      if (this.raw.length > RAW_BACKLOG) this.raw.splice(0, this.raw.length, ...foldIntoBands(this.raw, 64));
    }
    this.onDamage();
  }
}
