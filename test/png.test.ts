import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocImage, sameRgb, type PixelImage } from '../src/display/pixels.js';
import { crc32, decodePng, encodePng } from '../src/display/png.js';
import { decodePpm, encodePpm } from '../src/display/ppm.js';
import { lacking, skipNote } from './helpers/probes.js';

const execFileAsync = promisify(execFile);

/** A deterministic test image; the X byte carries a varying alpha. */
function testImage(width: number, height: number): PixelImage {
  const img = allocImage(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = ((x * 37 + y * 11) ^ (x * y)) & 0xff;
      img.data.writeUInt32LE(
        ((((x * 7) & 0xff) << 24) | (v << 16) | (((y * 29) & 0xff) << 8) | ((v * 3 + x) & 0xff)) >>> 0,
        4 * (y * width + x),
      );
    }
  }
  return img;
}

function samePixels(a: PixelImage, b: PixelImage): boolean {
  return a.width === b.width && a.height === b.height && a.data.equals(b.data);
}

/** A PNG assembled by hand: 8-bit RGB rows each filtered with the given filter type. */
function handMadePng(img: PixelImage, filterFor: (row: number) => number): Buffer {
  const rowBytes = img.width * 3;
  const rows: Buffer[] = [];
  let prev = Buffer.alloc(rowBytes);
  for (let y = 0; y < img.height; y++) {
    const cur = Buffer.alloc(rowBytes);
    for (let x = 0; x < img.width; x++) {
      const p = y * img.stride + 4 * x;
      cur[3 * x] = img.data[p + 2]!;
      cur[3 * x + 1] = img.data[p + 1]!;
      cur[3 * x + 2] = img.data[p]!;
    }
    const type = filterFor(y);
    const out = Buffer.alloc(rowBytes + 1);
    out[0] = type;
    for (let i = 0; i < rowBytes; i++) {
      const a = i >= 3 ? cur[i - 3]! : 0;
      const b = prev[i]!;
      const c = i >= 3 ? prev[i - 3]! : 0;
      const paeth = (): number => {
        const pp = a + b - c;
        const [pa, pb, pc] = [Math.abs(pp - a), Math.abs(pp - b), Math.abs(pp - c)];
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      };
      const pred = [0, a, b, (a + b) >> 1, paeth()][type]!;
      out[1 + i] = (cur[i]! - pred) & 0xff;
    }
    rows.push(out);
    prev = cur;
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const b = Buffer.alloc(12 + data.length);
    b.writeUInt32BE(data.length, 0);
    b.write(type, 4, 'latin1');
    data.copy(b, 8);
    b.writeUInt32BE(crc32(b, 4, 8 + data.length), 8 + data.length);
    return b;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(img.width, 0);
  ihdr.writeUInt32BE(img.height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    sig,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('png codec', () => {
  it('computes CRC-32 as zlib does', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });

  it('round-trips RGB (alpha read back as 255)', () => {
    const img = testImage(67, 41);
    const back = decodePng(encodePng(img));
    expect(sameRgb(back, img)).toBe(true);
    expect(back.data[3]).toBe(255);
  });

  it('round-trips RGBA with the X byte as alpha', () => {
    const img = testImage(33, 20);
    expect(samePixels(decodePng(encodePng(img, { alpha: true })), img)).toBe(true);
  });

  it('decodes every filter type (0-4), alone and mixed', () => {
    const img = testImage(23, 15);
    for (let type = 0; type <= 4; type++)
      expect(sameRgb(decodePng(handMadePng(img, () => type)), img), `filter ${type}`).toBe(true);
    expect(sameRgb(decodePng(handMadePng(img, (row) => (row * 3) % 5)), img)).toBe(true);
  });

  it('rejects bad input with clear errors', () => {
    const png = encodePng(testImage(4, 4));
    expect(() => decodePng(Buffer.from('not a png'))).toThrow(/signature/);
    const corrupt = Buffer.from(png);
    corrupt[20] ^= 0xff; // inside IHDR
    expect(() => decodePng(corrupt)).toThrow(/CRC mismatch in chunk IHDR/);
  });
});

describe('ppm codec', () => {
  it('round-trips P6 and skips header comments', () => {
    const img = testImage(19, 7);
    expect(sameRgb(decodePpm(encodePpm(img)), img)).toBe(true);
    const commented = Buffer.concat([
      Buffer.from('P6\n# spicy-screenshot\n2 1\n# max\n255\n'),
      Buffer.from([1, 2, 3, 4, 5, 6]),
    ]);
    const px = decodePpm(commented);
    expect([px.data[0], px.data[1], px.data[2], px.data[4], px.data[5], px.data[6]]).toEqual([3, 2, 1, 6, 5, 4]);
    expect(() => decodePpm(Buffer.from('P3\n1 1\n255\n0 0 0\n'))).toThrow(/P6/);
  });
});

/** Raw 16-bit big-endian RGBA (ImageMagick "rgba:" output) reduced to high bytes. */
function fromRgba16(raw: Buffer, width: number, height: number): PixelImage {
  const img = allocImage(width, height);
  for (let p = 0; p < width * height; p++) {
    const [r, g, b, a] = [0, 2, 4, 6].map((o) => raw[8 * p + o]!) as [number, number, number, number];
    img.data.writeUInt32LE(((a << 24) | (r << 16) | (g << 8) | b) >>> 0, 4 * p);
  }
  return img;
}

/** ImageMagick's `convert` makes the reference files. */
const NO_MAGICK = lacking('convert');
const MAGICK = NO_MAGICK === '';

describe.skipIf(!MAGICK)(`png codec against ImageMagick${skipNote(NO_MAGICK)}`, () => {
  const dir = MAGICK ? mkdtempSync(join(tmpdir(), 'spiced-png-')) : '';
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const convert = (...args: string[]): Buffer => execFileSync('convert', args, { maxBuffer: 1 << 26 });

  const convertAsync = async (...args: string[]): Promise<Buffer> =>
    (await execFileAsync('convert', args, { encoding: 'buffer', maxBuffer: 1 << 26 })).stdout;

  /**
   * What ImageMagick reads from a width x height file, as 16-bit big-endian RGBA of which the high
   * bytes are compared (that is also how the decoder reduces 16-bit samples).
   */
  function reference(file: string, width: number, height: number): PixelImage {
    return fromRgba16(convert(file, '-depth', '16', '-endian', 'MSB', 'rgba:-'), width, height);
  }

  // ImageMagick's built-in "rose:" image.
  const ROSE_WIDTH = 70;
  const ROSE_HEIGHT = 46;
  // name, bit depth and colour type the file must have, convert arguments (last: output prefix)
  const cases: [string, number, number, string[]][] = [
    ['rgb8', 8, 2, ['PNG24:']],
    ['palette8', 8, 3, ['-colors', '50', 'PNG8:']],
    ['palette4', 4, 3, ['-colors', '12', '-define', 'png:bit-depth=4', 'PNG8:']],
    ['palette2', 2, 3, ['-colors', '4', '-define', 'png:bit-depth=2', 'PNG8:']],
    ['palette1', 1, 3, ['-colors', '2', '-define', 'png:bit-depth=1', 'PNG8:']],
    ['palette+tRNS', 8, 3, ['-fuzz', '10%', '-transparent', 'white', '-colors', '30', 'PNG8:']],
    ['grey8', 8, 0, ['-colorspace', 'gray', '-define', 'png:color-type=0', '-depth', '8', '']],
    [
      'grey4',
      4,
      0,
      ['-colorspace', 'gray', '-depth', '4', '-define', 'png:color-type=0', '-define', 'png:bit-depth=4', ''],
    ],
    [
      'grey2',
      2,
      0,
      ['-colorspace', 'gray', '-depth', '2', '-define', 'png:color-type=0', '-define', 'png:bit-depth=2', ''],
    ],
    [
      'grey1',
      1,
      0,
      ['-colorspace', 'gray', '-depth', '1', '-define', 'png:color-type=0', '-define', 'png:bit-depth=1', ''],
    ],
    ['grey16', 16, 0, ['-colorspace', 'gray', '-depth', '16', '-define', 'png:color-type=0', '']],
    [
      'grey+alpha',
      8,
      4,
      [
        '-colorspace',
        'gray',
        '-alpha',
        'set',
        '-channel',
        'A',
        '-fx',
        'i/w',
        '+channel',
        '-define',
        'png:color-type=4',
        '',
      ],
    ],
    ['rgba8', 8, 6, ['-alpha', 'set', '-channel', 'A', '-fx', 'j/h', '+channel', 'PNG32:']],
    ['rgb16', 16, 2, ['-depth', '16', 'PNG48:']],
    ['rgba16', 16, 6, ['-alpha', 'set', '-channel', 'A', '-fx', 'j/h', '+channel', '-depth', '16', 'PNG64:']],
  ];

  // Writing the files and reading them back through ImageMagick is slow per process; do it all
  // up front, in parallel.
  const made = new Map<string, { file: Buffer; reference: PixelImage }>();
  beforeAll(async () => {
    await Promise.all(
      cases.map(async ([name, , , args]) => {
        const file = join(dir, `${name}.png`);
        await convertAsync('rose:', ...args.slice(0, -1), `${args[args.length - 1]!}${file}`);
        const raw = await convertAsync(file, '-depth', '16', '-endian', 'MSB', 'rgba:-');
        made.set(name, { file: readFileSync(file), reference: fromRgba16(raw, ROSE_WIDTH, ROSE_HEIGHT) });
      }),
    );
  });

  for (const [name, depth, colorType] of cases) {
    it(`decodes ${name} (bit depth ${depth}, colour type ${colorType}) like ImageMagick`, () => {
      const { file, reference } = made.get(name)!;
      expect([file[24], file[25]], 'IHDR bit depth and colour type of the file ImageMagick wrote').toEqual([
        depth,
        colorType,
      ]);
      expect(samePixels(decodePng(file), reference)).toBe(true);
    });
  }

  it('rejects interlaced files with a clear error', () => {
    const file = join(dir, 'interlaced.png');
    convert('rose:', '-interlace', 'PNG', file);
    expect(() => decodePng(readFileSync(file))).toThrow(/interlaced/);
  });

  it('writes files ImageMagick reads back identically (RGB and RGBA)', () => {
    const img = testImage(45, 31);
    for (const alpha of [false, true]) {
      const file = join(dir, `ours-${alpha}.png`);
      writeFileSync(file, encodePng(img, { alpha }));
      const ref = reference(file, img.width, img.height);
      expect(sameRgb(ref, img)).toBe(true);
      if (alpha) expect(samePixels(ref, img)).toBe(true);
    }
  });

  it('reads the binary PPM ImageMagick writes', () => {
    const ppm = convert('rose:', 'ppm:-');
    const png = convert('rose:', 'png:-');
    expect(sameRgb(decodePpm(ppm), decodePng(png))).toBe(true);
  });
});

describe('sameRgb', () => {
  /** The same 5x3 picture in a buffer starting `offset` bytes in, with X bytes set to `x`. */
  function picture(offset: number, x: number, stride = 5 * 4): PixelImage {
    const data = Buffer.alloc(offset + stride * 3).subarray(offset);
    for (let y = 0; y < 3; y++)
      for (let i = 0; i < 5; i++) data.writeUInt32LE(((x << 24) | (y * 40 + i * 7)) >>> 0, y * stride + i * 4);
    return { width: 5, height: 3, stride, data };
  }

  it('ignores the X byte, aligned (word path) or not (byte path), and finds one changed channel anywhere', () => {
    for (const [oa, ob] of [
      [0, 0],
      [1, 0],
      [0, 3],
    ] as const) {
      const a = picture(oa, 0);
      const b = picture(ob, 0xff);
      expect(sameRgb(a, b)).toBe(true);
      for (const byte of [0, 1, 2]) {
        const c = picture(ob, 0xff);
        c.data[2 * c.stride + 4 * 4 + byte]! ^= 1; // last pixel: the scan has to reach the end
        expect(sameRgb(a, c)).toBe(false);
      }
    }
    expect(sameRgb(picture(0, 0), picture(0, 0, 6 * 4))).toBe(true);
  });
});
