import { describe, expect, it } from 'vitest';
import { decodeBmp, encodeBmp, hasTransparency } from '../src/display/bmp.js';
import { allocImage, pixelAt, sameRgb, type PixelImage } from '../src/display/pixels.js';
import { decodePng, encodePng } from '../src/display/png.js';
import { convertImage, typesForViewers, typesForX, viewerTypeFor } from '../src/sources/x11/selection-images.js';

/*
 * BMP files as clients put them on the clipboard, built here by hand from the format's layout (not
 * with the encoder under test), and the PNG <-> BMP conversions the X11 clipboard makes.
 */

function pattern(width: number, height: number, alpha = false): PixelImage {
  const img = allocImage(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const a = alpha ? (x * 40 + y * 7) & 0xff : 0xff;
      img.data.writeUInt32LE(
        ((a << 24) | ((x * 37) << 16) | ((y * 53) << 8) | ((x + y) * 11)) >>> 0,
        y * img.stride + 4 * x,
      );
    }
  }
  return img;
}

/** A BMP file: 40-byte header (or `infoSize`), then `extra` (masks, palette), then the rows. */
function bmpFile(opts: {
  width: number;
  height: number;
  bpp: number;
  compression?: number;
  extra?: Buffer;
  rows: Buffer[];
  colorsUsed?: number;
}): Buffer {
  const stride = Math.ceil((opts.width * opts.bpp) / 32) * 4;
  const extra = opts.extra ?? Buffer.alloc(0);
  const head = Buffer.alloc(14 + 40);
  const offset = head.length + extra.length;
  const pixels = Buffer.concat(opts.rows.map((r) => Buffer.concat([r, Buffer.alloc(stride - r.length)])));
  head.write('BM', 0, 'latin1');
  head.writeUInt32LE(offset + pixels.length, 2);
  head.writeUInt32LE(offset, 10);
  head.writeUInt32LE(40, 14);
  head.writeInt32LE(opts.width, 18);
  head.writeInt32LE(opts.height, 22);
  head.writeUInt16LE(1, 26);
  head.writeUInt16LE(opts.bpp, 28);
  head.writeUInt32LE(opts.compression ?? 0, 30);
  head.writeUInt32LE(opts.colorsUsed ?? 0, 46);
  return Buffer.concat([head, extra, pixels]);
}

const u32s = (...v: number[]): Buffer => Buffer.concat(v.map((n) => Buffer.from(Uint32Array.of(n).buffer)));
const rgb = (img: PixelImage, x: number, y: number): number => pixelAt(img, x, y) & 0xffffff;

