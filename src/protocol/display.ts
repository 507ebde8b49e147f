import { BrushType, DisplayMsg, DisplayMsgc, Ropd, ScaleMode } from './constants.js';
import { readClip, writeClip, type Clip } from './clip.js';
import { decodeWaits, type ChannelWait } from './common.js';
import { readPoint, readRect, writePoint, writeRect, type Point, type Rect } from './geometry.js';
import { decodeImage, type SpiceImage } from './image.js';
import { emptyBody, outMessage, type OutMessage } from './message.js';
import { Reader } from './reader.js';
import {
  decodeStreamReport,
  decodeStreamServerMessage,
  type StreamReport,
  type StreamServerMessage,
} from './stream.js';
import { Writer } from './writer.js';

/* Display channel (type 2), docs/protocol.md. */

export type { Clip } from './clip.js';

/** DisplayBase: u32 surface_id | Rect box | Clip (u8 type [| u32 n | Rect[n]]) */
export interface DisplayBase {
  surfaceId: number;
  box: Rect;
  clip: Clip;
}

export type Brush =
  { type: 'none' } | { type: 'solid'; color: number } | { type: 'pattern'; image: SpiceImage; pos: Point };

/** QMask: u8 flags | Point pos | u32 image ptr (0 = no mask) */
export interface QMask {
  flags: number;
  pos: Point;
  bitmap: SpiceImage | null;
}

export interface SurfaceCreate {
  surfaceId: number;
  width: number;
  height: number;
  format: number;
  flags: number;
}

export interface MonitorHead {
  id: number;
  surfaceId: number;
  width: number;
  height: number;
  x: number;
  y: number;
  flags: number;
}

/** DRAW_COPY / DRAW_BLEND body after DisplayBase: u32 image ptr | Rect src_area | u16 ropd | u8 scale_mode | QMask */
export interface CopyFields {
  base: DisplayBase;
  image: SpiceImage | null;
  srcArea: Rect;
  ropd: number;
  scaleMode: number;
  mask: QMask;
}

export type DisplayServerMessage =
  | { kind: 'mark' }
  | { kind: 'reset' }
  | { kind: 'copyBits'; base: DisplayBase; srcPos: Point }
  | { kind: 'invalList'; resources: { type: number; id: bigint }[] }
  | { kind: 'invalAllPixmaps'; waits: ChannelWait[] }
  | { kind: 'invalPalette'; id: bigint }
  | { kind: 'invalAllPalettes' }
  | ({ kind: 'surfaceCreate' } & SurfaceCreate)
  | { kind: 'surfaceDestroy'; surfaceId: number }
  | { kind: 'monitorsConfig'; maxAllowed: number; heads: MonitorHead[] }
  | { kind: 'drawFill'; base: DisplayBase; brush: Brush; ropd: number; mask: QMask }
  | ({ kind: 'drawCopy' } & CopyFields)
  | ({ kind: 'drawBlend' } & CopyFields)
  | {
      kind: 'drawOpaque';
      base: DisplayBase;
      image: SpiceImage | null;
      srcArea: Rect;
      brush: Brush;
      ropd: number;
      scaleMode: number;
      mask: QMask;
    }
  | { kind: 'drawBlackness' | 'drawWhiteness' | 'drawInvers'; base: DisplayBase; mask: QMask }
  | StreamServerMessage
  | { kind: 'other'; type: number; body: Buffer };

export type DisplayClientMessage =
  /** u8 pixmap_cache_id | i64 pixmap_cache_size | u8 glz_dictionary_id | i32 glz_dictionary_window_size */
  | { kind: 'init'; pixmapCacheId: number; pixmapCacheSize: bigint; glzDictionaryId: number; glzWindowSize: number }
  | ({ kind: 'streamReport' } & StreamReport)
  | { kind: 'preferredCompression'; compression: number } // u8
  | { kind: 'glDrawDone' }
  | { kind: 'preferredVideoCodecType'; codecs: number[] }; // u8 n | u8[n]

function writeBase(w: Writer, base: DisplayBase): void {
  w.u32(base.surfaceId);
  writeRect(w, base.box);
  writeClip(w, base.clip);
}

function writeEmptyMask(w: Writer): void {
  w.u8(0).i32(0).i32(0).u32(0);
}

export function encodeSurfaceCreate(s: SurfaceCreate): OutMessage {
  const b = Buffer.allocUnsafe(20);
  [s.surfaceId, s.width, s.height, s.format, s.flags].forEach((v, i) => b.writeUInt32LE(v >>> 0, 4 * i));
  return outMessage(DisplayMsg.SurfaceCreate, b);
}

export function encodeSurfaceDestroy(surfaceId: number): OutMessage {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(surfaceId >>> 0, 0);
  return outMessage(DisplayMsg.SurfaceDestroy, b);
}

