import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeLz } from '../src/display/lz-decode.js';
import { encodeLz, LZ_HEADER_SIZE, LZ_MAGIC, LZ_VERSION } from '../src/display/lz.js';
import { allocImage, type PixelImage } from '../src/display/pixels.js';
import { decodeQuic } from '../src/display/quic-decode.js';
import { encodeQuic, QUIC_MAGIC, QUIC_VERSION } from '../src/display/quic.js';
import { ClientDisplay } from '../src/client/display.js';
import { decodeDisplayServerMessage, DisplayMsg, ProtocolError } from '../src/protocol/index.js';
import { anyBytes, check, mutated, u32, valueOrProtocolError } from './helpers/properties.js';

/*
 * Issue 12: the image decoders (LZ, QUIC) and the client's drawing of display messages take any
 * bytes: a value or a ProtocolError, never another exception, and never an image bigger than the
 * data can describe or the caller allows (the check comes before the allocation).
 */

const dims = fc.oneof(fc.integer({ min: 1, max: 40 }), u32, fc.constantFrom(0, 65535, 0x10000, 0x7fffffff));

function lzStream(type: number, width: number, height: number, topDown: number, body: Buffer): Buffer {
  const h = Buffer.alloc(LZ_HEADER_SIZE);
  [LZ_MAGIC, LZ_VERSION, type, width, height, width * 4, topDown].forEach((v, i) => h.writeUInt32BE(v >>> 0, i * 4));
  return Buffer.concat([h, body]);
}

function quicStream(type: number, width: number, height: number, body: Buffer): Buffer {
  const h = Buffer.alloc(20);
  [QUIC_MAGIC, QUIC_VERSION, type, width, height].forEach((v, i) => h.writeUInt32LE(v >>> 0, i * 4));
  const words = Buffer.concat([h, body]);
  return words.subarray(0, words.length - (words.length % 4));
}

/** A small picture with runs, gradients and noise, so the codecs take every path. */
const picture: fc.Arbitrary<PixelImage> = fc
  .tuple(
    fc.integer({ min: 1, max: 24 }),
    fc.integer({ min: 1, max: 12 }),
    fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 8 }),
    fc.nat(),
  )
  .map(([w, h, palette, seed]) => {
    const img = allocImage(w, h);
    let s = seed;
    for (let i = 0; i < w * h; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      img.data.writeUInt32LE(palette[(s >>> 16) % palette.length]!, i * 4);
    }
    return img;
  });

const lzCase = fc.oneof(
  fc
    .tuple(fc.integer({ min: 0, max: 12 }), dims, dims, fc.integer({ min: 0, max: 1 }), anyBytes(300))
    .map(([t, w, h, td, b]) => lzStream(t, w, h, td, b)),
  mutated(picture.map((img) => encodeLz(img))),
  anyBytes(),
);

const quicCase = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 6 }), dims, dims, anyBytes(400)).map(([t, w, h, b]) => quicStream(t, w, h, b)),
  mutated(picture.map((img) => encodeQuic(img))),
  anyBytes(),
);

describe('image decoders take any bytes', () => {
  it('LZ: an image the data can back, or a ProtocolError', () => {
    check(lzCase, (data) => {
      const r = valueOrProtocolError(() => decodeLz(data));
      if (r instanceof ProtocolError) return;
      // A command byte gives at most 255 pixels (a match made of length-extension bytes).
      expect(r.width * r.height).toBeLessThanOrEqual(255 * (data.length - LZ_HEADER_SIZE));
      expect(r.image.data.length).toBe(r.width * r.height * 4);
    });
  });

  it('QUIC: an image, or a ProtocolError', () => {
    check(quicCase, (data) => {
      const r = valueOrProtocolError(() => decodeQuic(data));
      if (r instanceof ProtocolError) return;
      expect(r.image.data.length).toBe(r.width * r.height * 4);
    });
  });

  it("both refuse a size above the caller's limit before decoding a pixel", () => {
    check(fc.tuple(picture, fc.integer({ min: 1, max: 300 })), ([img, maxPixels]) => {
      for (const [data, decode] of [
        [encodeLz(img), (d: Buffer) => decodeLz(d, { maxPixels })],
        [encodeQuic(img), (d: Buffer) => decodeQuic(d, { maxPixels })],
      ] as const) {
        const r = valueOrProtocolError(() => decode(data));
        if (img.width * img.height > maxPixels) expect(r).toBeInstanceOf(ProtocolError);
        else expect(r).not.toBeInstanceOf(ProtocolError);
      }
    });
  });

  it('QUIC: a header claiming more rows than the stream has bits for is refused', () => {
    // Every row after the first codes at least three pixels of every channel before a run can start.
    check(
      fc.tuple(fc.integer({ min: 3, max: 2000 }), fc.integer({ min: 2, max: 2000 }), fc.integer({ min: 1, max: 64 })),
      ([w, h, words]) => {
        const bits = words * 32;
        const data = quicStream(4, w, h, Buffer.alloc(words * 4, 0xff));
        const r = valueOrProtocolError(() => decodeQuic(data));
        if (3 * (w + 3 * (h - 1)) > bits) {
          expect(r).toBeInstanceOf(ProtocolError);
          expect((r as ProtocolError).message).toMatch(/needs at least/);
        }
      },
    );
  });
});