describe('BMP', () => {
  it('round-trips an opaque image as 24 bits and a transparent one as 32 with alpha', () => {
    const opaque = pattern(13, 7);
    const file = encodeBmp(opaque);
    expect(file.readUInt16LE(28)).toBe(24);
    const back = decodeBmp(file);
    expect(back.alpha).toBe(false);
    expect(sameRgb(back.image, opaque)).toBe(true);
    const see = pattern(9, 5, true);
    expect(hasTransparency(see)).toBe(true);
    const decoded = decodeBmp(encodeBmp(see, true));
    expect(decoded.alpha).toBe(true);
    expect(decoded.image.data.equals(see.data)).toBe(true);
  });

  it('reads 8-bit and 1-bit palettes, bottom-up rows, and a top-down 24-bit file', () => {
    const palette = u32s(0x000000, 0xff0000, 0x00ff00, 0x0000ff);
    const eight = bmpFile({
      width: 3,
      height: 2,
      bpp: 8,
      colorsUsed: 4,
      extra: palette,
      rows: [Buffer.from([0, 1, 2]), Buffer.from([3, 2, 1])],
    });
    const img = decodeBmp(eight).image;
    // The first row in the file is the bottom one.
    expect([rgb(img, 0, 1), rgb(img, 1, 1), rgb(img, 2, 1)]).toEqual([0x000000, 0xff0000, 0x00ff00]);
    expect([rgb(img, 0, 0), rgb(img, 1, 0), rgb(img, 2, 0)]).toEqual([0x0000ff, 0x00ff00, 0xff0000]);

    const one = bmpFile({
      width: 10,
      height: 1,
      bpp: 1,
      extra: u32s(0x101010, 0xf0f0f0),
      rows: [Buffer.from([0b10100000, 0b01000000])],
    });
    const bits = decodeBmp(one).image;
    expect(Array.from({ length: 10 }, (_, x) => rgb(bits, x, 0) === 0xf0f0f0)).toEqual([
      true,
      false,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      true,
    ]);

    const top = bmpFile({
      width: 2,
      height: -2,
      bpp: 24,
      rows: [Buffer.from([1, 2, 3, 4, 5, 6]), Buffer.from([7, 8, 9, 10, 11, 12])],
    });
    const t = decodeBmp(top).image;
    expect([rgb(t, 0, 0), rgb(t, 1, 1)]).toEqual([0x030201, 0x0c0b0a]);
  });

  it('reads 16-bit 5-6-5 bit fields and 32-bit BI_RGB (its fourth byte unused)', () => {
    const rows = [Buffer.from(Uint16Array.of(0xf800, 0x07e0, 0x001f).buffer)];
    const f = bmpFile({ width: 3, height: 1, bpp: 16, compression: 3, extra: u32s(0xf800, 0x07e0, 0x001f), rows });
    const img = decodeBmp(f).image;
    expect([rgb(img, 0, 0), rgb(img, 1, 0), rgb(img, 2, 0)]).toEqual([0xff0000, 0x00ff00, 0x0000ff]);
    const x = bmpFile({ width: 1, height: 1, bpp: 32, rows: [Buffer.from([0x30, 0x20, 0x10, 0x00])] });
    const d = decodeBmp(x);
    expect(d.alpha).toBe(false);
    expect(pixelAt(d.image, 0, 0) >>> 0).toBe(0xff102030);
  });

  it('refuses what it cannot read with BAD_IMAGE, and a size over the limit before allocating', () => {
    const ok = bmpFile({ width: 4, height: 4, bpp: 24, rows: Array.from({ length: 4 }, () => Buffer.alloc(12)) });
    expect(() => decodeBmp(ok.subarray(0, ok.length - 5))).toThrow(/runs past the end/);
    const rle = bmpFile({ width: 4, height: 4, bpp: 8, compression: 1, extra: u32s(0, 0), rows: [] });
    expect(() => decodeBmp(rle)).toThrow(/compression 1/);
    expect(() => decodeBmp(Buffer.from('PK\x03\x04 not a bitmap at all'))).toThrow(/BM signature/);
    const huge = Buffer.from(ok);
    huge.writeInt32LE(100_000, 18);
    huge.writeInt32LE(100_000, 22);
    expect(() => decodeBmp(huge, { maxPixels: 1 << 20 })).toThrow(expect.objectContaining({ code: 'BAD_IMAGE' }));
  });
});

describe('images between viewers and X', () => {
  it('offers PNG to X for a BMP-only viewer and BMP to viewers for a PNG-only desktop', () => {
    expect(typesForX(['bmp'])).toEqual(['bmp', 'png']);
    expect(typesForX(['png', 'bmp'])).toEqual(['png', 'bmp']);
    expect(viewerTypeFor('png', ['bmp'])).toBe('bmp');
    expect(viewerTypeFor('png', ['png', 'bmp'])).toBe('png');
    expect(viewerTypeFor('jpg', ['bmp'])).toBeUndefined();
    expect([...typesForViewers(new Map([['png', 7]]))]).toEqual([
      ['png', 7],
      ['bmp', 7],
    ]);
  });

  it('converts BMP to PNG and PNG to BMP with the same pixels, keeping alpha', () => {
    const img = pattern(31, 17);
    const png = convertImage(encodeBmp(img), 'bmp', 'png');
    expect(sameRgb(decodePng(Buffer.from(png)), img)).toBe(true);
    const see = pattern(8, 8, true);
    const bmp = convertImage(encodePng(see, { alpha: true }), 'png', 'bmp');
    const back = decodeBmp(bmp);
    expect(back.alpha).toBe(true);
    expect(back.image.data.equals(see.data)).toBe(true);
    const big = encodePng(allocImage(1, 1));
    big.writeUInt32BE(1 << 15, 16);
    big.writeUInt32BE(1 << 15, 20);
    expect(() => convertImage(big, 'png', 'bmp')).toThrow(/above the limit/);
  });
});
