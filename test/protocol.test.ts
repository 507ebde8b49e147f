import { describe, expect, it } from 'vitest';
import {
  ByteQueue,
  decodeCursorServerMessage,
  decodeDisplayClientMessage,
  decodeDisplayServerMessage,
  decodeInputsClientMessage,
  decodeLinkHeader,
  decodeLinkMess,
  decodeLinkReply,
  decodeMainClientMessage,
  decodeMainServerMessage,
  encodeChannelsList,
  encodeCopyBits,
  encodeCursorInit,
  encodeCursorSet,
  encodeDataHeader,
  encodeDisplayInit,
  encodeDrawCopy,
  encodeDrawFill,
  encodeInputsClientMessage,
  encodeLinkErrorReply,
  encodeLinkMess,
  encodeLinkReply,
  encodeMainInit,
  encodeMonitorsConfig,
  encodeMouseMode,
  encodeName,
  encodeSurfaceCreate,
  encodeBinaryImage,
  flatten,
  FrameDecoder,
  LinkErr,
  packKeyCode,
  parseScancodes,
  ProtocolError,
  type OutMessage,
} from '../src/protocol/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('link stage codecs (docs/protocol.md)', () => {
  // The link message spice-gtk sends for the main channel, as observed on the wire.
  const gtkMainLink = hex(
    '52454451 02000000 02000000 1a000000' + '00000000 01 00 01000000 01000000 12000000' + '0d000000 0f000000',
  );

  it("decodes spice-gtk's main-channel link header and message", () => {
    const h = decodeLinkHeader(gtkMainLink.subarray(0, 16), 18);
    expect(h).toEqual({ magic: 0x51444552, major: 2, minor: 2, size: 26 });
    const m = decodeLinkMess(gtkMainLink.subarray(16));
    expect(m).toEqual({ connectionId: 0, channelType: 1, channelId: 0, commonCaps: [0x0d], channelCaps: [0x0f] });
  });

  it('encodes a link message byte for byte like spice-gtk', () => {
    expect(
      encodeLinkMess({ connectionId: 0, channelType: 1, channelId: 0, commonCaps: [0x0d], channelCaps: [0x0f] }),
    ).toEqual(gtkMainLink);
  });

  it('rejects bad magic, a wrong major version and absurd sizes with their link errors', () => {
    const bad = Buffer.from(gtkMainLink.subarray(0, 16));
    bad.write('XXXX', 0, 'latin1');
    expect(() => decodeLinkHeader(bad, 18)).toThrow(
      expect.objectContaining({ code: 'BAD_MAGIC', linkError: LinkErr.InvalidMagic }),
    );
    const v1 = Buffer.from(gtkMainLink.subarray(0, 16));
    v1.writeUInt32LE(1, 4);
    expect(() => decodeLinkHeader(v1, 18)).toThrow(
      expect.objectContaining({ code: 'BAD_VERSION', linkError: LinkErr.VersionMismatch }),
    );
    const huge = Buffer.from(gtkMainLink.subarray(0, 16));
    huge.writeUInt32LE(0x7fffffff, 12);
    expect(() => decodeLinkHeader(huge, 18)).toThrow(
      expect.objectContaining({ code: 'OVERSIZE', linkError: LinkErr.InvalidData }),
    );
    const tiny = Buffer.from(gtkMainLink.subarray(0, 16));
    tiny.writeUInt32LE(4, 12);
    expect(() => decodeLinkHeader(tiny, 18)).toThrow(ProtocolError);
  });

  it('rejects capabilities that overrun the link message', () => {
    const body = Buffer.from(gtkMainLink.subarray(16));
    body.writeUInt32LE(1000, 6); // num_common_caps
    expect(() => decodeLinkMess(body)).toThrow(
      expect.objectContaining({ code: 'BAD_LINK_MESS', linkError: LinkErr.InvalidData }),
    );
    const offset = Buffer.from(gtkMainLink.subarray(16));
    offset.writeUInt32LE(4, 14); // caps_offset inside the fixed part
    expect(() => decodeLinkMess(offset)).toThrow(ProtocolError);
  });

  it('builds a 178-byte reply (+caps) with the SPKI key at offset 4 and caps_offset 178', () => {
    const key = Buffer.alloc(162, 0xab);
    const r = encodeLinkReply({ error: 0, pubKey: key, commonCaps: [0x0b], channelCaps: [0x02] });
    expect(r.length).toBe(16 + 178 + 8);
    expect(r.readUInt32LE(12)).toBe(186);
    expect(r.subarray(20, 182)).toEqual(key);
    expect(r.readUInt32LE(16 + 166)).toBe(1);
    expect(r.readUInt32LE(16 + 170)).toBe(1);
    expect(r.readUInt32LE(16 + 174)).toBe(178);
    expect(r.readUInt32LE(16 + 178)).toBe(0x0b);
    expect(decodeLinkReply(r.subarray(16))).toEqual({ error: 0, pubKey: key, commonCaps: [0x0b], channelCaps: [0x02] });
  });

  it('error replies are still full SpiceLinkReply structures (spice-gtk rejects shorter ones)', () => {
    const r = encodeLinkErrorReply(LinkErr.NeedSecured);
    expect(r.length).toBe(16 + 178);
    expect(r.readUInt32LE(12)).toBe(178);
    expect(r.readUInt32LE(16)).toBe(LinkErr.NeedSecured);
    expect(r.subarray(20).every((b) => b === 0)).toBe(true);
  });
});

