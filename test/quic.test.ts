import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import { encodeQuic, QUIC_MAGIC, QuicImageType } from '../src/display/quic.js';
import { decodeQuic } from '../src/display/quic-decode.js';
import { choosePhotoCodec, MIN_QUIC_PIXELS } from '../src/display/image-choice.js';
import { encodeLz } from '../src/display/lz.js';
import { allocImage, countRgbDifferences, cropImage, type PixelImage } from '../src/display/pixels.js';
import { decodePng } from '../src/display/png.js';
import { makeDesktopImage, makeNoiseImage, makePhotoImage } from '../bench/lz.js';
import { expectBadImage as expectBadImageOf } from './helpers/bad-image.js';

// ---------------------------------------------------------------------------------------------
// Helpers

/** An image from 0xXXRRGGBB values, row-major. */
function imageOf(width: number, height: number, pixel: (x: number, y: number) => number): PixelImage {
  const img = allocImage(width, height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) img.data.writeUInt32LE(pixel(x, y) >>> 0, (y * width + x) * 4);
  return img;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

/** Distinct 24-bit colours: multiplying by an odd constant is a bijection modulo 2^24. */
const distinct = (i: number): number => Math.imul(i + 1, 0x9e3779) & 0xffffff;

/** Flat blocks of a few colours with some noise: runs of every length, run starts and ends everywhere. */
function blocky(width: number, height: number, seed: number): PixelImage {
  const rnd = lcg(seed);
  const palette = [0x112233, 0x445566, 0xffffff, 0, 0x10ff20];
  const cells = Array.from({ length: 64 }, () => palette[rnd() % palette.length]!);
  return imageOf(width, height, (x, y) => (rnd() % 23 === 0 ? rnd() : cells[((x >> 3) + 7 * (y >> 2)) & 63]!));
}

function expectSamePixels(decoded: PixelImage, img: PixelImage, withAlpha: boolean): void {
  expect(countRgbDifferences(decoded, img)).toBe(0);
  let badFourth = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const want = withAlpha ? img.data[y * img.stride + x * 4 + 3] : 0;
      if (decoded.data[(y * decoded.width + x) * 4 + 3] !== want) badFourth++;
    }
  }
  expect(badFourth).toBe(0);
}

function roundTrip(img: PixelImage, type: 'rgb32' | 'rgba' = 'rgb32'): Buffer {
  const encoded = encodeQuic(img, { type });
  const decoded = decodeQuic(encoded);
  expect([decoded.width, decoded.height, decoded.type]).toEqual([img.width, img.height, type === 'rgba' ? 5 : 4]);
  expect(decoded.image.stride).toBe(img.width * 4);
  expectSamePixels(decoded.image, img, type === 'rgba');
  return encoded;
}

const expectBadImage = (data: Buffer, pattern: RegExp): void => expectBadImageOf(decodeQuic, data, pattern);

/** A hand-made stream: the five header words, then `bits` ("1"/"0", MSB first), padded, plus a zero word. */
function handStream(type: number, width: number, height: number, bits: string): Buffer {
  const words = [QUIC_MAGIC, 0, type, width, height];
  const padded = bits.padEnd(Math.ceil(bits.length / 32) * 32, '0');
  for (let i = 0; i < padded.length; i += 32) words.push(parseInt(padded.slice(i, i + 32), 2));
  words.push(0);
  const out = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => out.writeUInt32LE(w >>> 0, i * 4));
  return out;
}

// ---------------------------------------------------------------------------------------------

