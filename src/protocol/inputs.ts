import { InputsMsg, InputsMsgc } from './constants.js';
import { emptyBody, outMessage, type OutMessage } from './message.js';
import { Reader } from './reader.js';

/* Inputs channel (type 3), docs/protocol.md. */

export type InputsServerMessage =
  | { kind: 'init'; modifiers: number } // u16
  | { kind: 'keyModifiers'; modifiers: number } // u16
  | { kind: 'mouseMotionAck' }; // empty

export type InputsClientMessage =
  | { kind: 'keyDown'; code: number } // u32: XT set-1 bytes packed little-endian
  | { kind: 'keyUp'; code: number } // u32
  | { kind: 'keyModifiers'; modifiers: number } // u16
  | { kind: 'keyScancode'; data: Buffer } // raw scancode bytes (rest)
  | { kind: 'mouseMotion'; dx: number; dy: number; buttons: number } // i32 | i32 | u16 (html5 adds a byte)
  | { kind: 'mousePosition'; x: number; y: number; buttons: number; displayId: number } // u32 | u32 | u16 | u8
  | { kind: 'mousePress'; button: number; buttons: number } // u8 | u16
  | { kind: 'mouseRelease'; button: number; buttons: number }; // u8 | u16

function u16Message(type: number, v: number): OutMessage {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16LE(v & 0xffff, 0);
  return outMessage(type, b);
}

export function encodeInputsInit(modifiers: number): OutMessage {
  return u16Message(InputsMsg.Init, modifiers);
}

export function encodeKeyModifiers(modifiers: number): OutMessage {
  return u16Message(InputsMsg.KeyModifiers, modifiers);
}

export function encodeMouseMotionAck(): OutMessage {
  return emptyBody(InputsMsg.MouseMotionAck);
}

export function decodeInputsServerMessage(type: number, body: Buffer): InputsServerMessage | undefined {
  const r = new Reader(body);
  switch (type) {
    case InputsMsg.Init:
      return { kind: 'init', modifiers: r.u16() };
    case InputsMsg.KeyModifiers:
      return { kind: 'keyModifiers', modifiers: r.u16() };
    case InputsMsg.MouseMotionAck:
      return { kind: 'mouseMotionAck' };
    default:
      return undefined;
  }
}

export function encodeInputsClientMessage(m: InputsClientMessage): OutMessage {
  switch (m.kind) {
    case 'keyDown':
    case 'keyUp': {
      const b = Buffer.allocUnsafe(4);
      b.writeUInt32LE(m.code >>> 0, 0);
      return outMessage(m.kind === 'keyDown' ? InputsMsgc.KeyDown : InputsMsgc.KeyUp, b);
    }
    case 'keyModifiers':
      return u16Message(InputsMsgc.KeyModifiers, m.modifiers);
    case 'keyScancode':
      return outMessage(InputsMsgc.KeyScancode, m.data);
    case 'mouseMotion': {
      const b = Buffer.allocUnsafe(10);
      b.writeInt32LE(m.dx, 0);
      b.writeInt32LE(m.dy, 4);
      b.writeUInt16LE(m.buttons, 8);
      return outMessage(InputsMsgc.MouseMotion, b);
    }
    case 'mousePosition': {
      const b = Buffer.allocUnsafe(11);
      b.writeUInt32LE(m.x >>> 0, 0);
      b.writeUInt32LE(m.y >>> 0, 4);
      b.writeUInt16LE(m.buttons, 8);
      b[10] = m.displayId;
      return outMessage(InputsMsgc.MousePosition, b);
    }
    case 'mousePress':
    case 'mouseRelease': {
      const b = Buffer.allocUnsafe(3);
      b[0] = m.button;
      b.writeUInt16LE(m.buttons, 1);
      return outMessage(m.kind === 'mousePress' ? InputsMsgc.MousePress : InputsMsgc.MouseRelease, b);
    }
  }
}

export function decodeInputsClientMessage(type: number, body: Buffer): InputsClientMessage | undefined {
  const r = new Reader(body);
  switch (type) {
    case InputsMsgc.KeyDown:
      return { kind: 'keyDown', code: r.u32() };
    case InputsMsgc.KeyUp:
      return { kind: 'keyUp', code: r.u32() };
    case InputsMsgc.KeyModifiers:
      return { kind: 'keyModifiers', modifiers: r.u16() };
    case InputsMsgc.KeyScancode:
      return { kind: 'keyScancode', data: r.rest() };
    case InputsMsgc.MouseMotion:
      return { kind: 'mouseMotion', dx: r.i32(), dy: r.i32(), buttons: r.u16() };
    case InputsMsgc.MousePosition:
      return { kind: 'mousePosition', x: r.u32(), y: r.u32(), buttons: r.u16(), displayId: r.u8() };
    case InputsMsgc.MousePress:
      return { kind: 'mousePress', button: r.u8(), buttons: r.u16() };
    case InputsMsgc.MouseRelease:
      return { kind: 'mouseRelease', button: r.u8(), buttons: r.u16() };
    default:
      return undefined;
  }
}
