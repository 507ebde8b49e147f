import { ProtocolError } from './errors.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

/*
 * The guest agent's messages (spice-protocol's vd_agent.h), carried inside the main channel's
 * AGENT_DATA messages. A VDAgentMessage is a 20-byte little-endian header
 * {u32 protocol = 1, u32 type, u64 opaque, u32 size} and `size` bytes of body, cut into chunks of
 * at most 2048 bytes, one AGENT_DATA each, the header at the start of the first. A message never
 * shares a chunk with the next one (spice-gtk, spice-html5 and spice-server all start each message
 * in a fresh AGENT_DATA), so bytes past a message's end are a lie about its size. See
 * docs/agent.md for the policy built on top.
 */

const AGENT_PROTOCOL = 1;
export const AGENT_HEADER_SIZE = 20;
/** Largest AGENT_DATA body either side may send (spice-server closes a client that sends more). */
export const AGENT_MAX_CHUNK = 2048;

export const AgentMsg = {
  MouseState: 1,
  MonitorsConfig: 2,
  Reply: 3,
  Clipboard: 4,
  DisplayConfig: 5,
  AnnounceCapabilities: 6,
  ClipboardGrab: 7,
  ClipboardRequest: 8,
  ClipboardRelease: 9,
  FileXferStart: 10,
  FileXferStatus: 11,
  FileXferData: 12,
  ClientDisconnected: 13,
  MaxClipboard: 14,
  AudioVolumeSync: 15,
  GraphicsDeviceInfo: 16,
} as const;
/** The highest message type spice-protocol defines; anything above is not a message of this protocol. */
const AGENT_MSG_LAST = AgentMsg.GraphicsDeviceInfo;

export const AgentCap = {
  MouseState: 0,
  MonitorsConfig: 1,
  Reply: 2,
  Clipboard: 3,
  DisplayConfig: 4,
  ClipboardByDemand: 5,
  ClipboardSelection: 6,
  SparseMonitorsConfig: 7,
  GuestLineEndLf: 8,
  GuestLineEndCrlf: 9,
  MaxClipboard: 10,
  AudioVolumeSync: 11,
  MonitorsConfigPosition: 12,
  FileXferDisabled: 13,
  FileXferDetailedErrors: 14,
  GraphicsDeviceInfo: 15,
  ClipboardNoReleaseOnRegrab: 16,
  ClipboardGrabSerial: 17,
} as const;

/** Clipboard data types on the wire. */
export const AgentClipboardType = { None: 0, Utf8Text: 1, Png: 2, Bmp: 3, Tiff: 4, Jpg: 5, FileList: 6 } as const;

/** Selections on the wire (with CLIPBOARD_SELECTION on both sides). */
export const AgentSelection = { Clipboard: 0, Primary: 1, Secondary: 2 } as const;

export const AgentReplyError = { Success: 1, Error: 2 } as const;

export const FileXferResult = {
  CanSendData: 0,
  Cancelled: 1,
  Error: 2,
  Success: 3,
  NotEnoughSpace: 4,
  SessionLocked: 5,
  AgentNotConnected: 6,
  Disabled: 7,
} as const;

/** More heads than any viewer has; a count above it is refused before it sizes anything. */
const AGENT_MAX_MONITORS = 64;

export interface AgentMonitor {
  width: number;
  height: number;
  depth: number;
  x: number;
  y: number;
}

export type AgentMessage =
  | { kind: 'announceCapabilities'; request: boolean; caps: number[] } // caps as u32 words
  | { kind: 'monitorsConfig'; flags: number; monitors: AgentMonitor[] }
  | { kind: 'reply'; type: number; error: number }
  | { kind: 'clipboardGrab'; selection: number; types: number[] }
  | { kind: 'clipboardRequest'; selection: number; type: number }
  | { kind: 'clipboard'; selection: number; type: number; data: Buffer }
  | { kind: 'clipboardRelease'; selection: number }
  | { kind: 'fileXferStart'; id: number; name: string; size: number }
  | { kind: 'fileXferStatus'; id: number; result: number; data: Buffer }
  | { kind: 'fileXferData'; id: number; data: Buffer }
  | { kind: 'maxClipboard'; max: number }
  /** A message this protocol defines that spiced has no use for (mouse state, volume sync...). */
  | { kind: 'ignored'; type: number };