export function encodeMark(): OutMessage {
  return emptyBody(DisplayMsg.Mark);
}

/** MONITORS_CONFIG: u16 count | u16 max_allowed | {u32 id, surface_id, width, height, x, y, flags}[count] */
export function encodeMonitorsConfig(heads: readonly MonitorHead[], maxAllowed: number): OutMessage {
  const b = Buffer.allocUnsafe(4 + 28 * heads.length);
  b.writeUInt16LE(heads.length, 0);
  b.writeUInt16LE(maxAllowed, 2);
  heads.forEach((h, i) => {
    [h.id, h.surfaceId, h.width, h.height, h.x, h.y, h.flags].forEach((v, j) =>
      b.writeUInt32LE(v >>> 0, 4 + 28 * i + 4 * j),
    );
  });
  return outMessage(DisplayMsg.MonitorsConfig, b);
}

/** DRAW_FILL with a solid brush: DisplayBase | u8 brush type | u32 color | u16 ropd | QMask (41 bytes, clip none). */
export function encodeDrawFill(base: DisplayBase, color: number, ropd: number = Ropd.OpPut): OutMessage {
  const w = new Writer(48);
  writeBase(w, base);
  w.u8(BrushType.Solid).u32(color).u16(ropd);
  writeEmptyMask(w);
  return outMessage(DisplayMsg.DrawFill, w.finish());
}

/**
 * DRAW_COPY: DisplayBase | u32 src_bitmap ptr | Rect src_area | u16 ropd | u8 scale_mode | QMask,
 * then the image. The image goes last (spice-html5 takes bitmap data to the end of the message), as
 * separate iovecs so the pixel payload is never copied into the message.
 */
export function encodeDrawCopy(
  base: DisplayBase,
  srcArea: Rect,
  image: readonly Buffer[],
  ropd: number = Ropd.OpPut,
  scaleMode: number = ScaleMode.Nearest,
): OutMessage {
  const w = new Writer(64);
  writeBase(w, base);
  const ptr = w.reserveU32();
  writeRect(w, srcArea);
  w.u16(ropd).u8(scaleMode);
  writeEmptyMask(w);
  w.patchU32(ptr, w.length);
  return outMessage(DisplayMsg.DrawCopy, w.finish(), ...image);
}

/** COPY_BITS: DisplayBase (box = destination) | Point src_pos (29 bytes, clip none). */
export function encodeCopyBits(base: DisplayBase, srcPos: Point): OutMessage {
  const w = new Writer(32);
  writeBase(w, base);
  writePoint(w, srcPos);
  return outMessage(DisplayMsg.CopyBits, w.finish());
}

/** INVAL_LIST: u16 count | {u8 type (1 = pixmap), u64 id}[count] */
export function encodeInvalList(ids: readonly bigint[]): OutMessage {
  const b = Buffer.allocUnsafe(2 + 9 * ids.length);
  b.writeUInt16LE(ids.length, 0);
  ids.forEach((id, i) => {
    b[2 + 9 * i] = 1;
    b.writeBigUInt64LE(id, 3 + 9 * i);
  });
  return outMessage(DisplayMsg.InvalList, b);
}

function readBase(r: Reader): DisplayBase {
  return { surfaceId: r.u32(), box: readRect(r), clip: readClip(r) };
}

function imageAt(body: Buffer, ptr: number): SpiceImage | null {
  return ptr === 0 ? null : decodeImage(body, ptr);
}

function readBrush(r: Reader, body: Buffer): Brush {
  const type = r.u8();
  if (type === BrushType.Solid) return { type: 'solid', color: r.u32() };
  if (type === BrushType.Pattern) {
    const ptr = r.u32();
    const pos = readPoint(r);
    const image = decodeImage(body, ptr);
    return { type: 'pattern', image, pos };
  }
  return { type: 'none' };
}

function readMask(r: Reader, body: Buffer): QMask {
  const flags = r.u8();
  const pos = readPoint(r);
  return { flags, pos, bitmap: imageAt(body, r.u32()) };
}

