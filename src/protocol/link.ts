import { ProtocolError } from './errors.js';
import { LinkErr, SPICE_MAGIC, SPICE_VERSION_MAJOR, SPICE_VERSION_MINOR } from './constants.js';
import { Reader } from './reader.js';

/*
 * Link stage, one per channel connection (docs/protocol.md, Link stage):
 *
 *   SpiceLinkHeader (16)   u32 magic "REDQ" | u32 major | u32 minor | u32 size (of what follows)
 *   SpiceLinkMess   (18+)  u32 connection_id | u8 channel_type | u8 channel_id
 *                          | u32 num_common_caps | u32 num_channel_caps | u32 caps_offset | caps...
 *   SpiceLinkReply  (178+) u32 error | u8 pub_key[162] (SPKI DER) | u32 num_common_caps
 *                          | u32 num_channel_caps | u32 caps_offset | caps...
 */

export const LINK_HEADER_SIZE = 16;
export const LINK_MESS_SIZE = 18;
export const LINK_REPLY_SIZE = 178;
export const PUB_KEY_SIZE = 162;
export const TICKET_SIZE = 128;
/** spice-server refuses larger link messages; so do we (a header must not make us buffer megabytes). */
const MAX_LINK_MESS_SIZE = 4096;

export interface LinkHeader {
  magic: number;
  major: number;
  minor: number;
  size: number;
}

export interface LinkMess {
  connectionId: number;
  channelType: number;
  channelId: number;
  commonCaps: number[];
  channelCaps: number[];
}

export interface LinkReply {
  error: number;
  pubKey: Buffer;
  commonCaps: number[];
  channelCaps: number[];
}

function encodeLinkHeader(size: number, major = SPICE_VERSION_MAJOR, minor = SPICE_VERSION_MINOR): Buffer {
  const b = Buffer.allocUnsafe(LINK_HEADER_SIZE);
  b.writeUInt32LE(SPICE_MAGIC, 0);
  b.writeUInt32LE(major, 4);
  b.writeUInt32LE(minor, 8);
  b.writeUInt32LE(size, 12);
  return b;
}

/**
 * Decode and validate a link header. `minSize` is the smallest body the reader expects (18 for a
 * link mess, 178 for a reply); failures carry the SpiceLinkErr spice-server would send.
 */
export function decodeLinkHeader(buf: Buffer, minSize: number, maxSize = MAX_LINK_MESS_SIZE): LinkHeader {
  const r = new Reader(buf);
  const h: LinkHeader = { magic: r.u32(), major: r.u32(), minor: r.u32(), size: r.u32() };
  if (h.magic !== SPICE_MAGIC) {
    throw new ProtocolError(
      'BAD_MAGIC',
      `bad link magic 0x${h.magic.toString(16).padStart(8, '0')}`,
      LinkErr.InvalidMagic,
    );
  }
  if (h.major !== SPICE_VERSION_MAJOR) {
    throw new ProtocolError(
      'BAD_VERSION',
      `protocol version ${h.major}.${h.minor}, need ${SPICE_VERSION_MAJOR}.x`,
      LinkErr.VersionMismatch,
    );
  }
  if (h.size < minSize || h.size > maxSize) {
    throw new ProtocolError(
      'OVERSIZE',
      `link message size ${h.size} outside ${minSize}..${maxSize}`,
      LinkErr.InvalidData,
    );
  }
  return h;
}

function encodeCaps(b: Buffer, at: number, common: readonly number[], channel: readonly number[]): void {
  let off = at;
  for (const w of [...common, ...channel]) {
    b.writeUInt32LE(w >>> 0, off);
    off += 4;
  }
}

/** Header + SpiceLinkMess + caps, as a client sends it. */
export function encodeLinkMess(m: LinkMess): Buffer {
  const size = LINK_MESS_SIZE + 4 * (m.commonCaps.length + m.channelCaps.length);
  const b = Buffer.allocUnsafe(LINK_HEADER_SIZE + size);
  encodeLinkHeader(size).copy(b, 0);
  const o = LINK_HEADER_SIZE;
  b.writeUInt32LE(m.connectionId >>> 0, o);
  b[o + 4] = m.channelType;
  b[o + 5] = m.channelId;
  b.writeUInt32LE(m.commonCaps.length, o + 6);
  b.writeUInt32LE(m.channelCaps.length, o + 10);
  b.writeUInt32LE(LINK_MESS_SIZE, o + 14);
  encodeCaps(b, o + LINK_MESS_SIZE, m.commonCaps, m.channelCaps);
  return b;
}

