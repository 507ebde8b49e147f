import type { DesktopResize } from '../../seam/index.js';
import type { ExtensionInfo, XConnection } from './connection.js';
import { getGeometry } from './core.js';
import { cvtReducedMode } from './mode-timing.js';
import {
  RR_CONNECTED,
  RR_SET_CONFIG_SUCCESS,
  decodeCreateModeReply,
  decodeCrtcInfo,
  decodeOutputInfo,
  decodeScreenResources,
  decodeScreenSizeRange,
  decodeSetCrtcConfigReply,
  encodeAddOutputMode,
  encodeCreateMode,
  encodeDeleteOutputMode,
  encodeDestroyMode,
  encodeGetCrtcInfo,
  encodeGetOutputInfo,
  encodeGetScreenResourcesCurrent,
  encodeGetScreenSizeRange,
  encodeSetCrtcConfig,
  encodeSetScreenSize,
  type OutputInfo,
} from './randr-wire.js';

/*
 * Changing an X screen's size with RandR, as spice-vdagent does for a viewer's monitors config:
 * clamp to the server's size range, create a mode "WxH" (CVT reduced blanking) and add it to the
 * first output, then grow the screen before pointing the CRTC at the new mode, or point the CRTC
 * first and shrink the screen after, so the CRTC always fits inside the screen. Modes we created
 * earlier are removed once unused. Servers whose screen cannot change (Xvfb: one fixed mode)
 * refuse with an X error, and the caller learns the size stayed.
 */

export interface ResizeLimits {
  /** Largest width and height accepted (default 8192 each). */
  readonly maxWidth?: number;
  readonly maxHeight?: number;
  /** Largest area in pixels (default 4096 x 4096): a framebuffer the X server and spiced both hold. */
  readonly maxPixels?: number;
}

const DEFAULT_MAX_SIDE = 8192;
const DEFAULT_MAX_PIXELS = 4096 * 4096;

/** The size `width` x `height` becomes within the limits and the server's range. */
export function clampSize(
  width: number,
  height: number,
  range: { minWidth: number; minHeight: number; maxWidth: number; maxHeight: number },
  limits: ResizeLimits = {},
): { width: number; height: number } {
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(Math.floor(v), lo), hi);
  let w = clamp(width, range.minWidth, Math.min(range.maxWidth, limits.maxWidth ?? DEFAULT_MAX_SIDE));
  let h = clamp(height, range.minHeight, Math.min(range.maxHeight, limits.maxHeight ?? DEFAULT_MAX_SIDE));
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (w * h > maxPixels) {
    // Keep the aspect ratio while shrinking to the area limit.
    const scale = Math.sqrt(maxPixels / (w * h));
    w = Math.max(range.minWidth, Math.floor(w * scale));
    h = Math.max(range.minHeight, Math.floor(h * scale));
  }
  return { width: w, height: h };
}

/** Modes a resizer created (ids), so that it removes only its own once unused. */
export interface ModeBook {
  readonly created: Set<number>;
  readonly log: (msg: string) => void;
}

