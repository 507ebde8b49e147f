import { readClip, writeClip, type Clip } from './clip.js';
import { DisplayCap, DisplayMsg, DisplayMsgc } from './constants.js';
import { ProtocolError } from './errors.js';
import { readRect, writeRect, type Rect } from './geometry.js';
import { emptyBody, outMessage, type OutMessage } from './message.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

/*
 * Video streams on the display channel: a region the server sends as a sequence of compressed
 * frames instead of draws. The server creates a stream over a destination rect, sends frames
 * stamped with the multimedia clock, may clip it, and destroys it; the client plays each frame at
 * its stamp and reports what it played (STREAM_REPORT) when the server asked it to.
 */

/** SpiceVideoCodecType: the codec byte of STREAM_CREATE. */
export const VideoCodec = { Mjpeg: 1, Vp8: 2, H264: 3, Vp9: 4, H265: 5 } as const;

/** STREAM_CREATE flags: TOP_DOWN says frame rows run top to bottom (spice-gtk flips them otherwise). */
export const StreamFlags = { TopDown: 1 } as const;

/** The sentinel a client reports for a stream it cannot decode (spice-gtk: num_frames 0, num_drops ~0). */
const UNDECODABLE_DROPS = 0xffffffff;

/**
 * STREAM_CREATE: u32 surface_id | u32 id | u8 flags | u8 codec | u64 stamp | u32 stream_width |
 * u32 stream_height | u32 src_width | u32 src_height | Rect dest | Clip
 */
export interface StreamCreate {
  surfaceId: number;
  id: number;
  flags: number;
  codec: number;
  stamp: bigint;
  /** The size of the frames as encoded. */
  streamWidth: number;
  streamHeight: number;
  /** The size of the source area the frames show (the client scales stream to dest). */
  srcWidth: number;
  srcHeight: number;
  dest: Rect;
  clip: Clip;
}

/** STREAM_DATA: u32 id | u32 mm_time | u32 data_size | data */
export interface StreamData {
  id: number;
  mmTime: number;
  data: Buffer;
}

/** STREAM_DATA_SIZED: u32 id | u32 mm_time | u32 width | u32 height | Rect dest | u32 data_size | data */
export interface StreamDataSized extends StreamData {
  width: number;
  height: number;
  dest: Rect;
}

/** STREAM_ACTIVATE_REPORT: u32 stream_id | u32 unique_id | u32 max_window_size | u32 timeout_ms */
export interface StreamActivateReport {
  streamId: number;
  uniqueId: number;
  /** The client reports after this many frames... */
  maxWindow: number;
  /** ...or after this many ms of stream time, whichever comes first. */
  timeoutMs: number;
}

/**
 * MSGC STREAM_REPORT: u32 stream_id | u32 unique_id | u32 start_frame_mm_time | u32 end_frame_mm_time |
 * u32 num_frames | u32 num_drops | i32 last_frame_delay | u32 audio_delay
 */
export interface StreamReport {
  streamId: number;
  uniqueId: number;
  startFrameMmTime: number;
  endFrameMmTime: number;
  numFrames: number;
  numDrops: number;
  /** How early (positive) or late (negative) the last frame arrived against its stamp, in ms. */
  lastFrameDelay: number;
  audioDelay: number;
}

export type StreamServerMessage =
  | ({ kind: 'streamCreate' } & StreamCreate)
  | ({ kind: 'streamData' } & StreamData)
  | ({ kind: 'streamDataSized' } & StreamDataSized)
  | { kind: 'streamClip'; id: number; clip: Clip }
  | { kind: 'streamDestroy'; id: number }
  | { kind: 'streamDestroyAll' }
  | ({ kind: 'streamActivateReport' } & StreamActivateReport);

export function encodeStreamCreate(s: StreamCreate): OutMessage {
  const w = new Writer(64);
  w.u32(s.surfaceId).u32(s.id).u8(s.flags).u8(s.codec).u64(s.stamp);
  w.u32(s.streamWidth).u32(s.streamHeight).u32(s.srcWidth).u32(s.srcHeight);
  writeRect(w, s.dest);
  writeClip(w, s.clip);
  return outMessage(DisplayMsg.StreamCreate, w.finish());
}

/** The frame travels as its own iovec after a 12-byte head: it is shared by every viewer, never copied. */
export function encodeStreamData(d: StreamData): OutMessage {
  const head = Buffer.allocUnsafe(12);
  head.writeUInt32LE(d.id >>> 0, 0);
  head.writeUInt32LE(d.mmTime >>> 0, 4);
  head.writeUInt32LE(d.data.length, 8);
  return outMessage(DisplayMsg.StreamData, head, d.data);
}

export function encodeStreamDataSized(d: StreamDataSized): OutMessage {
  const w = new Writer(40);
  w.u32(d.id).u32(d.mmTime).u32(d.width).u32(d.height);
  writeRect(w, d.dest);
  w.u32(d.data.length);
  return outMessage(DisplayMsg.StreamDataSized, w.finish(), d.data);
}

