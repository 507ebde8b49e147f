import { encodeRequest, paddedString } from './wire.js';

/*
 * Sans-IO encoders and decoders for the RandR 1.2/1.3 requests that change the screen size the way
 * spice-vdagent does: screen size range, screen resources, output and CRTC info, a new mode added
 * to an output, the CRTC set to it, and the screen (the root window) resized around it. Every
 * request goes to the extension's major opcode; `minor` is the RandR request number. Reply offsets
 * count from the start of the 32-byte reply.
 */

export const RR_CONNECTED = 0;
const RR_ROTATE_0 = 1;
export const RR_SET_CONFIG_SUCCESS = 0;
/** ModeInfo flags. */
export const RR_HSYNC_POSITIVE = 1;
export const RR_VSYNC_NEGATIVE = 8;

export interface ModeInfo {
  /** 0 in CreateMode: the server assigns it. */
  readonly id: number;
  readonly width: number;
  readonly height: number;
  readonly dotClock: number;
  readonly hSyncStart: number;
  readonly hSyncEnd: number;
  readonly hTotal: number;
  readonly hSkew: number;
  readonly vSyncStart: number;
  readonly vSyncEnd: number;
  readonly vTotal: number;
  readonly flags: number;
  readonly name: string;
}

export interface ScreenResources {
  readonly configTimestamp: number;
  readonly crtcs: number[];
  readonly outputs: number[];
  readonly modes: ModeInfo[];
}

export interface OutputInfo {
  readonly crtc: number;
  readonly connection: number;
  readonly crtcs: number[];
  readonly modes: number[];
  readonly name: string;
}

export interface CrtcInfo {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly mode: number;
  readonly outputs: number[];
}

/** GetScreenSizeRange: minor 6, length 2, window. */
export function encodeGetScreenSizeRange(major: number, window: number): Buffer {
  return encodeRequest(major, 6, (w) => w.u32(window));
}

/** Reply: min-width u16 @8, min-height @10, max-width @12, max-height @14. */
export function decodeScreenSizeRange(r: Buffer): {
  minWidth: number;
  minHeight: number;
  maxWidth: number;
  maxHeight: number;
} {
  return {
    minWidth: r.readUInt16LE(8),
    minHeight: r.readUInt16LE(10),
    maxWidth: r.readUInt16LE(12),
    maxHeight: r.readUInt16LE(14),
  };
}

/** SetScreenSize: minor 7, length 5, window, width u16, height u16, width-mm u32, height-mm u32. */
export function encodeSetScreenSize(major: number, window: number, width: number, height: number): Buffer {
  // Millimetres for 96 dots per inch, as spice-vdagent reports them.
  const mm = (px: number): number => Math.max(1, Math.round((px * 25.4) / 96));
  return encodeRequest(major, 7, (w) => w.u32(window).u16(width).u16(height).u32(mm(width)).u32(mm(height)));
}

/** GetScreenResourcesCurrent (RandR 1.3): minor 25, length 2, window. */
export function encodeGetScreenResourcesCurrent(major: number, window: number): Buffer {
  return encodeRequest(major, 25, (w) => w.u32(window));
}

const MODE_INFO_BYTES = 32;

/**
 * Reply: timestamp @8, config-timestamp @12, num-crtcs u16 @16, num-outputs u16 @18,
 * num-modes u16 @20, names-bytes u16 @22, then @32 crtcs u32[], outputs u32[], ModeInfo[] (32
 * bytes each: id u32, width u16, height u16, dot-clock u32, hsync-start, hsync-end, htotal, hskew,
 * vsync-start, vsync-end, vtotal, name-length (u16 each), flags u32), then the names one after
 * another.
 */
export function decodeScreenResources(r: Buffer): ScreenResources {
  const nCrtcs = r.readUInt16LE(16);
  const nOutputs = r.readUInt16LE(18);
  const nModes = r.readUInt16LE(20);
  let at = 32;
  const crtcs = u32s(r, at, nCrtcs);
  at += 4 * nCrtcs;
  const outputs = u32s(r, at, nOutputs);
  at += 4 * nOutputs;
  let nameAt = at + MODE_INFO_BYTES * nModes;
  const modes: ModeInfo[] = [];
  for (let i = 0; i < nModes; i++, at += MODE_INFO_BYTES) {
    const nameLength = r.readUInt16LE(at + 28);
    if (nameAt + nameLength > r.length) throw new Error('RandR screen resources: mode names run past the reply');
    modes.push({
      id: r.readUInt32LE(at),
      width: r.readUInt16LE(at + 4),
      height: r.readUInt16LE(at + 6),
      dotClock: r.readUInt32LE(at + 8),
      hSyncStart: r.readUInt16LE(at + 12),
      hSyncEnd: r.readUInt16LE(at + 14),
      hTotal: r.readUInt16LE(at + 16),
      hSkew: r.readUInt16LE(at + 18),
      vSyncStart: r.readUInt16LE(at + 20),
      vSyncEnd: r.readUInt16LE(at + 22),
      vTotal: r.readUInt16LE(at + 24),
      flags: r.readUInt32LE(at + 32 - 4),
      name: r.toString('latin1', nameAt, nameAt + nameLength),
    });
    nameAt += nameLength;
  }
  return { configTimestamp: r.readUInt32LE(12), crtcs, outputs, modes };
}