export function decodeDisplayServerMessage(type: number, body: Buffer): DisplayServerMessage | undefined {
  const r = new Reader(body);
  switch (type) {
    case DisplayMsg.Mark:
      return { kind: 'mark' };
    case DisplayMsg.Reset:
      return { kind: 'reset' };
    case DisplayMsg.CopyBits:
      return { kind: 'copyBits', base: readBase(r), srcPos: readPoint(r) };
    case DisplayMsg.InvalList: {
      const n = r.u16();
      const resources: { type: number; id: bigint }[] = [];
      for (let i = 0; i < n; i++) resources.push({ type: r.u8(), id: r.u64() });
      return { kind: 'invalList', resources };
    }
    case DisplayMsg.InvalAllPixmaps:
      return { kind: 'invalAllPixmaps', waits: decodeWaits(r) };
    case DisplayMsg.InvalPalette:
      return { kind: 'invalPalette', id: r.u64() };
    case DisplayMsg.InvalAllPalettes:
      return { kind: 'invalAllPalettes' };
    case DisplayMsg.SurfaceCreate:
      return {
        kind: 'surfaceCreate',
        surfaceId: r.u32(),
        width: r.u32(),
        height: r.u32(),
        format: r.u32(),
        flags: r.u32(),
      };
    case DisplayMsg.SurfaceDestroy:
      return { kind: 'surfaceDestroy', surfaceId: r.u32() };
    case DisplayMsg.MonitorsConfig: {
      const count = r.u16();
      const maxAllowed = r.u16();
      const heads: MonitorHead[] = [];
      for (let i = 0; i < count; i++) {
        heads.push({
          id: r.u32(),
          surfaceId: r.u32(),
          width: r.u32(),
          height: r.u32(),
          x: r.u32(),
          y: r.u32(),
          flags: r.u32(),
        });
      }
      return { kind: 'monitorsConfig', maxAllowed, heads };
    }
    case DisplayMsg.DrawFill: {
      const base = readBase(r);
      const brush = readBrush(r, body);
      const ropd = r.u16();
      return { kind: 'drawFill', base, brush, ropd, mask: readMask(r, body) };
    }
    case DisplayMsg.DrawCopy:
    case DisplayMsg.DrawBlend: {
      const base = readBase(r);
      const ptr = r.u32();
      const srcArea = readRect(r);
      const ropd = r.u16();
      const scaleMode = r.u8();
      const mask = readMask(r, body);
      const fields: CopyFields = { base, image: imageAt(body, ptr), srcArea, ropd, scaleMode, mask };
      return type === DisplayMsg.DrawCopy ? { kind: 'drawCopy', ...fields } : { kind: 'drawBlend', ...fields };
    }
    case DisplayMsg.DrawOpaque: {
      const base = readBase(r);
      const ptr = r.u32();
      const srcArea = readRect(r);
      const brush = readBrush(r, body);
      const ropd = r.u16();
      const scaleMode = r.u8();
      const mask = readMask(r, body);
      return { kind: 'drawOpaque', base, image: imageAt(body, ptr), srcArea, brush, ropd, scaleMode, mask };
    }
    case DisplayMsg.DrawBlackness:
    case DisplayMsg.DrawWhiteness:
    case DisplayMsg.DrawInvers: {
      const kind =
        type === DisplayMsg.DrawBlackness
          ? 'drawBlackness'
          : type === DisplayMsg.DrawWhiteness
            ? 'drawWhiteness'
            : 'drawInvers';
      const base = readBase(r);
      return { kind, base, mask: readMask(r, body) };
    }
    default: {
      const stream = decodeStreamServerMessage(type, body);
      if (stream) return stream;
      if (type >= 101 && type <= 322) return { kind: 'other', type, body };
      return undefined;
    }
  }
}

export function encodeDisplayInit(m: {
  pixmapCacheId: number;
  pixmapCacheSize: bigint;
  glzDictionaryId: number;
  glzWindowSize: number;
}): OutMessage {
  const b = Buffer.allocUnsafe(14);
  b[0] = m.pixmapCacheId;
  b.writeBigInt64LE(m.pixmapCacheSize, 1);
  b[9] = m.glzDictionaryId;
  b.writeInt32LE(m.glzWindowSize, 10);
  return outMessage(DisplayMsgc.Init, b);
}

/** PREFERRED_COMPRESSION: the SpiceImageCompression the viewer would like images in (u8). */
export function encodePreferredCompression(compression: number): OutMessage {
  return outMessage(DisplayMsgc.PreferredCompression, Buffer.from([compression]));
}

export function decodeDisplayClientMessage(type: number, body: Buffer): DisplayClientMessage | undefined {
  const r = new Reader(body);
  switch (type) {
    case DisplayMsgc.Init:
      return {
        kind: 'init',
        pixmapCacheId: r.u8(),
        pixmapCacheSize: r.i64(),
        glzDictionaryId: r.u8(),
        glzWindowSize: r.i32(),
      };
    case DisplayMsgc.StreamReport:
      return { kind: 'streamReport', ...decodeStreamReport(body) };
    case DisplayMsgc.PreferredCompression:
      return { kind: 'preferredCompression', compression: r.u8() };
    case DisplayMsgc.GlDrawDone:
      return { kind: 'glDrawDone' };
    case DisplayMsgc.PreferredVideoCodecType: {
      const n = r.u8();
      const codecs: number[] = [];
      for (let i = 0; i < n; i++) codecs.push(r.u8());
      return { kind: 'preferredVideoCodecType', codecs };
    }
    default:
      return undefined;
  }
}