export function encodeStreamClip(id: number, clip: Clip): OutMessage {
  const w = new Writer(16);
  w.u32(id);
  writeClip(w, clip);
  return outMessage(DisplayMsg.StreamClip, w.finish());
}

export function encodeStreamDestroy(id: number): OutMessage {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(id >>> 0, 0);
  return outMessage(DisplayMsg.StreamDestroy, b);
}

export function encodeStreamDestroyAll(): OutMessage {
  return emptyBody(DisplayMsg.StreamDestroyAll);
}

export function encodeStreamActivateReport(a: StreamActivateReport): OutMessage {
  const b = Buffer.allocUnsafe(16);
  [a.streamId, a.uniqueId, a.maxWindow, a.timeoutMs].forEach((v, i) => b.writeUInt32LE(v >>> 0, 4 * i));
  return outMessage(DisplayMsg.StreamActivateReport, b);
}

/** The client side of STREAM_REPORT (the project's headless client and tests send it). */
export function encodeStreamReport(r: StreamReport): OutMessage {
  const b = Buffer.allocUnsafe(32);
  const counts = [r.streamId, r.uniqueId, r.startFrameMmTime, r.endFrameMmTime, r.numFrames, r.numDrops];
  counts.forEach((v, i) => b.writeUInt32LE(v >>> 0, 4 * i));
  b.writeInt32LE(r.lastFrameDelay | 0, 24);
  b.writeUInt32LE(r.audioDelay >>> 0, 28);
  return outMessage(DisplayMsgc.StreamReport, b);
}

export function decodeStreamReport(body: Buffer): StreamReport {
  const r = new Reader(body);
  return {
    streamId: r.u32(),
    uniqueId: r.u32(),
    startFrameMmTime: r.u32(),
    endFrameMmTime: r.u32(),
    numFrames: r.u32(),
    numDrops: r.u32(),
    lastFrameDelay: r.i32(),
    audioDelay: r.u32(),
  };
}

/** A client says it cannot decode the stream at all: send that viewer images instead. */
export function reportsUndecodable(r: StreamReport): boolean {
  return r.numFrames === 0 && r.numDrops === UNDECODABLE_DROPS;
}

function readFrame(r: Reader): Buffer {
  const size = r.u32();
  if (size > r.remaining) {
    throw new ProtocolError('BAD_MESSAGE', `stream frame of ${size} bytes overruns the message (${r.remaining} left)`);
  }
  return r.bytes(size);
}

/** Stream messages, server to client; undefined for a type that is not one. */
export function decodeStreamServerMessage(type: number, body: Buffer): StreamServerMessage | undefined {
  const r = new Reader(body);
  switch (type) {
    case DisplayMsg.StreamCreate: {
      const head = { surfaceId: r.u32(), id: r.u32(), flags: r.u8(), codec: r.u8(), stamp: r.u64() };
      const sizes = { streamWidth: r.u32(), streamHeight: r.u32(), srcWidth: r.u32(), srcHeight: r.u32() };
      return { kind: 'streamCreate', ...head, ...sizes, dest: readRect(r), clip: readClip(r) };
    }
    case DisplayMsg.StreamData:
      return { kind: 'streamData', id: r.u32(), mmTime: r.u32(), data: readFrame(r) };
    case DisplayMsg.StreamDataSized: {
      const head = { id: r.u32(), mmTime: r.u32(), width: r.u32(), height: r.u32(), dest: readRect(r) };
      return { kind: 'streamDataSized', ...head, data: readFrame(r) };
    }
    case DisplayMsg.StreamClip:
      return { kind: 'streamClip', id: r.u32(), clip: readClip(r) };
    case DisplayMsg.StreamDestroy:
      return { kind: 'streamDestroy', id: r.u32() };
    case DisplayMsg.StreamDestroyAll:
      return { kind: 'streamDestroyAll' };
    case DisplayMsg.StreamActivateReport:
      return {
        kind: 'streamActivateReport',
        streamId: r.u32(),
        uniqueId: r.u32(),
        maxWindow: r.u32(),
        timeoutMs: r.u32(),
      };
    default:
      return undefined;
  }
}

/** What a viewer's display capabilities allow for streams. */
export interface StreamAbility {
  mjpeg: boolean;
  /** STREAM_DATA_SIZED (frames may change size without a new STREAM_CREATE). */
  sized: boolean;
  /** STREAM_ACTIVATE_REPORT and STREAM_REPORT. */
  reports: boolean;
}

/**
 * A client that announces MULTI_CODEC lists the codecs it decodes; one that does not predates the
 * codec caps and decodes MJPEG only (spice-server reasons the same way).
 */
export function streamAbility(hasCap: (cap: number) => boolean): StreamAbility {
  const mjpeg = hasCap(DisplayCap.MultiCodec) ? hasCap(DisplayCap.CodecMjpeg) : true;
  return { mjpeg, sized: hasCap(DisplayCap.SizedStream), reports: hasCap(DisplayCap.StreamReport) };
}
