import { encodeRequest, paddedString, MAX_PLAIN_REQUEST_BYTES } from './wire.js';

/*
 * Sans-IO encoders and decoders for X selections (ICCCM section 2): the core requests and events
 * that move clipboard data between X clients, and XFIXES' selection-owner notification. Nothing
 * here touches a connection: encoders return request bytes, decoders read 32-byte event packets.
 * Layouts are after the 4-byte request header; event offsets count from the packet's start.
 */

export const NONE = 0;
const CURRENT_TIME = 0;

/** Core event codes. */
export const PROPERTY_NOTIFY = 28;
export const SELECTION_CLEAR = 29;
export const SELECTION_REQUEST = 30;
export const SELECTION_NOTIFY = 31;

/** Event-mask bits (CreateWindow/ChangeWindowAttributes). */
export const PROPERTY_CHANGE_MASK = 0x400000;
const CW_EVENT_MASK = 0x800;
const WINDOW_CLASS_INPUT_ONLY = 2;

/** Predefined atoms (Xatom.h). */
export const ATOM_ATOM = 4;

const PROP_MODE_REPLACE = 0;
export const PROPERTY_NEW_VALUE = 0;
export const PROPERTY_DELETED = 1;

/** The mask asking for all three XFIXES SelectionNotify subtypes (owner set, window destroyed, client closed). */
const XFIXES_ALL_SELECTION_EVENTS = 0b111;

/** ChangeProperty's fixed part: 24 bytes of header and fields before the data. */
const CHANGE_PROPERTY_FIXED_BYTES = 24;
/** The most data bytes one ChangeProperty (format 8) may carry without BIG-REQUESTS. */
export const MAX_PROPERTY_CHUNK = MAX_PLAIN_REQUEST_BYTES - CHANGE_PROPERTY_FIXED_BYTES - 3;

/** InternAtom: opcode 16, only-if-exists u8, length 2+(n+p)/4, name length u16, unused u16, name. */
export function encodeInternAtom(name: string, onlyIfExists = false): Buffer {
  return encodeRequest(16, onlyIfExists ? 1 : 0, (w) => {
    w.u16(Buffer.byteLength(name, 'latin1')).u16(0);
    paddedString(w, name);
  });
}

/** InternAtom reply: atom u32 @8 (0 when only-if-exists and it does not exist). */
export function decodeInternAtomReply(r: Buffer): number {
  return r.readUInt32LE(8);
}

/**
 * CreateWindow of an unmapped 1x1 InputOnly window: opcode 1, depth u8 (0: InputOnly),
 * length 8+n, wid u32, parent u32, x i16, y i16, width u16, height u16, border-width u16,
 * class u16, visual u32 (0 = CopyFromParent), value-mask u32, values (here the event mask).
 */
export function encodeCreateInputOnlyWindow(wid: number, parent: number, eventMask: number): Buffer {
  return encodeRequest(1, 0, (w) =>
    w
      .u32(wid)
      .u32(parent)
      .i16(-1)
      .i16(-1)
      .u16(1)
      .u16(1)
      .u16(0)
      .u16(WINDOW_CLASS_INPUT_ONLY)
      .u32(0)
      .u32(CW_EVENT_MASK)
      .u32(eventMask),
  );
}

/** ChangeWindowAttributes with only the event mask: opcode 2, length 4, window, value-mask, mask. */
export function encodeSelectWindowEvents(window: number, eventMask: number): Buffer {
  return encodeRequest(2, 0, (w) => w.u32(window).u32(CW_EVENT_MASK).u32(eventMask));
}

/** DestroyWindow: opcode 4, length 2, window. */
export function encodeDestroyWindow(window: number): Buffer {
  return encodeRequest(4, 0, (w) => w.u32(window));
}

/**
 * ChangeProperty: opcode 18, mode u8, length 6+(n+p)/4, window, property, type, format u8,
 * unused 3, data length u32 (in units of the format), data. Format 8 for bytes, 32 for atoms
 * and integers (sent in the connection's byte order, little-endian here).
 */
