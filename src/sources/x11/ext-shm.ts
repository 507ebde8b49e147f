import type { ExtensionInfo, XConnection } from './connection.js';
import { IMAGE_FORMAT_ZPIXMAP } from './core.js';
import { encodeRequest } from './wire.js';

/* MIT-SHM (shmproto): the server writes GetImage pixels straight into a SysV segment we share. */

/**
 * QueryVersion: minor 0, length 1.
 * Reply: shared-pixmaps u8 @1, major u16 @8, minor u16 @10, uid u16 @12, gid u16 @14, pixmap-format u8 @16.
 */
export function shmQueryVersion(conn: XConnection, ext: ExtensionInfo): Promise<{ major: number; minor: number }> {
  return conn.request(encodeRequest(ext.majorOpcode, 0), 'ShmQueryVersion', (r) => ({
    major: r.readUInt16LE(8),
    minor: r.readUInt16LE(10),
  }));
}

/** Attach: minor 1, length 4, shmseg u32 (new id), shmid u32, read-only u8, unused 3. */
export function shmAttach(conn: XConnection, ext: ExtensionInfo, shmseg: number, shmid: number): Promise<void> {
  // Read-write: ShmGetImage writes into the segment.
  return conn.checked(
    encodeRequest(ext.majorOpcode, 1, (w) => w.u32(shmseg).u32(shmid).u8(0).u8(0).u16(0)),
    'ShmAttach',
  );
}

/** Detach: minor 2, length 2, shmseg u32. */
export function shmDetach(conn: XConnection, ext: ExtensionInfo, shmseg: number): Promise<void> {
  return conn.checked(
    encodeRequest(ext.majorOpcode, 2, (w) => w.u32(shmseg)),
    'ShmDetach',
  );
}

/**
 * GetImage: minor 4, length 8, drawable u32, x i16, y i16, width u16, height u16,
 * plane-mask u32, format u8, unused 3, shmseg u32, offset u32.
 * Reply: depth u8 @1, visual u32 @8, size u32 @12 (bytes written at offset).
 */
export function shmGetImage(
  conn: XConnection,
  ext: ExtensionInfo,
  drawable: number,
  x: number,
  y: number,
  width: number,
  height: number,
  shmseg: number,
  offset: number,
): Promise<{ depth: number; size: number }> {
  const req = encodeRequest(ext.majorOpcode, 4, (w) => {
    w.u32(drawable).i16(x).i16(y).u16(width).u16(height).u32(0xffffffff);
    w.u8(IMAGE_FORMAT_ZPIXMAP).u8(0).u16(0).u32(shmseg).u32(offset);
  });
  return conn.request(req, 'ShmGetImage', (r) => ({ depth: r[1]!, size: r.readUInt32LE(12) }));
}
