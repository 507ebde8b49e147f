import { CursorFlags, CursorMsg } from './constants.js';
import { emptyBody, outMessage, type OutMessage } from './message.js';
import { Reader } from './reader.js';

/* Cursor channel (type 4), docs/protocol.md. Server to client only. */

/** SpiceCursorHeader: u64 unique | u8 type | u16 width | u16 height | u16 hot_spot_x | u16 hot_spot_y (17 bytes) */
export interface CursorHeader {
  unique: bigint;
  type: number;
  width: number;
  height: number;
  hotSpotX: number;
  hotSpotY: number;
}

/** SpiceCursor: u16 flags | [CursorHeader unless flags has NONE] | data (rest of message) */
export interface SpiceCursor {
  flags: number;
  header: CursorHeader | null;
  data: Buffer;
}

export interface Point16 {
  x: number;
  y: number;
}

export type CursorServerMessage =
  /** Point16 position | u16 trail_length | u16 trail_frequency | u8 visible | SpiceCursor */
  | {
      kind: 'init';
      position: Point16;
      trailLength: number;
      trailFrequency: number;
      visible: boolean;
      cursor: SpiceCursor;
    }
  | { kind: 'reset' }
  /** Point16 position | u8 visible | SpiceCursor */
  | { kind: 'set'; position: Point16; visible: boolean; cursor: SpiceCursor }
  | { kind: 'move'; position: Point16 }
  | { kind: 'hide' }
  | { kind: 'trail'; length: number; frequency: number }
  | { kind: 'invalOne'; id: bigint }
  | { kind: 'invalAll' };

export const NO_CURSOR: SpiceCursor = { flags: CursorFlags.None, header: null, data: Buffer.alloc(0) };

function cursorParts(c: SpiceCursor, fixed: Buffer, at: number): Buffer[] {
  fixed.writeUInt16LE(c.flags, at);
  if (c.header) {
    const h = c.header;
    fixed.writeBigUInt64LE(h.unique, at + 2);
    fixed[at + 10] = h.type;
    fixed.writeUInt16LE(h.width, at + 11);
    fixed.writeUInt16LE(h.height, at + 13);
    fixed.writeUInt16LE(h.hotSpotX, at + 15);
    fixed.writeUInt16LE(h.hotSpotY, at + 17);
  }
  return c.data.length > 0 ? [fixed, c.data] : [fixed];
}

function cursorFixedSize(c: SpiceCursor): number {
  return 2 + (c.header ? 17 : 0);
}

export function encodeCursorInit(position: Point16, visible: boolean, cursor: SpiceCursor): OutMessage {
  const b = Buffer.allocUnsafe(9 + cursorFixedSize(cursor));
  b.writeInt16LE(position.x, 0);
  b.writeInt16LE(position.y, 2);
  b.writeUInt16LE(0, 4); // trail length
  b.writeUInt16LE(0, 6); // trail frequency
  b[8] = visible ? 1 : 0;
  return outMessage(CursorMsg.Init, ...cursorParts(cursor, b, 9));
}

export function encodeCursorSet(position: Point16, visible: boolean, cursor: SpiceCursor): OutMessage {
  const b = Buffer.allocUnsafe(5 + cursorFixedSize(cursor));
  b.writeInt16LE(position.x, 0);
  b.writeInt16LE(position.y, 2);
  b[4] = visible ? 1 : 0;
  return outMessage(CursorMsg.Set, ...cursorParts(cursor, b, 5));
}

export function encodeCursorMove(position: Point16): OutMessage {
  const b = Buffer.allocUnsafe(4);
  b.writeInt16LE(position.x, 0);
  b.writeInt16LE(position.y, 2);
  return outMessage(CursorMsg.Move, b);
}

export function encodeCursorHide(): OutMessage {
  return emptyBody(CursorMsg.Hide);
}

function readCursor(r: Reader): SpiceCursor {
  const flags = r.u16();
  let header: CursorHeader | null = null;
  if (!(flags & CursorFlags.None)) {
    header = { unique: r.u64(), type: r.u8(), width: r.u16(), height: r.u16(), hotSpotX: r.u16(), hotSpotY: r.u16() };
  }
  return { flags, header, data: r.rest() };
}

export function decodeCursorServerMessage(type: number, body: Buffer): CursorServerMessage | undefined {
  const r = new Reader(body);
  switch (type) {
    case CursorMsg.Init: {
      const position = { x: r.i16(), y: r.i16() };
      const trailLength = r.u16();
      const trailFrequency = r.u16();
      const visible = r.u8() !== 0;
      return { kind: 'init', position, trailLength, trailFrequency, visible, cursor: readCursor(r) };
    }
    case CursorMsg.Reset:
      return { kind: 'reset' };
    case CursorMsg.Set: {
      const position = { x: r.i16(), y: r.i16() };
      const visible = r.u8() !== 0;
      return { kind: 'set', position, visible, cursor: readCursor(r) };
    }
    case CursorMsg.Move:
      return { kind: 'move', position: { x: r.i16(), y: r.i16() } };
    case CursorMsg.Hide:
      return { kind: 'hide' };
    case CursorMsg.Trail:
      return { kind: 'trail', length: r.u16(), frequency: r.u16() };
    case CursorMsg.InvalOne:
      return { kind: 'invalOne', id: r.u64() };
    case CursorMsg.InvalAll:
      return { kind: 'invalAll' };
    default:
      return undefined;
  }
}
