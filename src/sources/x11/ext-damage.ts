import type { ExtensionInfo, XConnection } from './connection.js';
import { encodeRequest } from './wire.js';

/*
 * DAMAGE 1.1 (damageproto). The server accumulates what is drawn into a drawable and reports it
 * according to the level given at Create; spiced uses RawRectangles, one DamageNotify per drawn
 * rectangle (damage-watcher.ts says why).
 */

export const DAMAGE_REPORT_RAW_RECTANGLES = 0;
export const DAMAGE_NOTIFY = 0;

/**
 * QueryVersion: minor 0, length 3, client-major u32, client-minor u32.
 * Reply: major u32 @8, minor u32 @12. Must precede any other DAMAGE request.
 */
export function damageQueryVersion(conn: XConnection, ext: ExtensionInfo): Promise<{ major: number; minor: number }> {
  const req = encodeRequest(ext.majorOpcode, 0, (w) => w.u32(1).u32(1));
  return conn.request(req, 'DamageQueryVersion', (r) => ({ major: r.readUInt32LE(8), minor: r.readUInt32LE(12) }));
}

/** Create: minor 1, length 4, damage u32 (new id), drawable u32, level u8, unused 3. */
export function damageCreate(
  conn: XConnection,
  ext: ExtensionInfo,
  damage: number,
  drawable: number,
  level: number,
): Promise<void> {
  const req = encodeRequest(ext.majorOpcode, 1, (w) => w.u32(damage).u32(drawable).u8(level).u8(0).u16(0));
  return conn.checked(req, 'DamageCreate');
}

/** Destroy: minor 2, length 2, damage u32. */
export function damageDestroy(conn: XConnection, ext: ExtensionInfo, damage: number): void {
  conn.send(
    encodeRequest(ext.majorOpcode, 2, (w) => w.u32(damage)),
    'DamageDestroy',
  );
}

export interface DamageNotify {
  readonly level: number;
  readonly drawable: number;
  readonly damage: number;
  /** X server time (ms) of the damage. */
  readonly timestamp: number;
  readonly area: { x: number; y: number; width: number; height: number };
}

/**
 * DamageNotify (first-event + 0): level u8 @1 (bit 7 = more events follow), seq u16 @2,
 * drawable u32 @4, damage u32 @8, timestamp u32 @12, area x/y i16 w/h u16 @16, geometry @24.
 */
export function decodeDamageNotify(data: Buffer): DamageNotify {
  return {
    level: data[1]! & 0x7f,
    drawable: data.readUInt32LE(4),
    damage: data.readUInt32LE(8),
    timestamp: data.readUInt32LE(12),
    area: {
      x: data.readInt16LE(16),
      y: data.readInt16LE(18),
      width: data.readUInt16LE(20),
      height: data.readUInt16LE(22),
    },
  };
}
