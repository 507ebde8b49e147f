import { existsSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { encodeLz, LZ_HEADER_SIZE, LZ_MAX_FAR_OFFSET, LZ_MAX_NEAR_OFFSET, LzImageType } from '../src/display/lz.js';
import { decodeLz } from '../src/display/lz-decode.js';
import { allocImage, countRgbDifferences, type PixelImage } from '../src/display/pixels.js';
import { makeDesktopImage, makeNoiseImage, makePhotoImage } from '../bench/lz.js';
import { expectBadImage as expectBadImageOf } from './helpers/bad-image.js';

// ---------------------------------------------------------------------------------------------
// Helpers

/** A 1-row-or-more image from 0xXXRRGGBB values, row-major. */
function imageOf(width: number, height: number, pixel: (i: number) => number): PixelImage {
  const img = allocImage(width, height);
  for (let i = 0; i < width * height; i++) img.data.writeUInt32LE(pixel(i) >>> 0, i * 4);
  return img;
}

/** Distinct 24-bit colours: multiplying by an odd constant is a bijection modulo 2^24. */
const distinct = (i: number): number => Math.imul(i + 1, 0x9e3779) & 0xffffff;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

function header(type: number, width: number, height: number, stride: number, topDown: boolean): Buffer {
  const h = Buffer.alloc(LZ_HEADER_SIZE);
  [0x20205a4c, 0x00010001, type, width, height, stride, topDown ? 1 : 0].forEach((v, i) => h.writeUInt32BE(v, i * 4));
  return h;
}

function stream(type: number, width: number, height: number, body: number[], topDown = true): Buffer {
  const bpp = type === LzImageType.Rgb16 ? 2 : type === LzImageType.Rgb24 ? 3 : 4;
  return Buffer.concat([header(type, width, height, width * bpp, topDown), Buffer.from(body)]);
}

function roundTrip(img: PixelImage, opts: { type?: 'rgb32' | 'rgba'; topDown?: boolean } = {}): Buffer {
  const encoded = encodeLz(img, opts);
  const decoded = decodeLz(encoded);
  expect(decoded.width).toBe(img.width);
  expect(decoded.height).toBe(img.height);
  expect(decoded.topDown).toBe(opts.topDown ?? true);
  expect(countRgbDifferences(decoded.image, img)).toBe(0);
  for (let i = 0; i < img.width * img.height; i++) {
    const x = i % img.width;
    const y = Math.floor(i / img.width);
    const want = opts.type === 'rgba' ? img.data[y * img.stride + x * 4 + 3] : 0;
    if (decoded.image.data[i * 4 + 3] !== want)
      throw new Error(`4th byte of pixel ${i} is ${decoded.image.data[i * 4 + 3]}, want ${want}`);
  }
  return encoded;
}

interface Command {
  kind: 'literal' | 'match';
  at: number;
  len: number;
  offset: number;
  far: boolean;
}

/** Independent walk over an RGB32 body, to see which commands the encoder chose. */
function commandsOf(encoded: Buffer): Command[] {
  const n = encoded.readUInt32BE(12) * encoded.readUInt32BE(16);
  const cmds: Command[] = [];
  let pos = LZ_HEADER_SIZE;
  let op = 0;
  while (op < n) {
    const c = encoded[pos++];
    if (c < 32) {
      cmds.push({ kind: 'literal', at: op, len: c + 1, offset: 0, far: false });
      op += c + 1;
      pos += 3 * (c + 1);
      continue;
    }
    let len = c >> 5;
    if (len === 7) for (let b = 255; b === 255; len += b) b = encoded[pos++];
    let offset = ((c & 31) << 8) + encoded[pos++];
    const far = offset === 0x1fff;
    if (far) offset = 8191 + encoded.readUInt16BE((pos += 2) - 2);
    cmds.push({ kind: 'match', at: op, len, offset, far });
    op += len;
  }
  return cmds;
}

const expectBadImage = (data: Buffer, pattern: RegExp): void => expectBadImageOf(decodeLz, data, pattern);

const A = 0x112233;
const B = 0x445566;
const C = 0x778899;
const D = 0xaabbcc;
const bgr = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff];

// ---------------------------------------------------------------------------------------------