/** Set the screen of `root` to `width` x `height` (clamped); resolves to the size it took. */
export async function setScreenSize(
  conn: XConnection,
  randr: ExtensionInfo,
  root: number,
  width: number,
  height: number,
  limits: ResizeLimits,
  book: ModeBook,
): Promise<{ width: number; height: number }> {
  const major = randr.majorOpcode;
  const range = await conn.request(
    encodeGetScreenSizeRange(major, root),
    'RRGetScreenSizeRange',
    decodeScreenSizeRange,
  );
  const size = clampSize(width, height, range, limits);
  const res = await conn.request(
    encodeGetScreenResourcesCurrent(major, root),
    'RRGetScreenResourcesCurrent',
    decodeScreenResources,
  );
  const { output, info } = await firstOutput(conn, major, res.outputs, res.configTimestamp);
  const crtc = info.crtc || info.crtcs[0];
  if (crtc === undefined) throw new Error(`RandR output ${info.name} has no CRTC`);
  const current = await conn.request(
    encodeGetCrtcInfo(major, crtc, res.configTimestamp),
    'RRGetCrtcInfo',
    decodeCrtcInfo,
  );
  const screen = await getGeometry(conn, root);
  const same = (w: number, h: number): boolean => w === size.width && h === size.height;
  // Setting the same size again is not free: the X server repaints and every window redraws.
  if (same(screen.width, screen.height) && same(current.width, current.height) && current.mode !== 0) return size;
  const name = `${size.width}x${size.height}`;
  // Any mode of exactly this size will do (a driver's own, or one we made before).
  let mode = res.modes.find((m) => m.width === size.width && m.height === size.height)?.id;
  if (mode === undefined) {
    const req = encodeCreateMode(major, root, cvtReducedMode(size.width, size.height));
    mode = await conn.request(req, 'RRCreateMode', decodeCreateModeReply);
    book.created.add(mode);
  }
  if (!info.modes.includes(mode)) await conn.checked(encodeAddOutputMode(major, output, mode), 'RRAddOutputMode');
  const outer = { width: Math.max(size.width, screen.width), height: Math.max(size.height, screen.height) };
  if (outer.width !== screen.width || outer.height !== screen.height) {
    await conn.checked(encodeSetScreenSize(major, root, outer.width, outer.height), 'RRSetScreenSize');
  }
  const status = await conn.request(
    encodeSetCrtcConfig(major, crtc, res.configTimestamp, mode, [output]),
    'RRSetCrtcConfig',
    decodeSetCrtcConfigReply,
  );
  if (status !== RR_SET_CONFIG_SUCCESS) throw new Error(`RRSetCrtcConfig to ${name} failed (status ${status})`);
  if (outer.width !== size.width || outer.height !== size.height) {
    await conn.checked(encodeSetScreenSize(major, root, size.width, size.height), 'RRSetScreenSize');
  }
  if (current.mode !== mode && book.created.has(current.mode)) await dropMode(conn, major, output, current.mode, book);
  return size;
}

/** The first connected output (a virtual display has one), else the first output at all. */
async function firstOutput(
  conn: XConnection,
  major: number,
  outputs: number[],
  ts: number,
): Promise<{ output: number; info: OutputInfo }> {
  let fallback: { output: number; info: OutputInfo } | undefined;
  for (const output of outputs) {
    const info = await conn.request(encodeGetOutputInfo(major, output, ts), 'RRGetOutputInfo', decodeOutputInfo);
    if (info.connection === RR_CONNECTED && (info.crtc || info.crtcs.length > 0)) return { output, info };
    fallback ??= info.crtcs.length > 0 ? { output, info } : undefined;
  }
  if (!fallback) throw new Error('the X server has no RandR output with a CRTC');
  return fallback;
}

/** Remove a mode we created that the CRTC no longer shows. */
async function dropMode(conn: XConnection, major: number, output: number, mode: number, book: ModeBook): Promise<void> {
  book.created.delete(mode);
  try {
    await conn.checked(encodeDeleteOutputMode(major, output, mode), 'RRDeleteOutputMode');
    await conn.checked(encodeDestroyMode(major, mode), 'RRDestroyMode');
  } catch (err) {
    // Another client may have taken the mode in use; it stays, which costs nothing.
    book.log(`leaving RandR mode 0x${mode.toString(16)}: ${(err as Error).message}`);
  }
}

/** A desktop whose size follows the viewer: RandR on the source's X connection. */
export class RandrResizer implements DesktopResize {
  private readonly book: ModeBook;
  /** One resize at a time: each reads the screen's state and changes it. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly target: () => { conn: XConnection; root: number } | null,
    private readonly limits: ResizeLimits = {},
    private readonly log: (msg: string) => void = () => undefined,
  ) {
    this.book = { created: new Set(), log };
  }

  resize(width: number, height: number): Promise<{ width: number; height: number } | null> {
    const next = this.queue.then(() => this.resizeNow(width, height));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async resizeNow(width: number, height: number): Promise<{ width: number; height: number } | null> {
    const t = this.target();
    if (!t || t.conn.isClosed) return null;
    try {
      const randr = await t.conn.extension('RANDR');
      if (!randr) return null;
      return await setScreenSize(t.conn, randr, t.root, width, height, this.limits, this.book);
    } catch (err) {
      this.log(`cannot resize the X screen to ${width}x${height}: ${(err as Error).message}`);
      return null;
    }
  }
}