/** What decoding a clipboard message depends on: whether both sides announced CLIPBOARD_SELECTION. */
export interface AgentCodecOptions {
  selection: boolean;
}

// ---------------------------------------------------------------------------------------------
// Framing

/** Cut one VDAgentMessage into AGENT_DATA bodies; later chunks are views of `body`, not copies. */
export function chunkAgentMessage(type: number, body: Buffer, opaque = 0n): Buffer[] {
  const head = Buffer.allocUnsafe(AGENT_HEADER_SIZE);
  head.writeUInt32LE(AGENT_PROTOCOL, 0);
  head.writeUInt32LE(type, 4);
  head.writeBigUInt64LE(opaque, 8);
  head.writeUInt32LE(body.length, 16);
  const firstBody = Math.min(body.length, AGENT_MAX_CHUNK - AGENT_HEADER_SIZE);
  const chunks: Buffer[] = [Buffer.concat([head, body.subarray(0, firstBody)])];
  for (let at = firstBody; at < body.length; at += AGENT_MAX_CHUNK) {
    chunks.push(body.subarray(at, Math.min(body.length, at + AGENT_MAX_CHUNK)));
  }
  return chunks;
}

export interface AgentRawMessage {
  type: number;
  opaque: bigint;
  body: Buffer;
}

/**
 * Reassembles VDAgentMessages from AGENT_DATA chunks (sans-IO). `maxSize(type)` bounds what a
 * message of each type may claim: a header claiming more is refused before anything is held, so
 * memory stays at most the largest allowed message per viewer whatever the header says. Throws
 * ProtocolError on a chunk over 2048 bytes, a wrong protocol number, an unknown type, an oversize
 * claim, or a chunk that runs past the end of its message; the caller resets with `reset()`.
 */
export class AgentReassembler {
  private header = Buffer.alloc(AGENT_HEADER_SIZE);
  private headerFill = 0;
  private current: { type: number; opaque: bigint; size: number; parts: Buffer[]; filled: number } | undefined;

  constructor(private readonly maxSize: (type: number) => number) {}

  /** Bytes held for the message in progress. */
  get buffered(): number {
    return this.headerFill + (this.current?.filled ?? 0);
  }

  /** True between messages (no partial header or body held). */
  get idle(): boolean {
    return this.buffered === 0 && this.current === undefined;
  }

  reset(): void {
    this.headerFill = 0;
    this.current = undefined;
  }

  /** Feed one AGENT_DATA body; returns the message it completes, if any. */
  push(chunk: Buffer): AgentRawMessage | undefined {
    if (chunk.length > AGENT_MAX_CHUNK) {
      throw new ProtocolError('OVERSIZE', `agent chunk of ${chunk.length} bytes (at most ${AGENT_MAX_CHUNK})`);
    }
    let rest = chunk;
    if (!this.current) {
      const take = Math.min(AGENT_HEADER_SIZE - this.headerFill, rest.length);
      rest.copy(this.header, this.headerFill, 0, take);
      this.headerFill += take;
      rest = rest.subarray(take);
      if (this.headerFill < AGENT_HEADER_SIZE) return undefined;
      this.current = this.startMessage();
    }
    const msg = this.current;
    if (rest.length > msg.size - msg.filled) {
      const over = rest.length - (msg.size - msg.filled);
      throw new ProtocolError(
        'BAD_MESSAGE',
        `agent message type ${msg.type} runs ${over} bytes past its size ${msg.size}`,
      );
    }
    if (rest.length > 0) {
      // Copied: the chunk is a view into a socket read that must not be kept alive.
      msg.parts.push(Buffer.from(rest));
      msg.filled += rest.length;
    }
    if (msg.filled < msg.size) return undefined;
    this.reset();
    const body = msg.parts.length === 1 ? msg.parts[0]! : Buffer.concat(msg.parts, msg.size);
    return { type: msg.type, opaque: msg.opaque, body };
  }