describe('QUIC stream format', () => {
  it('writes five little-endian header words, whole words, and a final zero word', () => {
    const out = encodeQuic(makePhotoImage(37, 11, 1));
    expect([...out.subarray(0, 4)]).toEqual([0x51, 0x55, 0x49, 0x43]); // "QUIC"
    expect([0, 4, 8, 12, 16].map((o) => out.readUInt32LE(o))).toEqual([QUIC_MAGIC, 0, QuicImageType.Rgb32, 37, 11]);
    expect(out.length % 4).toBe(0);
    expect(out.readUInt32LE(out.length - 4)).toBe(0);
    expect(encodeQuic(makePhotoImage(3, 2, 1), { type: 'rgba' }).readUInt32LE(8)).toBe(QuicImageType.Rgba);
  });

  it('codes a 1x1 image in three 8-bit codewords (parameter 7 before any learning)', () => {
    // R = 0x12 -> folded 0x24 -> "1" + 7 bits; G = 0xff (-1) -> 1 -> "1" + 0000001; B = 0x80 -> 255 -> escape "0" + 127.
    const out = encodeQuic(imageOf(1, 1, () => 0xab12ff80));
    expect(out.length).toBe(7 * 4);
    expect(out.readUInt32LE(20)).toBe(0xa4817f00); // the first coded bit is the MSB of the word
    expect(out.readUInt32LE(24)).toBe(0);
  });

  it('gives the same bytes whatever the X bytes, the stride padding or the buffer alignment', () => {
    const base = makePhotoImage(53, 29, 4);
    const want = encodeQuic(base);
    const rnd = lcg(9);
    const stride = 53 * 4 + 20;
    const backing = Buffer.alloc(stride * 29 + 3);
    for (let i = 0; i < backing.length; i++) backing[i] = rnd() & 0xff; // garbage in the padding and X bytes
    const padded: PixelImage = { width: 53, height: 29, stride, data: backing.subarray(3) }; // unaligned
    for (let y = 0; y < 29; y++) base.data.copy(padded.data, y * stride, y * 53 * 4, (y + 1) * 53 * 4 - 1);
    for (let y = 0; y < 29; y++) for (let x = 0; x < 53; x++) padded.data[y * stride + x * 4 + 3] = rnd() & 0xff;
    expect(encodeQuic(padded)).toEqual(want);
    expect(encodeQuic({ ...padded, data: Buffer.from(padded.data) })).toEqual(want); // aligned copy
    expect(countRgbDifferences(decodeQuic(want).image, padded)).toBe(0);
  });

  it('is deterministic across calls of different sizes (no state leaks between images)', () => {
    const a = makePhotoImage(300, 40, 5);
    const first = encodeQuic(a);
    encodeQuic(makeNoiseImage(700, 90, 1), { type: 'rgba' });
    encodeQuic(imageOf(1, 1, () => 0));
    expect(encodeQuic(a)).toEqual(first);
  });

  it('rejects images it cannot describe', () => {
    expect(() => encodeQuic(allocImage(0, 5))).toThrow(/at least 1x1/);
    expect(() => encodeQuic({ width: 4, height: 2, stride: 12, data: Buffer.alloc(32) })).toThrow(/stride/);
    expect(() => encodeQuic({ width: 4, height: 2, stride: 16, data: Buffer.alloc(31) })).toThrow(/needs 32/);
    expect(() => encodeQuic(allocImage(2, 2), { type: 'gray' as 'rgb32' })).toThrow(/unknown type/);
  });
});

