import { PlaybackMsg, RecordMsg, RecordMsgc } from './constants.js';
import { emptyBody, outMessage, type OutMessage } from './message.js';
import { Reader } from './reader.js';

/* Playback (type 5) and record (type 6) channels (docs/protocol.md). */

export type PlaybackServerMessage =
  | { kind: 'data'; time: number; data: Buffer } // u32 time | data (rest)
  | { kind: 'mode'; time: number; mode: number; data: Buffer } // u32 time | u16 mode | data (rest)
  | { kind: 'start'; channels: number; format: number; frequency: number; time: number } // u32 | u16 | u32 | u32
  | { kind: 'stop' }
  | { kind: 'volume'; volumes: number[] } // u8 n | u16[n]
  | { kind: 'mute'; mute: boolean } // u8
  | { kind: 'latency'; latencyMs: number }; // u32

export type RecordServerMessage =
  | { kind: 'start'; channels: number; format: number; frequency: number } // u32 | u16 | u32
  | { kind: 'stop' }
  | { kind: 'volume'; volumes: number[] }
  | { kind: 'mute'; mute: boolean };

export type RecordClientMessage =
  | { kind: 'data'; time: number; data: Buffer } // u32 time | data (rest)
  | { kind: 'mode'; time: number; mode: number; data: Buffer } // u32 | u16 | data
  | { kind: 'startMark'; time: number }; // u32

export function encodePlaybackData(time: number, data: Buffer): OutMessage {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(time >>> 0, 0);
  return outMessage(PlaybackMsg.Data, b, data);
}

export function encodePlaybackMode(time: number, mode: number): OutMessage {
  const b = Buffer.allocUnsafe(6);
  b.writeUInt32LE(time >>> 0, 0);
  b.writeUInt16LE(mode, 4);
  return outMessage(PlaybackMsg.Mode, b);
}

export function encodePlaybackStart(channels: number, format: number, frequency: number, time: number): OutMessage {
  const b = Buffer.allocUnsafe(14);
  b.writeUInt32LE(channels, 0);
  b.writeUInt16LE(format, 4);
  b.writeUInt32LE(frequency, 6);
  b.writeUInt32LE(time >>> 0, 10);
  return outMessage(PlaybackMsg.Start, b);
}

export function encodePlaybackStop(): OutMessage {
  return emptyBody(PlaybackMsg.Stop);
}

function volumeBody(volumes: readonly number[]): Buffer {
  const b = Buffer.allocUnsafe(1 + 2 * volumes.length);
  b[0] = volumes.length;
  volumes.forEach((v, i) => b.writeUInt16LE(v, 1 + 2 * i));
  return b;
}

export function encodePlaybackVolume(volumes: readonly number[]): OutMessage {
  return outMessage(PlaybackMsg.Volume, volumeBody(volumes));
}

export function encodePlaybackMute(mute: boolean): OutMessage {
  return outMessage(PlaybackMsg.Mute, Buffer.from([mute ? 1 : 0]));
}

function readVolumes(r: Reader): number[] {
  const n = r.u8();
  const v: number[] = [];
  for (let i = 0; i < n; i++) v.push(r.u16());
  return v;
}

export function decodePlaybackServerMessage(type: number, body: Buffer): PlaybackServerMessage | undefined {
  const r = new Reader(body);
  switch (type) {
    case PlaybackMsg.Data:
      return { kind: 'data', time: r.u32(), data: r.rest() };
    case PlaybackMsg.Mode:
      return { kind: 'mode', time: r.u32(), mode: r.u16(), data: r.rest() };
    case PlaybackMsg.Start:
      return { kind: 'start', channels: r.u32(), format: r.u16(), frequency: r.u32(), time: r.u32() };
    case PlaybackMsg.Stop:
      return { kind: 'stop' };
    case PlaybackMsg.Volume:
      return { kind: 'volume', volumes: readVolumes(r) };
    case PlaybackMsg.Mute:
      return { kind: 'mute', mute: r.u8() !== 0 };
    case PlaybackMsg.Latency:
      return { kind: 'latency', latencyMs: r.u32() };
    default:
      return undefined;
  }
}

export function encodeRecordStart(channels: number, format: number, frequency: number): OutMessage {
  const b = Buffer.allocUnsafe(10);
  b.writeUInt32LE(channels, 0);
  b.writeUInt16LE(format, 4);
  b.writeUInt32LE(frequency, 6);
  return outMessage(RecordMsg.Start, b);
}

/** What a viewer's record channel hears from the server (the browser viewer's microphone). */
export function decodeRecordServerMessage(type: number, body: Buffer): RecordServerMessage | undefined {
  const r = new Reader(body);
  switch (type) {
    case RecordMsg.Start:
      return { kind: 'start', channels: r.u32(), format: r.u16(), frequency: r.u32() };
    case RecordMsg.Stop:
      return { kind: 'stop' };
    case RecordMsg.Volume:
      return { kind: 'volume', volumes: readVolumes(r) };
    case RecordMsg.Mute:
      return { kind: 'mute', mute: r.u8() !== 0 };
    default:
      return undefined;
  }
}

export function encodeRecordClientMessage(m: RecordClientMessage): OutMessage {
  switch (m.kind) {
    case 'data': {
      const b = Buffer.allocUnsafe(4);
      b.writeUInt32LE(m.time >>> 0, 0);
      return outMessage(RecordMsgc.Data, b, m.data);
    }
    case 'mode': {
      const b = Buffer.allocUnsafe(6);
      b.writeUInt32LE(m.time >>> 0, 0);
      b.writeUInt16LE(m.mode, 4);
      return outMessage(RecordMsgc.Mode, b, m.data);
    }
    case 'startMark': {
      const b = Buffer.allocUnsafe(4);
      b.writeUInt32LE(m.time >>> 0, 0);
      return outMessage(RecordMsgc.StartMark, b);
    }
  }
}

export function decodeRecordClientMessage(type: number, body: Buffer): RecordClientMessage | undefined {
  const r = new Reader(body);
  switch (type) {
    case RecordMsgc.Data:
      return { kind: 'data', time: r.u32(), data: r.rest() };
    case RecordMsgc.Mode:
      return { kind: 'mode', time: r.u32(), mode: r.u16(), data: r.rest() };
    case RecordMsgc.StartMark:
      return { kind: 'startMark', time: r.u32() };
    default:
      return undefined;
  }
}
