import type { XConnection } from './connection.js';
import { encodeRequest } from './wire.js';

/*
 * The core-protocol requests spiced uses. Layouts are after the 4-byte request header
 * (opcode u8, data u8, length u16); reply offsets count from the start of the 32-byte reply.
 */

export const IMAGE_FORMAT_ZPIXMAP = 2;

export interface Geometry {
  readonly depth: number;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface PointerState {
  readonly rootX: number;
  readonly rootY: number;
  /** SETofKEYBUTMASK: Shift 0x1, Lock 0x2, Control 0x4, Mod1..Mod5 0x8..0x80, Button1..5 0x100..0x1000. */
  readonly mask: number;
  readonly sameScreen: boolean;
}

export interface ImageReply {
  readonly depth: number;
  readonly visual: number;
  /** The ZPixmap bytes (a view into the reply). */
  readonly data: Buffer;
}

export interface KeyboardMapping {
  readonly firstKeycode: number;
  readonly keysymsPerKeycode: number;
  /** keysyms[(keycode - firstKeycode) * keysymsPerKeycode + column]; 0 = NoSymbol. */
  readonly keysyms: Uint32Array;
}

/**
 * GetGeometry: opcode 14, length 2, drawable u32.
 * Reply: depth u8 @1, root u32 @8, x i16 @12, y i16 @14, width u16 @16, height u16 @18.
 */
export function getGeometry(conn: XConnection, drawable: number): Promise<Geometry> {
  const req = encodeRequest(14, 0, (w) => w.u32(drawable));
  return conn.request(req, 'GetGeometry', (r) => ({
    depth: r[1]!,
    x: r.readInt16LE(12),
    y: r.readInt16LE(14),
    width: r.readUInt16LE(16),
    height: r.readUInt16LE(18),
  }));
}

/**
 * QueryPointer: opcode 38, length 2, window u32.
 * Reply: same-screen u8 @1, root u32 @8, child u32 @12, root-x i16 @16, root-y i16 @18,
 * win-x i16 @20, win-y i16 @22, mask u16 @24.
 */
export function queryPointer(conn: XConnection, window: number): Promise<PointerState> {
  const req = encodeRequest(38, 0, (w) => w.u32(window));
  return conn.request(req, 'QueryPointer', (r) => ({
    sameScreen: r[1] !== 0,
    rootX: r.readInt16LE(16),
    rootY: r.readInt16LE(18),
    mask: r.readUInt16LE(24),
  }));
}

/**
 * GetImage: opcode 73, data = format (2 ZPixmap), length 5, drawable u32, x i16, y i16,
 * width u16, height u16, plane-mask u32.
 * Reply: depth u8 @1, length u32 @4, visual u32 @8, data from @32 (rows padded to scanline-pad).
 * The reply is bounded only by its 32-bit length field, so no banding is needed for the
 * maximum-request-length; callers band to bound memory and latency.
 */
export function getImage(
  conn: XConnection,
  drawable: number,
  x: number,
  y: number,
  width: number,
  height: number,
): Promise<ImageReply> {
  const req = encodeRequest(73, IMAGE_FORMAT_ZPIXMAP, (w) =>
    w.u32(drawable).i16(x).i16(y).u16(width).u16(height).u32(0xffffffff),
  );
  return conn.request(req, 'GetImage', (r) => ({ depth: r[1]!, visual: r.readUInt32LE(8), data: r.subarray(32) }));
}

/**
 * GetKeyboardMapping: opcode 101, length 2, first-keycode u8, count u8, unused u16.
 * Reply: keysyms-per-keycode u8 @1, length u32 @4 (= count * keysyms-per-keycode), KEYSYM u32s @32.
 */
export function getKeyboardMapping(conn: XConnection, first: number, count: number): Promise<KeyboardMapping> {
  const req = encodeRequest(101, 0, (w) => w.u8(first).u8(count).u16(0));
  return conn.request(req, 'GetKeyboardMapping', (r) => {
    const n = r.readUInt32LE(4);
    const keysyms = new Uint32Array(n);
    for (let i = 0; i < n; i++) keysyms[i] = r.readUInt32LE(32 + 4 * i);
    return { firstKeycode: first, keysymsPerKeycode: r[1]!, keysyms };
  });
}

/**
 * GetModifierMapping: opcode 119, length 1.
 * Reply: keycodes-per-modifier u8 @1, then 8 * that many KEYCODE u8s @32 (Shift, Lock, Control,
 * Mod1..Mod5; 0 = unused slot).
 */
export function getModifierMapping(conn: XConnection): Promise<number[][]> {
  return conn.request(encodeRequest(119, 0), 'GetModifierMapping', (r) => {
    const per = r[1]!;
    const mods: number[][] = [];
    for (let m = 0; m < 8; m++) {
      const codes: number[] = [];
      for (let i = 0; i < per; i++) {
        const k = r[32 + m * per + i]!;
        if (k !== 0) codes.push(k);
      }
      mods.push(codes);
    }
    return mods;
  });
}