describe('LZ encoder output, byte for byte', () => {
  it('encodes a 1x1 image as a single literal', () => {
    const out = encodeLz(imageOf(1, 1, () => 0xff000000 | A));
    expect(out).toEqual(Buffer.concat([header(8, 1, 1, 4, true), Buffer.from([0x00, ...bgr(A)])]));
  });

  it('encodes a known 8x2 image: literals, a D=3 match, a run with a zero extension byte', () => {
    const row0 = [A, B, C, A, B, C, A, B];
    const img = imageOf(8, 2, (i) => (i < 8 ? row0[i] : D) | ((i * 37) << 24)); // X bytes must not matter
    const body = [0x02, ...bgr(A), ...bgr(B), ...bgr(C), 0xa0, 0x02, 0x00, ...bgr(D), 0xe0, 0x00, 0x00];
    expect(encodeLz(img)).toEqual(Buffer.concat([header(8, 8, 2, 32, true), Buffer.from(body)]));
    const bottomUp = [0x00, ...bgr(D), 0xe0, 0x00, 0x00, 0x02, ...bgr(A), ...bgr(B), ...bgr(C), 0xa0, 0x02];
    expect(encodeLz(img, { topDown: false })).toEqual(
      Buffer.concat([header(8, 8, 2, 32, false), Buffer.from(bottomUp)]),
    );
  });

  it('splits 33 literals into runs of 32 and 1', () => {
    const out = roundTrip(imageOf(33, 1, distinct));
    expect(out.length).toBe(LZ_HEADER_SIZE + 1 + 32 * 3 + 1 + 3);
    expect(out[LZ_HEADER_SIZE]).toBe(31);
    expect(out[LZ_HEADER_SIZE + 1 + 96]).toBe(0);
  });

  it('ends a long run with 255 then a 0 extension byte, or a single byte below 255', () => {
    const solid = (n: number): Buffer => roundTrip(imageOf(n, 1, () => A)).subarray(LZ_HEADER_SIZE);
    expect([...solid(263)]).toEqual([0x00, ...bgr(A), 0xe0, 0xff, 0x00, 0x00]); // L = 262 = 7 + 255 + 0
    expect([...solid(262)]).toEqual([0x00, ...bgr(A), 0xe0, 0xfe, 0x00]); // L = 261 = 7 + 254
    expect([...solid(7)]).toEqual([0x00, ...bgr(A), 0xc0, 0x00]); // L = 6, no extension
    expect([...solid(8)]).toEqual([0x00, ...bgr(A), 0xe0, 0x00, 0x00]); // L = 7, extension 0
  });

  it('writes the header: big-endian words, type 9 for RGBA, stride = 4 * width', () => {
    const out = encodeLz(imageOf(3, 2, distinct), { type: 'rgba', topDown: false });
    expect([...out.subarray(0, 8)]).toEqual([0x20, 0x20, 0x5a, 0x4c, 0, 1, 0, 1]);
    expect([8, 12, 16, 20, 24].map((o) => out.readUInt32BE(o))).toEqual([9, 3, 2, 12, 0]);
  });
});