  private startMessage(): { type: number; opaque: bigint; size: number; parts: Buffer[]; filled: number } {
    const h = this.header;
    const protocol = h.readUInt32LE(0);
    const type = h.readUInt32LE(4);
    const size = h.readUInt32LE(16);
    if (protocol !== AGENT_PROTOCOL) {
      throw new ProtocolError('BAD_VERSION', `agent message protocol ${protocol} (expected ${AGENT_PROTOCOL})`);
    }
    if (type < 1 || type > AGENT_MSG_LAST)
      throw new ProtocolError('UNKNOWN_MESSAGE', `unknown agent message type ${type}`);
    const limit = this.maxSize(type);
    if (size > limit) {
      throw new ProtocolError('OVERSIZE', `agent message type ${type} of ${size} bytes (at most ${limit})`);
    }
    return { type, opaque: h.readBigUInt64LE(8), size, parts: [], filled: 0 };
  }
}

// ---------------------------------------------------------------------------------------------
// Bodies

function selectionPrefix(r: Reader, o: AgentCodecOptions): number {
  if (!o.selection) return AgentSelection.Clipboard;
  const selection = r.u8();
  r.bytes(3);
  return selection;
}

function u32List(r: Reader): number[] {
  if (r.remaining % 4 !== 0) throw new ProtocolError('BAD_MESSAGE', `list of u32 with ${r.remaining} bytes`);
  const out: number[] = [];
  while (r.remaining > 0) out.push(r.u32());
  return out;
}

/** Decode a reassembled message body. Throws ProtocolError when the body is shorter than its fields. */
export function decodeAgentMessage(type: number, body: Buffer, o: AgentCodecOptions): AgentMessage {
  const r = new Reader(body);
  switch (type) {
    case AgentMsg.AnnounceCapabilities: {
      const request = r.u32() !== 0;
      // Trailing bytes short of a word are ignored, as vd_agent.h's size macro does.
      const caps: number[] = [];
      while (r.remaining >= 4) caps.push(r.u32());
      return { kind: 'announceCapabilities', request, caps };
    }
    case AgentMsg.MonitorsConfig:
      return decodeMonitorsConfig(r);
    case AgentMsg.Reply:
      return { kind: 'reply', type: r.u32(), error: r.u32() };
    case AgentMsg.ClipboardGrab: {
      const selection = selectionPrefix(r, o);
      return { kind: 'clipboardGrab', selection, types: u32List(r) };
    }
    case AgentMsg.ClipboardRequest: {
      const selection = selectionPrefix(r, o);
      return { kind: 'clipboardRequest', selection, type: r.u32() };
    }
    case AgentMsg.Clipboard: {
      const selection = selectionPrefix(r, o);
      return { kind: 'clipboard', selection, type: r.u32(), data: r.rest() };
    }
    case AgentMsg.ClipboardRelease:
      return { kind: 'clipboardRelease', selection: selectionPrefix(r, o) };
    case AgentMsg.FileXferStart: {
      const id = r.u32();
      return { kind: 'fileXferStart', id, ...parseFileXferKeyFile(r.rest()) };
    }
    case AgentMsg.FileXferStatus:
      return { kind: 'fileXferStatus', id: r.u32(), result: r.u32(), data: r.rest() };
    case AgentMsg.FileXferData: {
      const id = r.u32();
      const size = r.u64();
      if (size !== BigInt(r.remaining)) {
        throw new ProtocolError('BAD_MESSAGE', `file data message says ${size} bytes but carries ${r.remaining}`);
      }
      return { kind: 'fileXferData', id, data: r.rest() };
    }
    case AgentMsg.MaxClipboard:
      return { kind: 'maxClipboard', max: r.i32() };
    default:
      return { kind: 'ignored', type };
  }
}

function decodeMonitorsConfig(r: Reader): AgentMessage {
  const count = r.u32();
  const flags = r.u32();
  if (count > AGENT_MAX_MONITORS) throw new ProtocolError('BAD_MESSAGE', `monitors config with ${count} heads`);
  const monitors: AgentMonitor[] = [];
  for (let i = 0; i < count; i++) {
    const height = r.u32();
    const width = r.u32();
    monitors.push({ width, height, depth: r.u32(), x: r.i32(), y: r.i32() });
  }
  // With PHYSICAL_SIZE, {u16 height_mm, u16 width_mm} per head follows: not needed to lay out.
  return { kind: 'monitorsConfig', flags, monitors };
}

/**
 * FILE_XFER_START carries a GLib key file: group [vdagent-file-xfer] with `name` and `size`,
 * NUL-terminated by spice-gtk. Values use GKeyFile escapes (\s \n \t \r \\).
 */