function decodeCaps(body: Buffer, offset: number, nCommon: number, nChannel: number, what: string) {
  if (nCommon > 1024 || nChannel > 1024) {
    throw new ProtocolError(
      'BAD_LINK_MESS',
      `${what}: absurd capability count ${nCommon}+${nChannel}`,
      LinkErr.InvalidData,
    );
  }
  const end = offset + 4 * (nCommon + nChannel);
  if (offset < 0 || end > body.length) {
    throw new ProtocolError(
      'BAD_LINK_MESS',
      `${what}: capabilities (offset ${offset}, ${nCommon}+${nChannel} words) overrun ${body.length} bytes`,
      LinkErr.InvalidData,
    );
  }
  const r = new Reader(body, offset, end);
  const commonCaps: number[] = [];
  const channelCaps: number[] = [];
  for (let i = 0; i < nCommon; i++) commonCaps.push(r.u32());
  for (let i = 0; i < nChannel; i++) channelCaps.push(r.u32());
  return { commonCaps, channelCaps };
}

/** Decode a SpiceLinkMess body (the `size` bytes after the header). */
export function decodeLinkMess(body: Buffer): LinkMess {
  if (body.length < LINK_MESS_SIZE) {
    throw new ProtocolError('BAD_LINK_MESS', `link message of ${body.length} bytes`, LinkErr.InvalidData);
  }
  const r = new Reader(body);
  const connectionId = r.u32();
  const channelType = r.u8();
  const channelId = r.u8();
  const nCommon = r.u32();
  const nChannel = r.u32();
  const capsOffset = r.u32();
  if (capsOffset < LINK_MESS_SIZE) {
    throw new ProtocolError('BAD_LINK_MESS', `caps_offset ${capsOffset} inside the fixed part`, LinkErr.InvalidData);
  }
  const { commonCaps, channelCaps } = decodeCaps(body, capsOffset, nCommon, nChannel, 'link message');
  // One literal, not a spread of the caps: a spread's object gets a hidden class of its own.
  return { connectionId, channelType, channelId, commonCaps, channelCaps };
}

/** Header + SpiceLinkReply + caps, as the server sends it. */
export function encodeLinkReply(reply: LinkReply): Buffer {
  const size = LINK_REPLY_SIZE + 4 * (reply.commonCaps.length + reply.channelCaps.length);
  const b = Buffer.alloc(LINK_HEADER_SIZE + size);
  encodeLinkHeader(size).copy(b, 0);
  const o = LINK_HEADER_SIZE;
  b.writeUInt32LE(reply.error, o);
  if (reply.pubKey.length > 0) {
    if (reply.pubKey.length !== PUB_KEY_SIZE)
      throw new RangeError(`public key must be ${PUB_KEY_SIZE} bytes of SPKI DER`);
    reply.pubKey.copy(b, o + 4);
  }
  b.writeUInt32LE(reply.commonCaps.length, o + 166);
  b.writeUInt32LE(reply.channelCaps.length, o + 170);
  // spice-server leaves every field but `error` zero in an error reply, caps_offset included.
  b.writeUInt32LE(reply.error === 0 ? LINK_REPLY_SIZE : 0, o + 174);
  encodeCaps(b, o + LINK_REPLY_SIZE, reply.commonCaps, reply.channelCaps);
  return b;
}

/** An error reply: still a full 178-byte SpiceLinkReply (spice-gtk rejects shorter ones). */
export function encodeLinkErrorReply(error: number): Buffer {
  return encodeLinkReply({ error, pubKey: Buffer.alloc(0), commonCaps: [], channelCaps: [] });
}

export function decodeLinkReply(body: Buffer): LinkReply {
  if (body.length < LINK_REPLY_SIZE) {
    throw new ProtocolError('BAD_LINK_MESS', `link reply of ${body.length} bytes`, LinkErr.InvalidData);
  }
  const r = new Reader(body);
  const error = r.u32();
  const pubKey = r.bytes(PUB_KEY_SIZE);
  const nCommon = r.u32();
  const nChannel = r.u32();
  const capsOffset = r.u32();
  if (error !== LinkErr.Ok) return { error, pubKey, commonCaps: [], channelCaps: [] };
  const caps = decodeCaps(body, capsOffset, nCommon, nChannel, 'link reply');
  return { error, pubKey, ...caps };
}

export function encodeU32(v: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
}