/** GetOutputInfo: minor 9, length 3, output, config-timestamp. */
export function encodeGetOutputInfo(major: number, output: number, configTimestamp: number): Buffer {
  return encodeRequest(major, 9, (w) => w.u32(output).u32(configTimestamp));
}

/**
 * Reply: status u8 @1, timestamp @8, crtc @12, mm-width @16, mm-height @20, connection u8 @24,
 * subpixel u8 @25, num-crtcs u16 @26, num-modes u16 @28, num-preferred u16 @30, num-clones u16
 * @32, name-length u16 @34, then @36 crtcs u32[], modes u32[], clones u32[], name.
 */
export function decodeOutputInfo(r: Buffer): OutputInfo {
  const nCrtcs = r.readUInt16LE(26);
  const nModes = r.readUInt16LE(28);
  const nClones = r.readUInt16LE(32);
  const nameLength = r.readUInt16LE(34);
  const crtcs = u32s(r, 36, nCrtcs);
  const modes = u32s(r, 36 + 4 * nCrtcs, nModes);
  const nameAt = 36 + 4 * (nCrtcs + nModes + nClones);
  if (nameAt + nameLength > r.length) throw new Error('RandR output info runs past the reply');
  return {
    crtc: r.readUInt32LE(12),
    connection: r[24]!,
    crtcs,
    modes,
    name: r.toString('latin1', nameAt, nameAt + nameLength),
  };
}

/** GetCrtcInfo: minor 20, length 3, crtc, config-timestamp. */
export function encodeGetCrtcInfo(major: number, crtc: number, configTimestamp: number): Buffer {
  return encodeRequest(major, 20, (w) => w.u32(crtc).u32(configTimestamp));
}

/**
 * Reply: status u8 @1, timestamp @8, x i16 @12, y i16 @14, width u16 @16, height u16 @18,
 * mode @20, rotation u16 @24, rotations u16 @26, num-outputs u16 @28, num-possible u16 @30,
 * outputs u32[] @32.
 */
export function decodeCrtcInfo(r: Buffer): CrtcInfo {
  return {
    x: r.readInt16LE(12),
    y: r.readInt16LE(14),
    width: r.readUInt16LE(16),
    height: r.readUInt16LE(18),
    mode: r.readUInt32LE(20),
    outputs: u32s(r, 32, r.readUInt16LE(28)),
  };
}

/** CreateMode: minor 16, length 12+(n+p)/4, window, ModeInfo (32 bytes), name. Reply: mode @8. */
export function encodeCreateMode(major: number, window: number, mode: ModeInfo): Buffer {
  return encodeRequest(major, 16, (w) => {
    w.u32(window).u32(0).u16(mode.width).u16(mode.height).u32(mode.dotClock);
    w.u16(mode.hSyncStart).u16(mode.hSyncEnd).u16(mode.hTotal).u16(mode.hSkew);
    w.u16(mode.vSyncStart).u16(mode.vSyncEnd).u16(mode.vTotal).u16(Buffer.byteLength(mode.name, 'latin1'));
    w.u32(mode.flags);
    paddedString(w, mode.name);
  });
}

export function decodeCreateModeReply(r: Buffer): number {
  return r.readUInt32LE(8);
}

/** AddOutputMode: minor 18, length 3, output, mode. DeleteOutputMode: minor 19, same layout. */
export function encodeAddOutputMode(major: number, output: number, mode: number): Buffer {
  return encodeRequest(major, 18, (w) => w.u32(output).u32(mode));
}

export function encodeDeleteOutputMode(major: number, output: number, mode: number): Buffer {
  return encodeRequest(major, 19, (w) => w.u32(output).u32(mode));
}

/** DestroyMode: minor 17, length 2, mode. */
export function encodeDestroyMode(major: number, mode: number): Buffer {
  return encodeRequest(major, 17, (w) => w.u32(mode));
}

/**
 * SetCrtcConfig: minor 21, length 7+n, crtc, timestamp, config-timestamp, x i16, y i16,
 * mode (0 = off), rotation u16, unused u16, outputs u32[n]. Reply: status u8 @1.
 */
export function encodeSetCrtcConfig(
  major: number,
  crtc: number,
  configTimestamp: number,
  mode: number,
  outputs: readonly number[],
): Buffer {
  return encodeRequest(major, 21, (w) => {
    w.u32(crtc).u32(0).u32(configTimestamp).i16(0).i16(0).u32(mode).u16(RR_ROTATE_0).u16(0);
    for (const o of outputs) w.u32(o);
  });
}

export function decodeSetCrtcConfigReply(r: Buffer): number {
  return r[1]!;
}

function u32s(r: Buffer, at: number, n: number): number[] {
  if (at + 4 * n > r.length) throw new Error('RandR reply shorter than its counts');
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.readUInt32LE(at + 4 * i));
  return out;
}
