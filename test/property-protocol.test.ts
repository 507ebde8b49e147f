import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeCommonClientMessage,
  decodeCommonServerMessage,
  decodeCursorServerMessage,
  decodeDisplayClientMessage,
  decodeDisplayServerMessage,
  decodeImage,
  decodeInputsClientMessage,
  decodeInputsServerMessage,
  decodeLinkHeader,
  decodeLinkMess,
  decodeLinkReply,
  decodeMainClientMessage,
  decodeMainServerMessage,
  decodePlaybackServerMessage,
  decodeRecordClientMessage,
  encodeChannelsList,
  encodeCopyBits,
  encodeCursorSet,
  encodeDataHeader,
  encodeDisconnecting,
  encodeDisplayInit,
  encodeDrawCopy,
  encodeDrawFill,
  encodeInputsClientMessage,
  encodeInvalList,
  encodeLinkMess,
  encodeLinkReply,
  encodeMainInit,
  encodeMonitorsConfig,
  encodeNotify,
  encodePing,
  encodePlaybackStart,
  encodePlaybackVolume,
  encodeRecordClientMessage,
  encodeSetAck,
  encodeSurfaceCreate,
  encodeWaitForChannels,
  flatten,
  FrameDecoder,
  headerSize,
  ImageType,
  IMAGE_DESCRIPTOR_SIZE,
  encodeBinaryImage,
  LINK_HEADER_SIZE,
  LINK_MESS_SIZE,
  LINK_REPLY_SIZE,
  packKeyCode,
  packedCodeBytes,
  CommonMsg,
  parseScancodes,
  ProtocolError,
  PUB_KEY_SIZE,
  type DisplayBase,
  type InputsClientMessage,
  type OutMessage,
  type RecordClientMessage,
} from '../src/protocol/index.js';
import { anyBytes, check, i32, mutated, u16, u32, u64, u8, valueOrProtocolError } from './helpers/properties.js';

/*
 * Issue 12: every decoder in src/protocol, given any bytes, returns a value or throws a
 * ProtocolError; where an encoder exists, decode(encode(x)) gives x back.
 */

const messageType = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }),
  fc.integer({ min: 1, max: 12 }),
  fc.integer({ min: 100, max: 330 }),
);

const bodyDecoders: Record<string, (type: number, body: Buffer) => unknown> = {
  decodeCommonClientMessage,
  decodeCommonServerMessage,
  decodeMainClientMessage,
  decodeMainServerMessage,
  decodeDisplayClientMessage,
  decodeDisplayServerMessage,
  decodeCursorServerMessage,
  decodeInputsClientMessage,
  decodeInputsServerMessage,
  decodePlaybackServerMessage,
  decodeRecordClientMessage,
};

/** An image descriptor of any type and size at `at`, after random bytes and before random bytes. */
const imageCase = fc.tuple(anyBytes(64), u8, u32, u32, anyBytes(200)).map(([prefix, type, w, h, tail]) => {
  const head = Buffer.alloc(IMAGE_DESCRIPTOR_SIZE);
  head[8] = type;
  head.writeUInt32LE(w, 10);
  head.writeUInt32LE(h, 14);
  const body = Buffer.concat([prefix, head, tail]);
  // Point some u32 slots of the fixed part at the image, so draws reach their image decoding.
  for (let at = 0; at + 4 <= prefix.length; at += 4) if (prefix[at]! & 1) body.writeUInt32LE(prefix.length, at);
  return { body, at: prefix.length };
});
const drawWithImage = imageCase.map((c) => c.body);