describe('data headers and the frame decoder', () => {
  it('lays out mini (6) and full (18) headers', () => {
    expect(encodeDataHeader(true, 103, 32, 1n)).toEqual(hex('6700 20000000'));
    expect(encodeDataHeader(false, 103, 32, 7n)).toEqual(hex('0700000000000000 6700 20000000 00000000'));
  });

  const messages: OutMessage[] = [
    encodeMainInit({
      sessionId: 0x1234,
      displayChannelsHint: 1,
      supportedMouseModes: 3,
      currentMouseMode: 2,
      agentConnected: 0,
      agentTokens: 0,
      multiMediaTime: 99,
      ramHint: 0,
    }),
    encodeChannelsList([
      { type: 2, id: 0 },
      { type: 3, id: 0 },
    ]),
    { type: 102, parts: [] },
    encodeDrawFill({ surfaceId: 0, box: { top: 1, left: 2, bottom: 3, right: 4 }, clip: { type: 'none' } }, 0x123456),
  ];

  function stream(mini: boolean): Buffer {
    let serial = 0n;
    return Buffer.concat(
      messages.flatMap((m) => [encodeDataHeader(mini, m.type, flatten(m).length, ++serial), flatten(m)]),
    );
  }

  function drain(d: FrameDecoder): { type: number; body: string; serial: bigint }[] {
    const out: { type: number; body: string; serial: bigint }[] = [];
    for (let f = d.next(); f; f = d.next()) out.push({ type: f.type, body: f.body.toString('hex'), serial: f.serial });
    return out;
  }

  for (const mini of [true, false]) {
    it(`splits a ${mini ? 'mini' : 'full'}-header stream identically at every byte offset`, () => {
      const bytes = stream(mini);
      const whole = new FrameDecoder(mini, 1 << 20);
      whole.push(bytes);
      const expected = drain(whole);
      expect(expected.map((f) => f.type)).toEqual(messages.map((m) => m.type));
      expect(expected.map((f) => f.serial)).toEqual([1n, 2n, 3n, 4n]);
      for (let cut = 0; cut <= bytes.length; cut++) {
        const d = new FrameDecoder(mini, 1 << 20);
        d.push(bytes.subarray(0, cut));
        const first = drain(d);
        d.push(bytes.subarray(cut));
        expect([...first, ...drain(d)]).toEqual(expected);
      }
    });
  }

  it('decodes a stream fed one byte at a time', () => {
    const bytes = stream(true);
    const d = new FrameDecoder(true, 1 << 20);
    const got = [];
    for (const b of bytes) {
      d.push(Buffer.from([b]));
      got.push(...drain(d));
    }
    expect(got.map((f) => f.type)).toEqual(messages.map((m) => m.type));
  });

  it('fails on an oversize declaration as soon as the header arrives', () => {
    const d = new FrameDecoder(true, 1024);
    d.push(encodeDataHeader(true, 101, 0x7fffffff, 1n));
    expect(() => d.next()).toThrow(expect.objectContaining({ code: 'OVERSIZE' }));
  });

  it('ByteQueue returns views for single-chunk reads and copies only across chunks', () => {
    const q = new ByteQueue();
    const a = Buffer.from([1, 2, 3, 4]);
    q.push(a);
    q.push(Buffer.from([5, 6]));
    const v = q.take(2)!;
    expect(v.buffer).toBe(a.buffer);
    expect([...q.take(3)!]).toEqual([3, 4, 5]);
    expect(q.take(2)).toBeUndefined();
    expect(q.length).toBe(1);
  });
});