describe('LZ round trips', () => {
  it('uses the near form up to o = 8190, the far form from 8191 up to its limit, nothing beyond', () => {
    for (const distance of [
      LZ_MAX_NEAR_OFFSET + 1,
      LZ_MAX_NEAR_OFFSET + 2,
      20000,
      LZ_MAX_FAR_OFFSET + 1,
      LZ_MAX_FAR_OFFSET + 2,
    ]) {
      // `distance` distinct pixels, then the first 40 of them again.
      const img = imageOf(distance + 40, 1, (i) => distinct(i % distance));
      const matches = commandsOf(roundTrip(img)).filter((c) => c.kind === 'match');
      const offset = distance - 1;
      if (offset > LZ_MAX_FAR_OFFSET) {
        expect(matches).toEqual([]);
      } else {
        expect(matches.length).toBeGreaterThan(0);
        expect(matches.every((m) => m.offset === offset && m.far === offset > LZ_MAX_NEAR_OFFSET)).toBe(true);
        expect(matches.reduce((sum, m) => sum + m.len, 0)).toBeGreaterThanOrEqual(35);
      }
    }
  });

  it('round-trips random noise, ignoring random X bytes, within the literal bound', () => {
    const img = makeNoiseImage(317, 211, 7);
    const out = roundTrip(img);
    const n = 317 * 211;
    expect(out.length).toBeLessThanOrEqual(LZ_HEADER_SIZE + 3 * n + Math.ceil(n / 32));
  });

  it('compresses flat UI-like content well', () => {
    const img = makeDesktopImage(1024, 768, 5);
    const out = roundTrip(img);
    expect((1024 * 768 * 4) / out.length).toBeGreaterThan(20);
    roundTrip(img, { topDown: false });
  });

  it('round-trips a photo-like image', () => {
    roundTrip(makePhotoImage(257, 131, 9));
    roundTrip(makePhotoImage(64, 64, 9), { topDown: false });
  });

  it('gives the same bytes whatever the X bytes, the stride padding or the buffer alignment', () => {
    const rnd = lcg(11);
    const palette = [A, B, C, D, 0, 0xffffff];
    const packed = imageOf(37, 23, () => palette[rnd() % palette.length]);
    const want = encodeLz(packed);
    const stride = 37 * 4 + 12;
    const backing = Buffer.alloc(stride * 23 + 1);
    for (let i = 0; i < backing.length; i++) backing[i] = rnd() & 0xff; // garbage in the padding and X bytes
    const padded: PixelImage = { width: 37, height: 23, stride, data: backing.subarray(1) }; // unaligned
    for (let y = 0; y < 23; y++) {
      for (let x = 0; x < 37; x++) {
        const v = packed.data.readUInt32LE((y * 37 + x) * 4);
        padded.data.writeUIntLE(v & 0xffffff, y * stride + x * 4, 3);
      }
    }
    expect(encodeLz(padded)).toEqual(want);
    const aligned: PixelImage = { ...padded, data: Buffer.from(padded.data) };
    expect(encodeLz(aligned)).toEqual(want);
    expect(countRgbDifferences(decodeLz(want).image, padded)).toBe(0);
  });

  it('round-trips odd sizes, both row orders, with a mix of runs, matches and literals', () => {
    for (const width of [1, 2, 3, 7, 31, 33, 97]) {
      for (const height of [1, 2, 5]) {
        const rnd = lcg(width * 100 + height);
        const img = imageOf(width, height, (i) => (rnd() % 4 === 0 ? distinct(i) : [A, B][(i >> 2) & 1]));
        roundTrip(img);
        roundTrip(img, { topDown: false });
      }
    }
  });

  it('round-trips RGBA with the alpha pass (runs, matches, literals, far distances)', () => {
    const rnd = lcg(3);
    const alphaOf = (i: number): number => (i % 9000 < 5000 ? 255 : i % 9000 < 5200 ? (i * 7) & 0xff : rnd() & 0xff);
    const img = imageOf(301, 97, (i) => (alphaOf(i) << 24) | (i % 301 < 150 ? A : distinct(i % 1000)));
    roundTrip(img, { type: 'rgba' });
    roundTrip(img, { type: 'rgba', topDown: false });
    roundTrip(
      imageOf(1, 1, () => 0x80000000 | B),
      { type: 'rgba' },
    );
    roundTrip(makeNoiseImage(50, 40, 4), { type: 'rgba' });
  });

  it('rejects images it cannot describe', () => {
    expect(() => encodeLz(allocImage(0, 5))).toThrow(/at least 1x1/);
    expect(() => encodeLz({ width: 4, height: 2, stride: 12, data: Buffer.alloc(32) })).toThrow(/stride/);
    expect(() => encodeLz({ width: 4, height: 2, stride: 16, data: Buffer.alloc(31) })).toThrow(/needs 32/);
  });
});