export function parseFileXferKeyFile(data: Buffer): { name: string; size: number } {
  const end = data.indexOf(0);
  const text = data.subarray(0, end < 0 ? data.length : end).toString('utf8');
  let group = '';
  const values = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('#') || line.trim() === '') continue;
    const g = /^\[(.*)\]\s*$/.exec(line);
    if (g) {
      group = g[1]!;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0 || group !== 'vdagent-file-xfer') continue;
    values.set(line.slice(0, eq).trim(), unescapeKeyFileValue(line.slice(eq + 1).replace(/^\s+/, '')));
  }
  const name = values.get('name');
  const sizeText = values.get('size');
  if (name === undefined || sizeText === undefined || !/^\d{1,15}$/.test(sizeText)) {
    throw new ProtocolError('BAD_MESSAGE', 'file transfer start without a [vdagent-file-xfer] name and size');
  }
  return { name, size: Number(sizeText) };
}

function unescapeKeyFileValue(v: string): string {
  const map: Record<string, string> = { s: ' ', n: '\n', t: '\t', r: '\r', '\\': '\\' };
  return v.replace(/\\(.)/g, (all, c: string) => map[c] ?? all);
}

/** The key file spice-gtk sends, for tests and the project's own client. */
function formatFileXferKeyFile(name: string, size: number): Buffer {
  const escaped = name
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\t/g, '\\t')
    .replace(/\r/g, '\\r')
    .replace(/^ /, '\\s');
  return Buffer.from(`[vdagent-file-xfer]\nname=${escaped}\nsize=${size}\n\0`, 'utf8');
}

// ---------------------------------------------------------------------------------------------
// Encoders: each returns the message body; chunkAgentMessage frames it.

export function encodeAnnounceCapabilities(request: boolean, capWordList: readonly number[]): Buffer {
  const w = new Writer(4 + 4 * capWordList.length).u32(request ? 1 : 0);
  for (const c of capWordList) w.u32(c);
  return w.finish();
}

export function encodeAgentReply(type: number, error: number): Buffer {
  return new Writer(8).u32(type).u32(error).finish();
}

function withSelection(w: Writer, selection: number, o: AgentCodecOptions): Writer {
  return o.selection ? w.u8(selection).u8(0).u8(0).u8(0) : w;
}

export function encodeClipboardGrab(selection: number, types: readonly number[], o: AgentCodecOptions): Buffer {
  const w = withSelection(new Writer(8 + 4 * types.length), selection, o);
  for (const t of types) w.u32(t);
  return w.finish();
}

export function encodeClipboardRequest(selection: number, type: number, o: AgentCodecOptions): Buffer {
  return withSelection(new Writer(8), selection, o).u32(type).finish();
}

/** CLIPBOARD: the prefix and type, then the data (copied once into the message body). */
export function encodeClipboard(selection: number, type: number, data: Uint8Array, o: AgentCodecOptions): Buffer {
  return withSelection(new Writer(8 + data.length), selection, o)
    .u32(type)
    .bytes(data)
    .finish();
}

export function encodeClipboardRelease(selection: number, o: AgentCodecOptions): Buffer {
  return withSelection(new Writer(4), selection, o).finish();
}

export function encodeAgentMonitorsConfig(flags: number, monitors: readonly AgentMonitor[]): Buffer {
  const w = new Writer(8 + 20 * monitors.length).u32(monitors.length).u32(flags);
  for (const m of monitors) w.u32(m.height).u32(m.width).u32(m.depth).i32(m.x).i32(m.y);
  return w.finish();
}

export function encodeFileXferStart(id: number, name: string, size: number): Buffer {
  return new Writer(64).u32(id).bytes(formatFileXferKeyFile(name, size)).finish();
}

export function encodeFileXferStatus(id: number, result: number, data: Uint8Array = new Uint8Array(0)): Buffer {
  return new Writer(8 + data.length).u32(id).u32(result).bytes(data).finish();
}

export function encodeFileXferData(id: number, data: Uint8Array): Buffer {
  return new Writer(12 + data.length).u32(id).u64(data.length).bytes(data).finish();
}

export function encodeMaxClipboard(max: number): Buffer {
  return new Writer(4).i32(max).finish();
}