describe('protocol decoders take any bytes', () => {
  for (const [name, decode] of Object.entries(bodyDecoders)) {
    it(`${name}: a value, undefined or a ProtocolError`, () => {
      check(fc.tuple(messageType, fc.oneof(anyBytes(), drawWithImage)), ([type, body]) => {
        valueOrProtocolError(() => decode(type, body));
      });
    });
  }

  it('decodeImage at any offset of any body', () => {
    check(fc.tuple(fc.oneof(anyBytes(), drawWithImage), fc.integer({ min: -600, max: 600 })), ([body, ptr]) => {
      valueOrProtocolError(() => decodeImage(body, ptr));
    });
  });

  it('decodeImage never keeps more bytes than the body has (no copy, no size taken on trust)', () => {
    check(imageCase, ({ body, at }) => {
      const img = valueOrProtocolError(() => decodeImage(body, at));
      if (img instanceof ProtocolError) return;
      if ('data' in img) {
        expect(img.data.buffer).toBe(body.buffer);
        expect(img.data.length).toBeLessThanOrEqual(body.length);
      }
    });
  });

  it('link header, link mess and link reply', () => {
    const linkMessish = mutated(
      fc
        .tuple(u32, u8, u8, fc.array(u32, { maxLength: 4 }), fc.array(u32, { maxLength: 4 }))
        .map(([id, t, n, c, ch]) =>
          encodeLinkMess({ connectionId: id, channelType: t, channelId: n, commonCaps: c, channelCaps: ch }),
        ),
    );
    check(fc.oneof(anyBytes(), linkMessish), (bytes) => {
      valueOrProtocolError(() => decodeLinkHeader(bytes, LINK_MESS_SIZE));
      const body = bytes.subarray(Math.min(LINK_HEADER_SIZE, bytes.length));
      valueOrProtocolError(() => decodeLinkMess(body));
      valueOrProtocolError(() => decodeLinkReply(body));
    });
  });

  it('a refused link header always names a SpiceLinkErr to send back', () => {
    check(fc.tuple(anyBytes(16), fc.constantFrom(0x51444552, 0)), ([bytes, magic]) => {
      const b = Buffer.concat([bytes, Buffer.alloc(16)]).subarray(0, 16);
      if (magic) b.writeUInt32LE(magic, 0);
      const r = valueOrProtocolError(() => decodeLinkHeader(b, LINK_MESS_SIZE));
      if (r instanceof ProtocolError) expect(r.linkError).toBeGreaterThan(0);
      else expect(r.size).toBeGreaterThanOrEqual(LINK_MESS_SIZE);
    });
  });

  it('FrameDecoder: any stream in any chunks gives frames or an OVERSIZE error, never buffers past the limit', () => {
    check(
      fc.tuple(
        fc.boolean(),
        anyBytes(400),
        fc.array(fc.nat({ max: 64 }), { maxLength: 20 }),
        fc.integer({ min: 0, max: 300 }),
      ),
      ([mini, stream, cuts, max]) => {
        const d = new FrameDecoder(mini, max);
        let at = 0;
        for (const piece of [...cuts, stream.length]) {
          d.push(stream.subarray(at, Math.min(stream.length, at + piece)));
          at = Math.min(stream.length, at + piece);
          for (;;) {
            const f = valueOrProtocolError(() => d.next());
            if (f instanceof ProtocolError) {
              expect(f.code).toBe('OVERSIZE');
              return;
            }
            if (!f) break;
            expect(f.body.length).toBeLessThanOrEqual(max);
          }
          expect(d.buffered).toBeLessThanOrEqual(stream.length);
        }
      },
    );
  });

  it('parseScancodes takes any byte string', () => {
    check(anyBytes(64), (bytes) => {
      const events = parseScancodes(bytes);
      expect(events.length).toBeLessThanOrEqual(bytes.length);
      for (const ev of events) expect(ev.scancode & ~0x37f).toBe(0);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Round trips

function frames(
  mini: boolean,
  messages: readonly OutMessage[],
  cuts: readonly number[],
): { type: number; body: Buffer }[] {
  const wire = Buffer.concat(
    messages.flatMap((m, i) => [encodeDataHeader(mini, m.type, flatten(m).length, BigInt(i + 1)), flatten(m)]),
  );
  const d = new FrameDecoder(mini, 1 << 20);
  const out: { type: number; body: Buffer }[] = [];
  let at = 0;
  for (const cut of [...cuts, wire.length]) {
    const end = Math.min(wire.length, at + cut);
    d.push(wire.subarray(at, end));
    at = end;
    for (let f = d.next(); f; f = d.next()) out.push({ type: f.type, body: Buffer.from(f.body) });
  }
  return out;
}

const rect = fc.record({ top: i32, left: i32, bottom: i32, right: i32 });
const point = fc.record({ x: i32, y: i32 });
const base: fc.Arbitrary<DisplayBase> = fc.record({
  surfaceId: u32,
  box: rect,
  clip: fc.oneof(
    fc.constant({ type: 'none' as const }),
    fc.record({ type: fc.constant('rects' as const), rects: fc.array(rect, { maxLength: 4 }) }),
  ),
});

const inputs: fc.Arbitrary<InputsClientMessage> = fc.oneof(
  fc.record({ kind: fc.constantFrom('keyDown' as const, 'keyUp' as const), code: u32 }),
  fc.record({ kind: fc.constant('keyModifiers' as const), modifiers: u16 }),
  fc.record({ kind: fc.constant('keyScancode' as const), data: anyBytes(16) }),
  fc.record({ kind: fc.constant('mouseMotion' as const), dx: i32, dy: i32, buttons: u16 }),
  fc.record({ kind: fc.constant('mousePosition' as const), x: u32, y: u32, buttons: u16, displayId: u8 }),
  fc.record({ kind: fc.constantFrom('mousePress' as const, 'mouseRelease' as const), button: u8, buttons: u16 }),
);

const record: fc.Arbitrary<RecordClientMessage> = fc.oneof(
  fc.record({ kind: fc.constant('data' as const), time: u32, data: anyBytes(32) }),
  fc.record({ kind: fc.constant('mode' as const), time: u32, mode: u16, data: anyBytes(32) }),
  fc.record({ kind: fc.constant('startMark' as const), time: u32 }),
);

/** Buffers compared by content (a decoded payload is a view, an encoded one may not be). */
function plain(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return [...v];
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

describe('decode(encode(x)) == x', () => {
  it('data headers and frames, split anywhere, mini and full', () => {
    const msg = fc.tuple(u16, anyBytes(40)).map(([type, body]): OutMessage => ({ type, parts: [body] }));
    check(
      fc.tuple(fc.boolean(), fc.array(msg, { maxLength: 6 }), fc.array(fc.nat({ max: 30 }), { maxLength: 12 })),
      ([mini, msgs, cuts]) => {
        const got = frames(mini, msgs, cuts);
        expect(plain(got)).toEqual(plain(msgs.map((m) => ({ type: m.type, body: flatten(m) }))));
        expect(headerSize(mini)).toBe(mini ? 6 : 18);
      },
    );
  });

  it('link mess and link reply', () => {
    const caps = fc.array(u32, { maxLength: 6 });
    check(fc.tuple(u32, u8, u8, caps, caps), ([connectionId, channelType, channelId, commonCaps, channelCaps]) => {
      const m = { connectionId, channelType, channelId, commonCaps, channelCaps };
      const wire = encodeLinkMess(m);
      const h = decodeLinkHeader(wire, LINK_MESS_SIZE);
      expect(decodeLinkMess(wire.subarray(LINK_HEADER_SIZE, LINK_HEADER_SIZE + h.size))).toEqual(m);
    });
    check(
      fc.tuple(fc.uint8Array({ minLength: PUB_KEY_SIZE, maxLength: PUB_KEY_SIZE }), caps, caps),
      ([key, commonCaps, channelCaps]) => {
        const reply = { error: 0, pubKey: Buffer.from(key), commonCaps, channelCaps };
        const wire = encodeLinkReply(reply);
        const h = decodeLinkHeader(wire, LINK_REPLY_SIZE);
        expect(plain(decodeLinkReply(wire.subarray(LINK_HEADER_SIZE, LINK_HEADER_SIZE + h.size)))).toEqual(
          plain(reply),
        );
      },
    );
  });

  it('inputs and record client messages', () => {
    check(inputs, (m) => {
      const out = encodeInputsClientMessage(m);
      expect(plain(decodeInputsClientMessage(out.type, flatten(out)))).toEqual(plain(m));
    });
    check(record, (m) => {
      const out = encodeRecordClientMessage(m);
      expect(plain(decodeRecordClientMessage(out.type, flatten(out)))).toEqual(plain(m));
    });
  });

  it('common server messages', () => {
    check(
      fc.tuple(u32, u32, u64, anyBytes(16), u32, fc.string({ maxLength: 40 })),
      ([a, b, ts, data, reason, text]) => {
        const decode = (m: OutMessage): unknown => plain(decodeCommonServerMessage(m.type, flatten(m)));
        expect(decode(encodeSetAck(a, b))).toEqual({ kind: 'setAck', generation: a, window: b });
        expect(decode(encodePing(a, ts, data))).toEqual(plain({ kind: 'ping', id: a, timestamp: ts, data }));
        expect(decode(encodeDisconnecting(ts, reason))).toEqual({ kind: 'disconnecting', timeStamp: ts, reason });
        const notify = { timeStamp: ts, severity: a, visibility: b, what: reason, message: text };
        expect(decode(encodeNotify(notify))).toEqual({ kind: 'notify', ...notify });
        const waits = [{ channelType: a & 0xff, channelId: b & 0xff, serial: ts }];
        expect(decode(encodeWaitForChannels(CommonMsg.WaitForChannels, waits))).toEqual(
          plain({ kind: 'waitForChannels', waits }),
        );
      },
    );
  });

  it('main, cursor and playback server messages', () => {
    const init = fc.record({
      sessionId: u32,
      displayChannelsHint: u32,
      supportedMouseModes: u32,
      currentMouseMode: u32,
      agentConnected: u32,
      agentTokens: u32,
      multiMediaTime: u32,
      ramHint: u32,
    });
    check(fc.tuple(init, fc.array(fc.record({ type: u8, id: u8 }), { maxLength: 8 })), ([m, channels]) => {
      const i = encodeMainInit(m);
      expect(decodeMainServerMessage(i.type, flatten(i))).toEqual({ kind: 'init', ...m });
      const l = encodeChannelsList(channels);
      expect(decodeMainServerMessage(l.type, flatten(l))).toEqual({ kind: 'channelsList', channels });
    });
    const header = fc.record({ unique: u64, type: u8, width: u16, height: u16, hotSpotX: u16, hotSpotY: u16 });
    check(
      fc.tuple(
        fc.record({ x: fc.integer({ min: -32768, max: 32767 }), y: fc.integer({ min: -32768, max: 32767 }) }),
        fc.boolean(),
        header,
        anyBytes(64),
      ),
      ([pos, visible, h, data]) => {
        const cursor = { flags: 0, header: h, data };
        const m = encodeCursorSet(pos, visible, cursor);
        expect(plain(decodeCursorServerMessage(m.type, flatten(m)))).toEqual(
          plain({ kind: 'set', position: pos, visible, cursor }),
        );
      },
    );
    check(
      fc.tuple(u32, u16, u32, u32, fc.array(u16, { maxLength: 8 })),
      ([channels, format, frequency, time, volumes]) => {
        const s = encodePlaybackStart(channels, format, frequency, time);
        expect(decodePlaybackServerMessage(s.type, flatten(s))).toEqual({
          kind: 'start',
          channels,
          format,
          frequency,
          time,
        });
        const v = encodePlaybackVolume(volumes);
        expect(decodePlaybackServerMessage(v.type, flatten(v))).toEqual({ kind: 'volume', volumes });
      },
    );
  });

  it('display messages, both directions', () => {
    const noMask = { flags: 0, pos: { x: 0, y: 0 }, bitmap: null };
    check(fc.tuple(base, u32, point, rect, anyBytes(64), u64), ([b, color, srcPos, srcArea, data, id]) => {
      const decode = (m: OutMessage): unknown => plain(decodeDisplayServerMessage(m.type, flatten(m)));
      expect(decode(encodeDrawFill(b, color))).toEqual(
        plain({ kind: 'drawFill', base: b, brush: { type: 'solid', color }, ropd: 8, mask: noMask }),
      );
      expect(decode(encodeCopyBits(b, srcPos))).toEqual(plain({ kind: 'copyBits', base: b, srcPos }));
      const descriptor = { id, type: ImageType.LzRgb, flags: 0, width: color, height: b.surfaceId };
      const copy = decode(encodeDrawCopy(b, srcArea, encodeBinaryImage(descriptor, data)));
      expect(copy).toEqual(
        plain({
          kind: 'drawCopy',
          base: b,
          image: { kind: 'binary', descriptor, data },
          srcArea,
          ropd: 8,
          scaleMode: 1,
          mask: noMask,
        }),
      );
      expect(decode(encodeInvalList([id]))).toEqual(plain({ kind: 'invalList', resources: [{ type: 1, id }] }));
    });
    const surface = fc.record({ surfaceId: u32, width: u32, height: u32, format: u32, flags: u32 });
    const head = fc.record({ id: u32, surfaceId: u32, width: u32, height: u32, x: u32, y: u32, flags: u32 });
    check(fc.tuple(surface, fc.array(head, { maxLength: 4 }), u16), ([s, heads, maxAllowed]) => {
      const c = encodeSurfaceCreate(s);
      expect(decodeDisplayServerMessage(c.type, flatten(c))).toEqual({ kind: 'surfaceCreate', ...s });
      const m = encodeMonitorsConfig(heads, maxAllowed);
      expect(decodeDisplayServerMessage(m.type, flatten(m))).toEqual({ kind: 'monitorsConfig', maxAllowed, heads });
    });
    check(
      fc.record({
        pixmapCacheId: u8,
        pixmapCacheSize: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        glzDictionaryId: u8,
        glzWindowSize: i32,
      }),
      (m) => {
        const out = encodeDisplayInit(m);
        expect(decodeDisplayClientMessage(out.type, flatten(out))).toEqual({ kind: 'init', ...m });
      },
    );
  });

  it('packed key codes parse back to the scancode', () => {
    // 0x60 and 0x61 are no keys: their release bytes would be the E0 and E1 prefixes.
    const key = fc.integer({ min: 1, max: 0x7f }).filter((c) => c !== 0x60 && c !== 0x61);
    const code = fc.oneof(
      key,
      key.map((c) => 0x100 | c),
    );
    check(fc.tuple(code, fc.boolean()), ([scancode, down]) => {
      const packed = packKeyCode(scancode, down);
      expect(parseScancodes(packedCodeBytes(packed))).toEqual([{ scancode, down }]);
    });
  });
});