describe('LZ decoder on hand-made streams', () => {
  const lit3 = [0x02, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const bgrx = (...px: number[][]): Buffer => Buffer.from(px.flatMap((p) => [...p, 0]));

  it('decodes a literal run followed by a D=1 match, top-down and bottom-up', () => {
    const top = decodeLz(stream(8, 3, 2, [...lit3, 0x60, 0x00]));
    expect(top.image.data).toEqual(bgrx([1, 2, 3], [4, 5, 6], [7, 8, 9], [7, 8, 9], [7, 8, 9], [7, 8, 9]));
    expect(top.type).toBe(8);
    const bottom = decodeLz(stream(8, 3, 2, [...lit3, 0x60, 0x00], false));
    expect(bottom.image.data).toEqual(bgrx([7, 8, 9], [7, 8, 9], [7, 8, 9], [1, 2, 3], [4, 5, 6], [7, 8, 9]));
    expect(bottom.topDown).toBe(false);
  });

  it('decodes an overlapping D=3 match and the RGB24 type (same stream, X byte 0)', () => {
    const body = [...lit3, 0xa0, 0x02];
    const want = bgrx([1, 2, 3], [4, 5, 6], [7, 8, 9], [1, 2, 3], [4, 5, 6], [7, 8, 9], [1, 2, 3], [4, 5, 6]);
    expect(decodeLz(stream(8, 8, 1, body)).image.data).toEqual(want);
    expect(decodeLz(stream(7, 8, 1, body)).image.data).toEqual(want);
  });

  it('decodes near (o = 8190) and far (o = 8191 and o = 73726) distances', () => {
    for (const offset of [8190, 8191, LZ_MAX_FAR_OFFSET]) {
      const before = offset + 1;
      const body: number[] = [];
      for (let i = 0; i < before; i += 32) {
        const count = Math.min(32, before - i);
        body.push(count - 1);
        for (let k = 0; k < count; k++) body.push(...bgr(distinct(i + k)));
      }
      if (offset <= 8190) body.push(0x60 | (offset >> 8), offset & 0xff);
      else body.push(0x7f, 0xff, (offset - 8191) >> 8, (offset - 8191) & 0xff);
      const img = decodeLz(stream(8, before + 3, 1, body)).image;
      for (let k = 0; k < 3; k++) expect(img.data.readUInt32LE((before + k) * 4)).toBe(distinct(k));
    }
  });

  it('decodes RGB16 (x-r5-g5-b5, high byte first, bias 2)', () => {
    const body = [0x03, 0x7c, 0x00, 0x03, 0xe0, 0x00, 0x1f, 0x42, 0x10, 0x20, 0x00];
    const out = decodeLz(stream(6, 3, 2, body)).image.data;
    expect(out).toEqual(bgrx([0, 0, 255], [0, 255, 0], [255, 0, 0], [132, 132, 132], [132, 132, 132], [132, 132, 132]));
  });

  it('decodes XXXA (alpha only, bias 3) and RGBA', () => {
    const xxxa = decodeLz(stream(10, 5, 1, [0x01, 0x80, 0x40, 0x20, 0x00])).image.data;
    expect(xxxa).toEqual(Buffer.from([0, 0, 0, 0x80, 0, 0, 0, 0x40, 0, 0, 0, 0x40, 0, 0, 0, 0x40, 0, 0, 0, 0x40]));
    const rgba = decodeLz(stream(9, 2, 1, [0x01, 1, 2, 3, 4, 5, 6, 0x01, 0xaa, 0xbb])).image.data;
    expect(rgba).toEqual(Buffer.from([1, 2, 3, 0xaa, 4, 5, 6, 0xbb]));
  });
});

describe('LZ decoder rejects what would crash spice-gtk', () => {
  const good = stream(8, 3, 2, [0x02, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x60, 0x00]);
  const patched = (offset: number, value: number): Buffer => {
    const b = Buffer.from(good);
    b.writeUInt32BE(value, offset);
    return b;
  };

  it('rejects a bad header', () => {
    expectBadImage(patched(0, 0x4c5a2020), /bad magic/);
    expectBadImage(patched(4, 0x00010002), /unsupported version/);
    expectBadImage(patched(8, 5), /unsupported image type 5/);
    expectBadImage(patched(8, 11), /unsupported image type 11/);
    expectBadImage(good.subarray(0, 27), /truncated header/);
    expectBadImage(patched(12, 0), /empty image/);
    expectBadImage(patched(16, 0x7fffffff), /cannot encode/);
  });

  it('rejects truncated streams', () => {
    for (let cut = LZ_HEADER_SIZE; cut < good.length; cut++) expectBadImage(good.subarray(0, cut), /truncated/);
    expectBadImage(stream(8, 300, 1, [0x00, 1, 2, 3, 0xe0, 0xff]), /truncated in the length extension/);
    expectBadImage(stream(8, 1000, 1, [0x00, 1, 2, 3, 0x3f, 0xff, 0x00]), /missing far distance/);
    expectBadImage(stream(9, 2, 1, [0x01, 1, 2, 3, 4, 5, 6]), /truncated at pixel 0/); // no alpha pass
    expectBadImage(stream(9, 2, 1, [0x01, 1, 2, 3, 4, 5, 6, 0x01, 0xaa]), /truncated in a literal run/);
  });

  it('rejects overruns', () => {
    expectBadImage(stream(8, 1, 1, [0x01, 1, 2, 3, 4, 5, 6]), /literal run of 2 at pixel 0 overruns/);
    expectBadImage(stream(8, 2, 1, [0x00, 1, 2, 3, 0x40, 0x00]), /match of 2 at pixel 1 overruns/);
    expectBadImage(stream(8, 263, 1, [0x00, 1, 2, 3, 0xe0, 0xff, 0x01, 0x00]), /match of 263 at pixel 1 overruns/);
    expectBadImage(stream(10, 3, 1, [0x00, 0x10, 0x20, 0x00]), /match of 3 at pixel 1 overruns/);
  });

  it('rejects a match reaching before the first pixel', () => {
    expectBadImage(stream(8, 4, 1, [0x20, 0x00, 0x02, 1, 2, 3, 1, 2, 3, 1, 2, 3]), /before the first pixel/);
    expectBadImage(stream(8, 3, 1, [0x00, 1, 2, 3, 0x40, 0x01]), /2 pixels back, before the first pixel/);
    expectBadImage(stream(8, 1000, 1, [0x00, 1, 2, 3, 0x3f, 0xff, 0x00, 0x00]), /8192 pixels back/);
  });

  it('rejects trailing bytes after the last pixel', () => {
    expectBadImage(Buffer.concat([good, Buffer.from([0])]), /1 trailing byte/);
    expectBadImage(Buffer.concat([good, Buffer.alloc(4)]), /4 trailing byte/);
    const rgba = encodeLz(imageOf(5, 3, distinct), { type: 'rgba' });
    expectBadImage(Buffer.concat([rgba, Buffer.from([0x00, 0xff])]), /2 trailing byte/);
    expect(decodeLz(good).image.width).toBe(3);
  });
});

// ---------------------------------------------------------------------------------------------
// Cross-check against spice-html5's own decoder (the Debian package installs it without a src/ folder).

const HTML5_LZ = ['/usr/share/spice-html5/lz.js', '/usr/share/spice-html5/src/lz.js'].find((p) => existsSync(p));

interface Html5ImageData {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}
interface Html5LzImage {
  type: number;
  width: number;
  height: number;
  top_down: number;
  data: ArrayBuffer;
}
type Html5Convert = (
  context: { createImageData(w: number, h: number): Html5ImageData },
  img: Html5LzImage,
) => Html5ImageData | undefined;

async function loadHtml5Decoder(path: string): Promise<Html5Convert> {
  const mod: unknown = await import(/* @vite-ignore */ path);
  const fn = (mod as { convert_spice_lz_to_web?: unknown }).convert_spice_lz_to_web;
  if (typeof fn !== 'function') throw new Error(`${path} does not export convert_spice_lz_to_web`);
  return fn as Html5Convert;
}

/** Decode with spice-html5 (RGBA ImageData) and compare with the source image (BGRX). */
function expectHtml5Match(
  convert: Html5Convert,
  img: PixelImage,
  opts: { type?: 'rgb32' | 'rgba'; topDown?: boolean },
): void {
  const encoded = encodeLz(img, opts);
  const body = new Uint8Array(encoded.subarray(LZ_HEADER_SIZE)).buffer; // a copy: lz.js wants an ArrayBuffer
  const context = {
    createImageData: (w: number, h: number) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
  };
  const [type, width, height] = [8, 12, 16].map((o) => encoded.readUInt32BE(o));
  const out = convert(context, { type, width, height, top_down: encoded.readUInt32BE(24), data: body });
  if (!out) throw new Error(`spice-html5 refused LZ type ${type}`);
  let differences = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const s = y * img.stride + x * 4;
      const d = (y * img.width + x) * 4;
      const alpha = opts.type === 'rgba' ? img.data[s + 3] : 255;
      if (
        out.data[d] !== img.data[s + 2] ||
        out.data[d + 1] !== img.data[s + 1] ||
        out.data[d + 2] !== img.data[s] ||
        out.data[d + 3] !== alpha
      )
        differences++;
    }
  }
  expect(differences).toBe(0);
}