describe('round trips', () => {
  it('LZ and QUIC give the picture back', () => {
    check(
      fc.tuple(picture, fc.boolean()),
      ([img, alpha]) => {
        const type = alpha ? 'rgba' : 'rgb32';
        const mask = alpha ? 0xffffffff : 0xffffff;
        for (const decoded of [decodeLz(encodeLz(img, { type })).image, decodeQuic(encodeQuic(img, { type })).image]) {
          for (let i = 0; i < img.width * img.height; i++) {
            expect((decoded.data.readUInt32LE(4 * i) & mask) >>> 0).toBe((img.data.readUInt32LE(4 * i) & mask) >>> 0);
          }
        }
      },
      300,
    );
  });
});

describe('the client draws any display message or refuses it with a ProtocolError', () => {
  const types = fc.constantFrom(
    DisplayMsg.SurfaceCreate,
    DisplayMsg.SurfaceDestroy,
    DisplayMsg.DrawFill,
    DisplayMsg.DrawCopy,
    DisplayMsg.CopyBits,
    DisplayMsg.InvalList,
    DisplayMsg.InvalAllPixmaps,
    DisplayMsg.Mark,
    DisplayMsg.Reset,
    DisplayMsg.DrawOpaque,
  );
  /** A surface 0 of at most 64x64 first, so draws have something to land on. */
  function display(): ClientDisplay {
    const d = new ClientDisplay();
    d.apply({ kind: 'surfaceCreate', surfaceId: 0, width: 64, height: 64, format: 32, flags: 1 });
    return d;
  }

  it('random bodies of every display message type', () => {
    check(fc.array(fc.tuple(types, fc.oneof(anyBytes(200), lzCase, quicCase)), { maxLength: 6 }), (messages) => {
      const d = display();
      for (const [type, body] of messages) {
        valueOrProtocolError(() => {
          const m = decodeDisplayServerMessage(type, body);
          if (m) d.apply(m);
        });
      }
    });
  });

  it('copies carrying any image header and any image bytes', () => {
    const copy = fc
      .tuple(
        fc.integer({ min: 0, max: 120 }),
        u32,
        u32,
        fc.integer({ min: 0, max: 3 }),
        fc.oneof(lzCase, quicCase, anyBytes(200)),
        fc.boolean(),
      )
      .map(([type, w, h, fmt, data, cacheMe]) => copyMessage(type, w, h, fmt, data, cacheMe));
    check(fc.array(copy, { minLength: 1, maxLength: 4 }), (bodies) => {
      const d = display();
      for (const body of bodies) {
        valueOrProtocolError(() => {
          const m = decodeDisplayServerMessage(DisplayMsg.DrawCopy, body);
          if (m) d.apply(m);
        });
      }
    });
  });
});

/** A DRAW_COPY to surface 0, box = src area = the image's claimed size, the image after the fixed part. */
function copyMessage(
  imageType: number,
  width: number,
  height: number,
  bitmapFormat: number,
  data: Buffer,
  cacheMe: boolean,
): Buffer {
  const fixed = Buffer.alloc(4 + 16 + 1 + 4 + 16 + 2 + 1 + 13);
  let o = 4;
  for (const v of [0, 0, Math.min(height, 0x7fffffff), Math.min(width, 0x7fffffff)]) o = fixed.writeInt32LE(v, o);
  fixed[o++] = 0; // no clip
  o = fixed.writeUInt32LE(fixed.length, o);
  for (const v of [0, 0, Math.min(height, 0x7fffffff), Math.min(width, 0x7fffffff)]) o = fixed.writeInt32LE(v, o);
  o = fixed.writeUInt16LE(8, o); // OP_PUT
  fixed[o] = 1;
  const descriptor = Buffer.alloc(18);
  descriptor.writeBigUInt64LE(7n, 0);
  descriptor[8] = imageType === 0 ? 0 : imageType < 60 ? 1 : 101; // bitmap, QUIC or LZ_RGB
  descriptor[9] = cacheMe ? 1 : 0;
  descriptor.writeUInt32LE(width >>> 0, 10);
  descriptor.writeUInt32LE(height >>> 0, 14);
  const part = Buffer.alloc(18);
  if (descriptor[8] === 0) {
    part[0] = [8, 9, 6, 1][bitmapFormat]!; // 32-bit, RGBA, 16-bit, 1-bit
    part[1] = 0x04; // top-down
    part.writeUInt32LE(width >>> 0, 2);
    part.writeUInt32LE(height >>> 0, 6);
    part.writeUInt32LE(Math.ceil(data.length / Math.max(1, height)) >>> 0, 10);
    part.writeUInt32LE(0, 14);
    return Buffer.concat([fixed, descriptor, part, data]);
  }
  part.writeUInt32LE(data.length, 0);
  return Buffer.concat([fixed, descriptor, part.subarray(0, 4), data]);
}
