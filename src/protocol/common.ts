import { CommonMsg, CommonMsgc } from './constants.js';
import { ProtocolError } from './errors.js';
import { emptyBody, outMessage, type OutMessage } from './message.js';
import { Reader } from './reader.js';

/* Messages shared by every channel (docs/protocol.md, Common messages). */

export type CommonServerMessage =
  | { kind: 'migrate'; flags: number }
  | { kind: 'migrateData'; data: Buffer }
  | { kind: 'setAck'; generation: number; window: number } // u32 generation | u32 window
  | { kind: 'ping'; id: number; timestamp: bigint; data: Buffer } // u32 id | u64 timestamp | data[]
  | { kind: 'waitForChannels'; waits: ChannelWait[] } // u8 count | {u8 type, u8 id, u64 serial}[]
  | { kind: 'disconnecting'; timeStamp: bigint; reason: number } // u64 | u32
  | { kind: 'notify'; timeStamp: bigint; severity: number; visibility: number; what: number; message: string }
  | { kind: 'list'; data: Buffer };

export type CommonClientMessage =
  | { kind: 'ackSync'; generation: number } // u32
  | { kind: 'ack' } // empty
  | { kind: 'pong'; id: number; timestamp: bigint } // u32 id | u64 timestamp
  | { kind: 'migrateFlushMark' }
  | { kind: 'migrateData'; data: Buffer }
  | { kind: 'disconnecting'; timeStamp: bigint; reason: number };

export interface ChannelWait {
  channelType: number;
  channelId: number;
  serial: bigint;
}

export function encodeSetAck(generation: number, window: number): OutMessage {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32LE(generation >>> 0, 0);
  b.writeUInt32LE(window >>> 0, 4);
  return outMessage(CommonMsg.SetAck, b);
}

export function encodePing(id: number, timestamp: bigint, data?: Buffer): OutMessage {
  const b = Buffer.allocUnsafe(12);
  b.writeUInt32LE(id >>> 0, 0);
  b.writeBigUInt64LE(timestamp, 4);
  return data && data.length > 0 ? outMessage(CommonMsg.Ping, b, data) : outMessage(CommonMsg.Ping, b);
}

export function encodeDisconnecting(timeStamp: bigint, reason: number): OutMessage {
  const b = Buffer.allocUnsafe(12);
  b.writeBigUInt64LE(timeStamp, 0);
  b.writeUInt32LE(reason, 8);
  return outMessage(CommonMsg.Disconnecting, b);
}

export function encodeNotify(n: {
  timeStamp: bigint;
  severity: number;
  visibility: number;
  what: number;
  message: string;
}): OutMessage {
  const text = Buffer.from(n.message, 'utf8');
  const b = Buffer.allocUnsafe(24);
  b.writeBigUInt64LE(n.timeStamp, 0);
  b.writeUInt32LE(n.severity, 8);
  b.writeUInt32LE(n.visibility, 12);
  b.writeUInt32LE(n.what, 16);
  b.writeUInt32LE(text.length, 20);
  return outMessage(CommonMsg.Notify, b, text);
}

export function encodeWaitForChannels(type: number, waits: ChannelWait[]): OutMessage {
  const b = Buffer.allocUnsafe(1 + 10 * waits.length);
  b[0] = waits.length;
  waits.forEach((w, i) => {
    b[1 + 10 * i] = w.channelType;
    b[2 + 10 * i] = w.channelId;
    b.writeBigUInt64LE(w.serial, 3 + 10 * i);
  });
  return outMessage(type, b);
}

function decodeWaits(r: Reader): ChannelWait[] {
  const n = r.u8();
  const waits: ChannelWait[] = [];
  for (let i = 0; i < n; i++) waits.push({ channelType: r.u8(), channelId: r.u8(), serial: r.u64() });
  return waits;
}

export { decodeWaits };

/** Decode a common server message; undefined when `type` is channel-specific. */
export function decodeCommonServerMessage(type: number, body: Buffer): CommonServerMessage | undefined {
  const r = new Reader(body);
  switch (type) {
    case CommonMsg.Migrate:
      return { kind: 'migrate', flags: r.u32() };
    case CommonMsg.MigrateData:
      return { kind: 'migrateData', data: r.rest() };
    case CommonMsg.SetAck:
      return { kind: 'setAck', generation: r.u32(), window: r.u32() };
    case CommonMsg.Ping:
      return { kind: 'ping', id: r.u32(), timestamp: r.u64(), data: r.rest() };
    case CommonMsg.WaitForChannels:
      return { kind: 'waitForChannels', waits: decodeWaits(r) };
    case CommonMsg.Disconnecting:
      return { kind: 'disconnecting', timeStamp: r.u64(), reason: r.u32() };
    case CommonMsg.Notify: {
      const timeStamp = r.u64();
      const severity = r.u32();
      const visibility = r.u32();
      const what = r.u32();
      const len = r.u32();
      return { kind: 'notify', timeStamp, severity, visibility, what, message: r.bytes(len).toString('utf8') };
    }
    case CommonMsg.List:
      return { kind: 'list', data: r.rest() };
    default:
      return undefined;
  }
}

export function encodeAckSync(generation: number): OutMessage {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(generation >>> 0, 0);
  return outMessage(CommonMsgc.AckSync, b);
}

export function encodeAck(): OutMessage {
  return emptyBody(CommonMsgc.Ack);
}

export function encodePong(id: number, timestamp: bigint): OutMessage {
  const b = Buffer.allocUnsafe(12);
  b.writeUInt32LE(id >>> 0, 0);
  b.writeBigUInt64LE(timestamp, 4);
  return outMessage(CommonMsgc.Pong, b);
}

/** Decode a common client message; undefined when `type` is channel-specific. */
export function decodeCommonClientMessage(type: number, body: Buffer): CommonClientMessage | undefined {
  const r = new Reader(body);
  switch (type) {
    case CommonMsgc.AckSync:
      return { kind: 'ackSync', generation: r.u32() };
    case CommonMsgc.Ack:
      return { kind: 'ack' };
    case CommonMsgc.Pong:
      return { kind: 'pong', id: r.u32(), timestamp: r.u64() };
    case CommonMsgc.MigrateFlushMark:
      return { kind: 'migrateFlushMark' };
    case CommonMsgc.MigrateData:
      return { kind: 'migrateData', data: r.rest() };
    case CommonMsgc.Disconnecting:
      return { kind: 'disconnecting', timeStamp: r.u64(), reason: r.u32() };
    default:
      return undefined;
  }
}

export function unknownMessage(channel: string, type: number, size: number): ProtocolError {
  return new ProtocolError('UNKNOWN_MESSAGE', `unknown ${channel} message type ${type} (${size} bytes)`);
}