describe('message layouts from the fact sheet', () => {
  const base = { surfaceId: 0, box: { top: 10, left: 20, bottom: 30, right: 40 }, clip: { type: 'none' as const } };

  it('MAIN_INIT is 8 u32 in order', () => {
    const m = encodeMainInit({
      sessionId: 1,
      displayChannelsHint: 2,
      supportedMouseModes: 3,
      currentMouseMode: 4,
      agentConnected: 5,
      agentTokens: 6,
      multiMediaTime: 7,
      ramHint: 8,
    });
    const b = flatten(m);
    expect(m.type).toBe(103);
    expect(b.length).toBe(32);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => b.readUInt32LE(4 * i))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(decodeMainServerMessage(103, b)).toMatchObject({ kind: 'init', sessionId: 1, ramHint: 8 });
  });

  it('MOUSE_MODE uses u16 fields (u32 in INIT)', () => {
    expect(flatten(encodeMouseMode(3, 2))).toEqual(hex('0300 0200'));
  });

  it('NAME counts the NUL in its length', () => {
    const b = flatten(encodeName('ab'));
    expect(b).toEqual(hex('03000000 616200'));
    expect(decodeMainServerMessage(113, b)).toEqual({ kind: 'name', name: 'ab' });
  });

  it('DRAW_FILL with a solid brush and no clip is 41 bytes', () => {
    const b = flatten(encodeDrawFill(base, 0x00ff8000));
    expect(b.length).toBe(41);
    expect(b.readInt32LE(4)).toBe(10); // top first
    expect(b.readInt32LE(8)).toBe(20); // then left
    expect(b[20]).toBe(0); // clip none
    expect(b[21]).toBe(1); // brush solid
    expect(b.readUInt32LE(22)).toBe(0x00ff8000);
    expect(b.readUInt16LE(26)).toBe(8); // OP_PUT
    expect(b.readUInt32LE(37)).toBe(0); // no mask
    expect(decodeDisplayServerMessage(302, b)).toMatchObject({
      kind: 'drawFill',
      brush: { type: 'solid', color: 0x00ff8000 },
      ropd: 8,
    });
  });

  it('DRAW_COPY is 57 fixed bytes with the image pointer at 21 pointing to 57, image last', () => {
    const lz = Buffer.from([1, 2, 3]);
    const m = encodeDrawCopy(
      base,
      { top: 0, left: 0, bottom: 20, right: 20 },
      encodeBinaryImage({ id: 5n, type: 101, flags: 0, width: 20, height: 20 }, lz),
    );
    expect(m.parts.length).toBe(3);
    expect(m.parts[2]).toBe(lz); // payload by reference
    const b = flatten(m);
    expect(b.readUInt32LE(21)).toBe(57);
    expect(b.length).toBe(57 + 18 + 4 + 3);
    const d = decodeDisplayServerMessage(304, b);
    expect(d).toMatchObject({ kind: 'drawCopy', srcArea: { bottom: 20, right: 20 }, ropd: 8 });
    if (d?.kind !== 'drawCopy' || d.image?.kind !== 'binary') throw new Error('expected an LZ image');
    expect(d.image.descriptor).toEqual({ id: 5n, type: 101, flags: 0, width: 20, height: 20 });
    expect([...d.image.data]).toEqual([1, 2, 3]);
  });

  it('DRAW_COPY with clip rects puts them inline and the image after them', () => {
    const clipped = {
      ...base,
      clip: { type: 'rects' as const, rects: [{ top: 10, left: 20, bottom: 15, right: 25 }] },
    };
    const b = flatten(
      encodeDrawCopy(
        clipped,
        { top: 0, left: 0, bottom: 20, right: 20 },
        encodeBinaryImage({ id: 1n, type: 101, flags: 0, width: 20, height: 20 }, Buffer.alloc(1)),
      ),
    );
    expect(b.readUInt32LE(21 + 4 + 16)).toBe(57 + 20);
    expect(decodeDisplayServerMessage(304, b)).toMatchObject({
      base: { clip: { type: 'rects', rects: [{ top: 10, left: 20, bottom: 15, right: 25 }] } },
    });
  });

  it('COPY_BITS is 29 bytes, SURFACE_CREATE 20, MONITORS_CONFIG 4 + 28 per head', () => {
    const cb = flatten(encodeCopyBits(base, { x: 20, y: 12 }));
    expect(cb.length).toBe(29);
    expect(decodeDisplayServerMessage(104, cb)).toMatchObject({ kind: 'copyBits', srcPos: { x: 20, y: 12 } });
    const sc = flatten(encodeSurfaceCreate({ surfaceId: 0, width: 1024, height: 768, format: 32, flags: 1 }));
    expect(sc).toEqual(hex('00000000 00040000 00030000 20000000 01000000'));
    const mc = flatten(
      encodeMonitorsConfig([{ id: 0, surfaceId: 0, width: 1024, height: 768, x: 0, y: 0, flags: 0 }], 1),
    );
    expect(mc.length).toBe(32);
    expect(decodeDisplayServerMessage(317, mc)).toMatchObject({
      kind: 'monitorsConfig',
      maxAllowed: 1,
      heads: [{ width: 1024, height: 768 }],
    });
  });

  it('DISPLAY_INIT (client) is 14 bytes', () => {
    const b = flatten(
      encodeDisplayInit({ pixmapCacheId: 1, pixmapCacheSize: 20971520n, glzDictionaryId: 1, glzWindowSize: 3145728 }),
    );
    expect(b.length).toBe(14);
    expect(decodeDisplayClientMessage(101, b)).toEqual({
      kind: 'init',
      pixmapCacheId: 1,
      pixmapCacheSize: 20971520n,
      glzDictionaryId: 1,
      glzWindowSize: 3145728,
    });
  });

  it('cursor INIT and SET carry an ALPHA cursor header (17 bytes) and the pixels last', () => {
    const cursor = {
      flags: 0,
      header: { unique: 9n, type: 0, width: 2, height: 1, hotSpotX: 1, hotSpotY: 0 },
      data: Buffer.alloc(8, 0xff),
    };
    const init = flatten(encodeCursorInit({ x: 5, y: 6 }, true, cursor));
    expect(init.length).toBe(9 + 2 + 17 + 8);
    expect(decodeCursorServerMessage(101, init)).toMatchObject({
      kind: 'init',
      position: { x: 5, y: 6 },
      visible: true,
      cursor: { header: { width: 2, hotSpotX: 1 } },
    });
    const set = flatten(encodeCursorSet({ x: 1, y: 2 }, true, cursor));
    expect(set.length).toBe(5 + 2 + 17 + 8);
  });

  it("inputs: the 10-byte motion, spice-html5's 11-byte motion, and position", () => {
    const m10 = flatten(encodeInputsClientMessage({ kind: 'mouseMotion', dx: -3, dy: 4, buttons: 1 }));
    expect(m10.length).toBe(10);
    expect(decodeInputsClientMessage(111, m10)).toEqual({ kind: 'mouseMotion', dx: -3, dy: 4, buttons: 1 });
    const m11 = Buffer.concat([m10, Buffer.from([0])]);
    expect(decodeInputsClientMessage(111, m11)).toEqual({ kind: 'mouseMotion', dx: -3, dy: 4, buttons: 1 });
    const pos = flatten(encodeInputsClientMessage({ kind: 'mousePosition', x: 100, y: 200, buttons: 0, displayId: 0 }));
    expect(pos.length).toBe(11);
    expect(() => decodeInputsClientMessage(111, m10.subarray(0, 9))).toThrow(
      expect.objectContaining({ code: 'TRUNCATED' }),
    );
  });

  it('main client messages: ATTACH_CHANNELS is empty, MOUSE_MODE_REQUEST a u16', () => {
    expect(decodeMainClientMessage(104, Buffer.alloc(0))).toEqual({ kind: 'attachChannels' });
    expect(decodeMainClientMessage(105, hex('0200'))).toEqual({ kind: 'mouseModeRequest', mode: 2 });
    expect(decodeMainClientMessage(250, Buffer.alloc(0))).toBeUndefined();
  });
});