export function encodeChangeProperty(
  window: number,
  property: number,
  type: number,
  format: 8 | 32,
  data: Uint8Array,
): Buffer {
  if (format === 32 && data.length % 4 !== 0) throw new Error('format-32 property data must be whole u32s');
  return encodeRequest(18, PROP_MODE_REPLACE, (w) => {
    w.u32(window)
      .u32(property)
      .u32(type)
      .u8(format)
      .u8(0)
      .u16(0)
      .u32(format === 8 ? data.length : data.length / 4);
    w.bytes(data);
  });
}

/** u32 values (atoms, integers) as format-32 property data. */
export function u32Data(values: readonly number[]): Uint8Array {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeUInt32LE(v >>> 0, i * 4));
  return out;
}

/** DeleteProperty: opcode 19, length 3, window, property. */
export function encodeDeleteProperty(window: number, property: number): Buffer {
  return encodeRequest(19, 0, (w) => w.u32(window).u32(property));
}

/**
 * GetProperty: opcode 20, delete u8, length 6, window, property, type (0 = any),
 * long-offset u32, long-length u32 (both in 4-byte units).
 */
export function encodeGetProperty(window: number, property: number, del: boolean, maxBytes: number): Buffer {
  return encodeRequest(20, del ? 1 : 0, (w) =>
    w
      .u32(window)
      .u32(property)
      .u32(0)
      .u32(0)
      .u32(Math.ceil(maxBytes / 4)),
  );
}

export interface PropertyValue {
  /** 0 when the property does not exist. */
  readonly type: number;
  readonly format: number;
  /** Bytes not returned because they lay past the requested length. */
  readonly bytesAfter: number;
  /** The value's bytes (a view into the reply). */
  readonly data: Buffer;
}

/**
 * GetProperty reply: format u8 @1, length u32 @4, type u32 @8, bytes-after u32 @12,
 * value length u32 @16 (in format units), value @32.
 */
export function decodeGetPropertyReply(r: Buffer): PropertyValue {
  const format = r[1]!;
  const units = r.readUInt32LE(16);
  const bytes = format === 0 ? 0 : units * (format / 8);
  if (32 + bytes > r.length) throw new Error(`GetProperty reply claims ${bytes} bytes but holds ${r.length - 32}`);
  return { type: r.readUInt32LE(8), format, bytesAfter: r.readUInt32LE(12), data: r.subarray(32, 32 + bytes) };
}

/** Format-32 property data as u32 values (a TARGETS list, an INCR size). */
export function readU32s(data: Buffer): number[] {
  const out: number[] = [];
  for (let at = 0; at + 4 <= data.length; at += 4) out.push(data.readUInt32LE(at));
  return out;
}

/** SetSelectionOwner: opcode 22, length 4, owner (0 = None), selection, time. */
export function encodeSetSelectionOwner(owner: number, selection: number, time = CURRENT_TIME): Buffer {
  return encodeRequest(22, 0, (w) => w.u32(owner).u32(selection).u32(time));
}

/** GetSelectionOwner: opcode 23, length 2, selection. Reply: owner u32 @8. */
export function encodeGetSelectionOwner(selection: number): Buffer {
  return encodeRequest(23, 0, (w) => w.u32(selection));
}

export function decodeGetSelectionOwnerReply(r: Buffer): number {
  return r.readUInt32LE(8);
}

/** ConvertSelection: opcode 24, length 6, requestor, selection, target, property, time. */
export function encodeConvertSelection(
  requestor: number,
  selection: number,
  target: number,
  property: number,
  time = CURRENT_TIME,
): Buffer {
  return encodeRequest(24, 0, (w) => w.u32(requestor).u32(selection).u32(target).u32(property).u32(time));
}