describe('QUIC round trips', () => {
  it('round-trips a photo-like image much smaller than LZ', () => {
    const img = makePhotoImage(257, 131, 9);
    const out = roundTrip(img);
    expect(out.length).toBeLessThan(encodeLz(img).length / 2);
  });

  it('round-trips gradients in every direction', () => {
    roundTrip(imageOf(300, 40, (x) => (x & 0xff) * 0x010101));
    roundTrip(imageOf(40, 300, (_x, y) => ((y & 0xff) << 16) | ((255 - (y & 0xff)) << 8)));
    roundTrip(imageOf(211, 97, (x, y) => (((x + y) & 0xff) << 16) | (((x * 3) & 0xff) << 8) | ((y * 5) & 0xff)));
  });

  it('round-trips noise (escape codewords) within 26 bits per channel', () => {
    const out = roundTrip(makeNoiseImage(317, 211, 7));
    expect(out.length).toBeLessThanOrEqual(28 + Math.ceil((317 * 211 * 3 * 26) / 32) * 4);
  });

  it('codes a flat image in a few bytes per row', () => {
    const out = roundTrip(imageOf(640, 480, () => 0x3a6ea5));
    expect(out.length).toBeLessThan(480 * 4);
  });

  it('round-trips 1x1, single rows and columns, and odd widths', () => {
    roundTrip(imageOf(1, 1, () => 0x123456));
    roundTrip(imageOf(1, 1, () => 0));
    for (const [w, h] of [
      [1, 9],
      [9, 1],
      [2, 2],
      [3, 3],
      [5, 4],
      [7, 13],
      [33, 5],
      [97, 3],
      [255, 2],
    ] as const) {
      roundTrip(blocky(w, h, w * 31 + h));
      roundTrip(makePhotoImage(w, h, w + h));
    }
  });

  it('round-trips rows longer than a wait-mask segment and images past the last wait-mask step', () => {
    // 2048 symbols per step until index 6: a 5000-pixel row is split mid-row, runs end at segment ends.
    roundTrip(blocky(5000, 6, 2));
    roundTrip(makePhotoImage(2500, 8, 2));
    roundTrip(blocky(400, 300, 3)); // 120000 pixels: well past 6 * 2048
  });

  it('round-trips runs of every length, including runs ending the row and empty runs', () => {
    const rnd = lcg(4);
    roundTrip(imageOf(300, 60, (x, y) => (rnd() % (1 + (y % 7)) === 0 ? distinct(x) : 0x808080)));
    roundTrip(imageOf(64, 64, (x, y) => ((x >> (y % 5)) & 1 ? 0xffffff : 0)));
    roundTrip(makeDesktopImage(640, 400, 3));
  });

  it('round-trips RGBA with its own alpha plane', () => {
    const rnd = lcg(8);
    roundTrip(makeNoiseImage(123, 45, 8), 'rgba');
    roundTrip(
      imageOf(301, 97, (x, y) => ((x < 150 ? 255 : (x * y) & 0xff) << 24) | (y < 40 ? 0x112233 : distinct(x % 50))),
      'rgba',
    );
    roundTrip(
      imageOf(200, 30, (x, y) => ((rnd() % 5 === 0 ? rnd() & 0xff : (x >> 4) * 16) << 24) | ((y >> 3) * 0x203040)),
      'rgba',
    );
    roundTrip(
      imageOf(1, 1, () => 0x80a0b0c0),
      'rgba',
    );
    roundTrip(blocky(3000, 5, 1), 'rgba');
  });
});

describe('QUIC decoder rejects bad streams', () => {
  const good = encodeQuic(makePhotoImage(40, 30, 1));
  const patched = (offset: number, value: number): Buffer => {
    const b = Buffer.from(good);
    b.writeUInt32LE(value, offset);
    return b;
  };

  it('rejects a bad header', () => {
    expectBadImage(patched(0, 0x4349554e), /bad magic 0x4349554e/);
    expectBadImage(patched(4, 0x00010000), /unsupported version 0x10000/);
    expectBadImage(patched(8, QuicImageType.Gray), /unsupported image type 1/);
    expectBadImage(patched(8, QuicImageType.Rgb16), /unsupported image type 2/);
    expectBadImage(patched(8, 9), /unsupported image type 9/);
    expectBadImage(patched(12, 0), /empty image/);
    expectBadImage(patched(16, 0x7fffffff), /too large/);
    expectBadImage(patched(12, 100000), /truncated: 100000x30 needs at least/);
    expectBadImage(good.subarray(0, 20), /truncated: 20 bytes/);
    expectBadImage(good.subarray(0, good.length - 1), /not a whole number of 32-bit words/);
  });

  it('decodes RGB24 as the same stream as RGB32', () => {
    const decoded = decodeQuic(patched(8, QuicImageType.Rgb24));
    expect(decoded.type).toBe(QuicImageType.Rgb24);
    expect(countRgbDifferences(decoded.image, makePhotoImage(40, 30, 1))).toBe(0);
  });

  it('rejects every truncation, down to the header', () => {
    for (let words = good.length / 4 - 1; words >= 6; words--) expectBadImage(good.subarray(0, words * 4), /truncated/);
    const rgba = encodeQuic(blocky(50, 20, 1), { type: 'rgba' });
    expectBadImage(rgba.subarray(0, rgba.length - 4), /truncated: the stream ends after/);
  });

  it('rejects an escape codeword above 255', () => {
    // Pixel 0 (parameter 7): three zero symbols, "10000000" each. The model then learns parameter 0
    // for context 0, where an escape is 18 zeros and 8 bits: 18 + 255 = 273 is not a byte.
    const pixel0 = '10000000'.repeat(3);
    expect(decodeQuic(handStream(4, 2, 1, pixel0 + '1' + '1' + '1')).image.data).toEqual(Buffer.alloc(8));
    expectBadImage(handStream(4, 2, 1, pixel0 + '0'.repeat(18) + '11111111'), /escape codeword for value 273/);
  });

  it('rejects a run past the end of its row segment', () => {
    // Row 1 of this 4x2 image is coded as pixels 0..2 and a run of 1 at x = 3, whose MELCODE is
    // "1" (one hit of 1 pixel) then "0": the last 1 bit of the stream. One more hit overruns.
    const img = imageOf(4, 2, (x, y) =>
      y === 0 ? [0x102030, 0x405060, 0x405060, 0x405060][x]! : [0x7f0000, 0x00ff00, 0x00ff00, 0x00ff00][x]!,
    );
    const stream = roundTrip(img);
    const body = stream.subarray(20, stream.length - 4);
    let last = -1;
    for (let bit = 0; bit < body.length * 8; bit++)
      if ((body.readUInt32LE((bit >> 5) * 4) >>> (31 - (bit & 31))) & 1) last = bit;
    const bad = Buffer.from(stream);
    const next = last + 1; // the terminating 0 becomes a second hit; the padding after it terminates
    const offset = 20 + (next >> 5) * 4;
    bad.writeUInt32LE((bad.readUInt32LE(offset) | (1 << (31 - (next & 31)))) >>> 0, offset);
    expectBadImage(bad, /run of 2 pixels at x=3 overruns its row segment \(ends at 4\)/);
  });
});

