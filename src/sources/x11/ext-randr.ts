import type { ExtensionInfo, XConnection } from './connection.js';
import { encodeRequest } from './wire.js';

/* RandR (randrproto): we only listen for screen size changes of the root window. */

export const RR_SCREEN_CHANGE_NOTIFY = 0;
const RR_SCREEN_CHANGE_NOTIFY_MASK = 1;

/** QueryVersion: minor 0, length 3, client-major u32, client-minor u32. Reply: major @8, minor @12. */
export function randrQueryVersion(conn: XConnection, ext: ExtensionInfo): Promise<{ major: number; minor: number }> {
  const req = encodeRequest(ext.majorOpcode, 0, (w) => w.u32(1).u32(5));
  return conn.request(req, 'RRQueryVersion', (r) => ({ major: r.readUInt32LE(8), minor: r.readUInt32LE(12) }));
}

/** SelectInput: minor 4, length 3, window u32, enable u16 (1 = ScreenChangeNotify), unused u16. */
export function randrSelectInput(conn: XConnection, ext: ExtensionInfo, window: number): void {
  conn.send(
    encodeRequest(ext.majorOpcode, 4, (w) => w.u32(window).u16(RR_SCREEN_CHANGE_NOTIFY_MASK).u16(0)),
    'RRSelectInput',
  );
}

/**
 * RRScreenChangeNotify (first-event + 0): rotation u8 @1, seq u16 @2, timestamp u32 @4,
 * config-timestamp u32 @8, root u32 @12, request-window u32 @16, size-id u16 @20,
 * subpixel-order u16 @22, width u16 @24, height u16 @26, width-mm u16 @28, height-mm u16 @30.
 * Width and height are already swapped for 90/270 degree rotations.
 */
export function decodeScreenChangeNotify(data: Buffer): { root: number; width: number; height: number } {
  return { root: data.readUInt32LE(12), width: data.readUInt16LE(24), height: data.readUInt16LE(26) };
}
