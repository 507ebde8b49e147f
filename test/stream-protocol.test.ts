import { describe, expect, it } from 'vitest';
import {
  decodeDisplayClientMessage,
  decodeDisplayServerMessage,
  decodeStreamServerMessage,
  DisplayCap,
  encodeStreamActivateReport,
  encodeStreamClip,
  encodeStreamCreate,
  encodeStreamData,
  encodeStreamDataSized,
  encodeStreamDestroy,
  encodeStreamDestroyAll,
  encodeStreamReport,
  flatten,
  reportsUndecodable,
  streamAbility,
  StreamFlags,
  VideoCodec,
  type StreamCreate,
} from '../src/protocol/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const create: StreamCreate = {
  surfaceId: 0,
  id: 3,
  flags: StreamFlags.TopDown,
  codec: VideoCodec.Mjpeg,
  stamp: 0x0102030405n,
  streamWidth: 640,
  streamHeight: 360,
  srcWidth: 640,
  srcHeight: 360,
  dest: { top: 10, left: 20, bottom: 370, right: 660 },
  clip: { type: 'none' },
};

describe('stream messages (display channel)', () => {
  it('lays STREAM_CREATE out field by field, clip inline at the end', () => {
    const m = encodeStreamCreate(create);
    expect(m.type).toBe(122);
    expect(flatten(m)).toEqual(
      hex(
        '00000000 03000000 01 01 0504030201000000' +
          '80020000 68010000 80020000 68010000' +
          '0a000000 14000000 72010000 94020000' +
          '00',
      ),
    );
    expect(decodeDisplayServerMessage(122, flatten(m))).toEqual({ kind: 'streamCreate', ...create });
  });

  it('carries a clip of rects in STREAM_CREATE and STREAM_CLIP', () => {
    const clip = { type: 'rects' as const, rects: [{ top: 10, left: 20, bottom: 100, right: 300 }] };
    const c = flatten(encodeStreamCreate({ ...create, clip }));
    expect(c.subarray(c.length - 21)).toEqual(hex('01 01000000 0a000000 14000000 64000000 2c010000'));
    expect(decodeStreamServerMessage(122, c)).toMatchObject({ clip });
    const m = encodeStreamClip(3, clip);
    expect(m.type).toBe(124);
    expect(flatten(m)).toEqual(hex('03000000 01 01000000 0a000000 14000000 64000000 2c010000'));
    expect(decodeStreamServerMessage(124, flatten(m))).toEqual({ kind: 'streamClip', id: 3, clip });
  });

  it('sends a frame as its own iovec (shared, never copied) after a 12-byte head', () => {
    const frame = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
    const m = encodeStreamData({ id: 3, mmTime: 0xfffffff0, data: frame });
    expect(m.type).toBe(123);
    expect(m.parts[1]).toBe(frame);
    expect(flatten(m)).toEqual(hex('03000000 f0ffffff 04000000 ffd8ffd9'));
    const decoded = decodeStreamServerMessage(123, flatten(m));
    expect(decoded).toEqual({ kind: 'streamData', id: 3, mmTime: 0xfffffff0, data: frame });
  });

  it('lays STREAM_DATA_SIZED out with its size and destination', () => {
    const frame = Buffer.from([1, 2, 3]);
    const dest = { top: 1, left: 2, bottom: 3, right: 4 };
    const m = encodeStreamDataSized({ id: 1, mmTime: 7, width: 2, height: 1, dest, data: frame });
    expect(m.type).toBe(316);
    const body = flatten(m);
    const head = '01000000 07000000 02000000 01000000';
    expect(body).toEqual(hex(head + '01000000 02000000 03000000 04000000 03000000 010203'));
    const decoded = decodeStreamServerMessage(316, body);
    expect(decoded).toMatchObject({ kind: 'streamDataSized', width: 2, height: 1, dest, data: frame });
  });

  it('rejects a frame whose size overruns the message', () => {
    const body = hex('03000000 00000000 10000000 ffd8');
    expect(() => decodeStreamServerMessage(123, body)).toThrow(/overruns/);
  });

  it('encodes DESTROY, DESTROY_ALL and ACTIVATE_REPORT', () => {
    expect(flatten(encodeStreamDestroy(5))).toEqual(hex('05000000'));
    expect(encodeStreamDestroy(5).type).toBe(125);
    expect(encodeStreamDestroyAll()).toEqual({ type: 126, parts: [] });
    const a = encodeStreamActivateReport({ streamId: 5, uniqueId: 9, maxWindow: 20, timeoutMs: 1000 });
    expect(a.type).toBe(319);
    expect(flatten(a)).toEqual(hex('05000000 09000000 14000000 e8030000'));
    const decoded = decodeStreamServerMessage(319, flatten(a));
    expect(decoded).toEqual({ kind: 'streamActivateReport', streamId: 5, uniqueId: 9, maxWindow: 20, timeoutMs: 1000 });
  });

  it('round-trips the client STREAM_REPORT, a negative delay included', () => {
    const r = {
      streamId: 5,
      uniqueId: 9,
      startFrameMmTime: 1000,
      endFrameMmTime: 2000,
      numFrames: 20,
      numDrops: 2,
      lastFrameDelay: -35,
      audioDelay: 0xffffffff,
    };
    const m = encodeStreamReport(r);
    expect(m.type).toBe(102);
    expect(flatten(m).subarray(24, 28)).toEqual(hex('ddffffff'));
    expect(decodeDisplayClientMessage(102, flatten(m))).toEqual({ kind: 'streamReport', ...r });
    expect(reportsUndecodable(r)).toBe(false);
    expect(reportsUndecodable({ ...r, numFrames: 0, numDrops: 0xffffffff })).toBe(true);
  });

  it('reads MJPEG support from the caps: listed with MULTI_CODEC, implied without', () => {
    const caps =
      (...c: number[]) =>
      (cap: number) =>
        c.includes(cap);
    // spice-html5 announces these four.
    const html5 = caps(DisplayCap.SizedStream, DisplayCap.StreamReport, DisplayCap.MultiCodec, DisplayCap.CodecMjpeg);
    expect(streamAbility(html5)).toEqual({ mjpeg: true, sized: true, reports: true });
    expect(streamAbility(caps(DisplayCap.MultiCodec, DisplayCap.CodecVp8)).mjpeg).toBe(false);
    expect(streamAbility(caps()).mjpeg).toBe(true);
  });
});