describe('LZ cross-check with spice-html5 lz.js', () => {
  const title =
    HTML5_LZ === undefined
      ? 'spice-html5 not installed (apt-get install spice-html5); skipped'
      : `decodes our streams pixel-identically (${HTML5_LZ})`;
  it.skipIf(HTML5_LZ === undefined)(title, async () => {
    const convert = await loadHtml5Decoder(HTML5_LZ ?? '');
    expectHtml5Match(convert, makeDesktopImage(640, 400, 8), {});
    expectHtml5Match(convert, makeDesktopImage(333, 201, 8), { topDown: false });
    expectHtml5Match(convert, makePhotoImage(200, 150, 8), {});
    expectHtml5Match(convert, makeNoiseImage(123, 45, 8), {});
    expectHtml5Match(
      convert,
      imageOf(LZ_MAX_FAR_OFFSET + 41, 1, (i) => distinct(i % (LZ_MAX_FAR_OFFSET + 1))),
      {},
    );
    expectHtml5Match(
      convert,
      imageOf(8192 + 40, 1, (i) => distinct(i % 8192)),
      {},
    );
    expectHtml5Match(
      convert,
      imageOf(600, 1, () => A),
      {},
    );
    // RGBA top-down only: spice-html5 flips a bottom-up RGBA image before its alpha pass (its own bug).
    const rnd = lcg(5);
    expectHtml5Match(
      convert,
      imageOf(97, 61, (i) => ((i % 500 < 300 ? 255 : rnd() & 0xff) << 24) | distinct(i % 200)),
      { type: 'rgba' },
    );
  });
});