// ---------------------------------------------------------------------------------------------
// The classifier

const RECORDINGS = fileURLToPath(new URL('../recordings', import.meta.url));
const recording = (name: string): PixelImage | undefined => {
  const path = `${RECORDINGS}/${name}.png`;
  return existsSync(path) ? decodePng(readFileSync(path)) : undefined;
};

describe('photo/UI codec choice', () => {
  it('picks QUIC for photos and LZ for UI content, noise and small images', () => {
    expect(choosePhotoCodec(makePhotoImage(1024, 768, 2))).toBe('quic');
    expect(choosePhotoCodec(makePhotoImage(200, 150, 3))).toBe('quic');
    expect(choosePhotoCodec(makeDesktopImage(1024, 768, 1))).toBe('lz');
    expect(choosePhotoCodec(cropImage(makeDesktopImage(1024, 768, 1), 150, 80, 500, 400))).toBe('lz');
    expect(choosePhotoCodec(imageOf(300, 200, () => 0x3a6ea5))).toBe('lz');
    expect(choosePhotoCodec(makeNoiseImage(300, 200, 3))).toBe('lz'); // a tie: LZ is the faster one
    expect(choosePhotoCodec(makePhotoImage(31, 31, 3))).toBe('lz');
    expect(choosePhotoCodec(makePhotoImage(2000, 2, 3))).toBe('lz');
    expect(31 * 31).toBeLessThan(MIN_QUIC_PIXELS);
  });

  it('agrees with the actual sizes on the synthetic images', () => {
    for (const img of [makePhotoImage(400, 300, 6), makeDesktopImage(800, 600, 6)]) {
      const best = encodeQuic(img).length < encodeLz(img).length ? 'quic' : 'lz';
      expect(choosePhotoCodec(img)).toBe(best);
    }
  });

  const image = recording('image');
  const xterm = recording('xterm-type');
  it('agrees with the actual sizes on the reference recordings\u2019 final frames', () => {
    expect(image && xterm, 'recordings/image.png and recordings/xterm-type.png').toBeTruthy();
    for (const img of [image!, xterm!, cropImage(image!, 0, 0, 325, 244), cropImage(image!, 400, 0, 145, 97)]) {
      const best = encodeQuic(img).length < encodeLz(img).length ? 'quic' : 'lz';
      expect(choosePhotoCodec(img)).toBe(best);
    }
    expect(choosePhotoCodec(image!)).toBe('quic');
    expect(choosePhotoCodec(xterm!)).toBe('lz');
  });
});