describe('scancodes (XT set 1)', () => {
  it('reads packed KEY_DOWN/KEY_UP codes and raw sequences', () => {
    expect(parseScancodes([0x1e])).toEqual([{ scancode: 0x1e, down: true }]);
    expect(parseScancodes([0x9e])).toEqual([{ scancode: 0x1e, down: false }]);
    expect(parseScancodes([0xe0, 0x4b, 0xe0, 0xcb])).toEqual([
      { scancode: 0x14b, down: true },
      { scancode: 0x14b, down: false },
    ]);
    expect(parseScancodes([0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5])).toEqual([
      { scancode: 0x245, down: true },
      { scancode: 0x245, down: false },
    ]);
    expect(packKeyCode(0x14b, true)).toBe(0x4be0);
    expect(packKeyCode(0x1e, false)).toBe(0x9e);
  });
});

describe('Writer', () => {
  it('keeps every byte when it grows in the middle of a write', async () => {
    const { Writer } = await import('../src/protocol/writer.js');
    const w = new Writer(4);
    w.u8(1).u16(0x0302).u8(4).u32(0x08070605).u8(9).u64(0x1110_0f0e_0d0c_0b0an).i32(-1);
    expect([...w.finish()]).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0xff, 0xff, 0xff, 0xff,
    ]);
  });
});