export interface SelectionNotify {
  readonly time: number;
  readonly requestor: number;
  readonly selection: number;
  readonly target: number;
  /** 0 (None) when the owner refused the conversion. */
  readonly property: number;
}

/**
 * SendEvent of a SelectionNotify to the requestor (how an owner answers): opcode 25,
 * propagate u8 (0), length 11, destination window, event-mask u32 (0: to the window's creator),
 * then the 32-byte event: code 31 @0, time @4, requestor @8, selection @12, target @16,
 * property @20.
 */
export function encodeSendSelectionNotify(n: SelectionNotify): Buffer {
  return encodeRequest(25, 0, (w) => {
    w.u32(n.requestor).u32(0);
    w.u8(SELECTION_NOTIFY).u8(0).u16(0).u32(n.time).u32(n.requestor).u32(n.selection).u32(n.target).u32(n.property);
    w.u32(0).u32(0);
  });
}

/** SelectionNotify event (31): time @4, requestor @8, selection @12, target @16, property @20. */
export function decodeSelectionNotify(e: Buffer): SelectionNotify {
  return {
    time: e.readUInt32LE(4),
    requestor: e.readUInt32LE(8),
    selection: e.readUInt32LE(12),
    target: e.readUInt32LE(16),
    property: e.readUInt32LE(20),
  };
}

export interface SelectionRequest {
  readonly time: number;
  readonly owner: number;
  readonly requestor: number;
  readonly selection: number;
  readonly target: number;
  /** 0 (None) from obsolete clients: the target then names the property. */
  readonly property: number;
}

/** SelectionRequest event (30): time @4, owner @8, requestor @12, selection @16, target @20, property @24. */
export function decodeSelectionRequest(e: Buffer): SelectionRequest {
  return {
    time: e.readUInt32LE(4),
    owner: e.readUInt32LE(8),
    requestor: e.readUInt32LE(12),
    selection: e.readUInt32LE(16),
    target: e.readUInt32LE(20),
    property: e.readUInt32LE(24),
  };
}

/** SelectionClear event (29): time @4, owner @8, selection @12. */
export function decodeSelectionClear(e: Buffer): { time: number; owner: number; selection: number } {
  return { time: e.readUInt32LE(4), owner: e.readUInt32LE(8), selection: e.readUInt32LE(12) };
}

export interface PropertyNotify {
  readonly window: number;
  readonly atom: number;
  readonly time: number;
  /** PROPERTY_NEW_VALUE or PROPERTY_DELETED. */
  readonly state: number;
}

/** PropertyNotify event (28): window @4, atom @8, time @12, state u8 @16. */
export function decodePropertyNotify(e: Buffer): PropertyNotify {
  return { window: e.readUInt32LE(4), atom: e.readUInt32LE(8), time: e.readUInt32LE(12), state: e[16]! };
}

/**
 * XFIXES SelectSelectionInput: minor 2, length 4, window, selection, event-mask
 * (SetSelectionOwner 1, SelectionWindowDestroy 2, SelectionClientClose 4).
 */
export function encodeXfixesSelectSelectionInput(majorOpcode: number, window: number, selection: number): Buffer {
  return encodeRequest(majorOpcode, 2, (w) => w.u32(window).u32(selection).u32(XFIXES_ALL_SELECTION_EVENTS));
}

export interface XfixesSelectionNotify {
  readonly subtype: number;
  readonly window: number;
  /** 0 (None) when the selection has no owner any more. */
  readonly owner: number;
  readonly selection: number;
  readonly time: number;
}

/**
 * XFixesSelectionNotify (XFIXES first-event + 0): subtype u8 @1, window @4, owner @8,
 * selection @12, timestamp @16, selection-timestamp @20.
 */
export function decodeXfixesSelectionNotify(e: Buffer): XfixesSelectionNotify {
  return {
    subtype: e[1]!,
    window: e.readUInt32LE(4),
    owner: e.readUInt32LE(8),
    selection: e.readUInt32LE(12),
    time: e.readUInt32LE(16),
  };
}