// ---------------------------------------------------------------------------------------------
// Cross-check against spice-html5's own decoder (the reference our streams must satisfy).

const HTML5_QUIC = ['/usr/share/spice-html5/quic.js', '/usr/share/spice-html5/src/quic.js'].find((p) => existsSync(p));

interface Html5Quic {
  from_dv(dv: DataView, at: number, mb: ArrayBuffer): number;
  outptr?: Uint8Array;
  type?: number;
  width?: number;
  height?: number;
}

async function loadHtml5Quic(path: string): Promise<new () => Html5Quic> {
  const mod: unknown = await import(/* @vite-ignore */ path);
  const ctor = (mod as { SpiceQuic?: unknown }).SpiceQuic;
  if (typeof ctor !== 'function') throw new Error(`${path} does not export SpiceQuic`);
  return ctor as new () => Html5Quic;
}

/** Decode with spice-html5 (as its SpiceImage parser does: u32 data_size, then the stream) and compare bytes. */
function expectHtml5Match(SpiceQuic: new () => Html5Quic, img: PixelImage, type: 'rgb32' | 'rgba' = 'rgb32'): void {
  const encoded = encodeQuic(img, { type });
  const message = new ArrayBuffer(4 + encoded.length);
  const dv = new DataView(message);
  dv.setUint32(0, encoded.length, true);
  new Uint8Array(message, 4).set(encoded);
  const q = new SpiceQuic();
  expect(q.from_dv(dv, 0, message)).toBe(message.byteLength);
  if (!q.outptr) throw new Error(`spice-html5 refused our ${img.width}x${img.height} ${type} stream`);
  expect([q.type, q.width, q.height]).toEqual([type === 'rgba' ? 5 : 4, img.width, img.height]);
  // html5's buffer is B,G,R,X like ours, X = 0 for RGB32 and alpha for RGBA: compare it with our decoder's.
  const ours = decodeQuic(encoded).image.data;
  expect(Buffer.from(q.outptr.buffer, q.outptr.byteOffset, q.outptr.byteLength).equals(ours)).toBe(true);
  expectSamePixels(decodeQuic(encoded).image, img, type === 'rgba');
}

describe('QUIC cross-check with spice-html5 quic.js', () => {
  const title =
    HTML5_QUIC === undefined
      ? 'spice-html5 not installed (apt-get install spice-html5); skipped'
      : `decodes our streams pixel-identically (${HTML5_QUIC})`;
  it.skipIf(HTML5_QUIC === undefined)(title, async () => {
    const SpiceQuic = await loadHtml5Quic(HTML5_QUIC ?? '');
    expectHtml5Match(SpiceQuic, makePhotoImage(640, 400, 8));
    expectHtml5Match(SpiceQuic, makeDesktopImage(333, 201, 8));
    expectHtml5Match(SpiceQuic, makeNoiseImage(123, 45, 8));
    expectHtml5Match(SpiceQuic, blocky(5000, 4, 5));
    expectHtml5Match(SpiceQuic, blocky(250, 120, 6));
    expectHtml5Match(
      SpiceQuic,
      imageOf(1, 1, () => 0xab12ff80),
    );
    for (const [w, h] of [
      [1, 7],
      [7, 1],
      [3, 3],
      [97, 5],
    ] as const)
      expectHtml5Match(SpiceQuic, blocky(w, h, w + h));
    expectHtml5Match(
      SpiceQuic,
      imageOf(64, 64, (x, y) => ((x >> (y % 5)) & 1 ? 0xffffff : 0)),
    );
    expectHtml5Match(SpiceQuic, makeNoiseImage(97, 61, 5), 'rgba');
    expectHtml5Match(SpiceQuic, blocky(3000, 5, 2), 'rgba');
    const rnd = lcg(5);
    expectHtml5Match(
      SpiceQuic,
      imageOf(200, 30, (x, y) => ((rnd() % 5 === 0 ? rnd() & 0xff : (x >> 4) * 16) << 24) | ((y >> 3) * 0x203040)),
      'rgba',
    );
    const frame = recording('image');
    if (frame) expectHtml5Match(SpiceQuic, frame);
  });
});
