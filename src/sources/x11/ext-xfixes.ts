import type { ExtensionInfo, XConnection } from './connection.js';
import { encodeRequest } from './wire.js';

/*
 * XFIXES (fixesproto): regions (to receive DAMAGE's accumulated area) and cursor tracking.
 * Version 2 or later is needed for regions; cursor images come with version 1.
 */

export const XFIXES_CURSOR_NOTIFY = 1;
const DISPLAY_CURSOR_NOTIFY_MASK = 1;

/** QueryVersion: minor 0, length 3, client-major u32, client-minor u32. Reply: major @8, minor @12. */
export function xfixesQueryVersion(conn: XConnection, ext: ExtensionInfo): Promise<{ major: number; minor: number }> {
  const req = encodeRequest(ext.majorOpcode, 0, (w) => w.u32(5).u32(0));
  return conn.request(req, 'XFixesQueryVersion', (r) => ({ major: r.readUInt32LE(8), minor: r.readUInt32LE(12) }));
}

/** SelectCursorInput: minor 3, length 3, window u32, event-mask u32 (1 = DisplayCursorNotify). */
export function selectCursorInput(conn: XConnection, ext: ExtensionInfo, window: number): void {
  conn.send(
    encodeRequest(ext.majorOpcode, 3, (w) => w.u32(window).u32(DISPLAY_CURSOR_NOTIFY_MASK)),
    'XFixesSelectCursorInput',
  );
}

export interface CursorImage {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly xhot: number;
  readonly yhot: number;
  readonly serial: number;
  /** width * height premultiplied ARGB u32 values (0xAARRGGBB), row-major. */
  readonly argb: Uint32Array;
}

/**
 * GetCursorImage: minor 4, length 1.
 * Reply: x i16 @8, y i16 @10, width u16 @12, height u16 @14, xhot u16 @16, yhot u16 @18,
 * cursor-serial u32 @20, unused 8, then width*height CARD32 ARGB (premultiplied) @32.
 */
export function getCursorImage(conn: XConnection, ext: ExtensionInfo): Promise<CursorImage> {
  return conn.request(encodeRequest(ext.majorOpcode, 4), 'XFixesGetCursorImage', (r) => {
    const width = r.readUInt16LE(12);
    const height = r.readUInt16LE(14);
    const argb = new Uint32Array(width * height);
    for (let i = 0; i < argb.length; i++) argb[i] = r.readUInt32LE(32 + 4 * i);
    return {
      x: r.readInt16LE(8),
      y: r.readInt16LE(10),
      width,
      height,
      xhot: r.readUInt16LE(16),
      yhot: r.readUInt16LE(18),
      serial: r.readUInt32LE(20),
      argb,
    };
  });
}

/**
 * XFixesCursorNotify (first-event + 1): subtype u8 @1 (0 DisplayCursorNotify), seq u16 @2,
 * window u32 @4, cursor-serial u32 @8, timestamp u32 @12, name atom u32 @16.
 */
export function decodeCursorNotify(data: Buffer): { subtype: number; serial: number } {
  return { subtype: data[1]!, serial: data.readUInt32LE(8) };
}
