import type { ExtensionInfo, XConnection } from './connection.js';
import { encodeRequest } from './wire.js';

/* XTEST (xtestproto): synthesise input as if it came from the core devices. */

export const FAKE_KEY_PRESS = 2;
export const FAKE_KEY_RELEASE = 3;
export const FAKE_BUTTON_PRESS = 4;
export const FAKE_BUTTON_RELEASE = 5;
export const FAKE_MOTION = 6;

/** GetVersion: minor 0, length 2, client-major u8, unused u8, client-minor u16. Reply: major u8 @1, minor u16 @8. */
export function xtestGetVersion(conn: XConnection, ext: ExtensionInfo): Promise<{ major: number; minor: number }> {
  const req = encodeRequest(ext.majorOpcode, 0, (w) => w.u8(2).u8(0).u16(2));
  return conn.request(req, 'XTestGetVersion', (r) => ({ major: r[1]!, minor: r.readUInt16LE(8) }));
}

/**
 * FakeInput: minor 2, length 9, type u8, detail u8 (keycode, button, or for motion 0 = absolute),
 * unused u16, time u32 (0 = now), root u32 (for motion; 0 = the pointer's screen), unused 8,
 * root-x i16, root-y i16, unused 7, deviceid u8 (0: core devices).
 */
export function fakeInput(
  conn: XConnection,
  ext: ExtensionInfo,
  type: number,
  detail: number,
  root = 0,
  x = 0,
  y = 0,
): void {
  const req = encodeRequest(ext.majorOpcode, 2, (w) => {
    w.u8(type).u8(detail).u16(0).u32(0).u32(root).u32(0).u32(0);
    w.i16(x).i16(y).u32(0).u16(0).u8(0).u8(0);
  });
  conn.send(req, 'XTestFakeInput');
}
