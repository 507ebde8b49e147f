import { allocImage, type PixelImage } from './pixels.js';

/*
 * Binary PPM (netpbm "P6"), as spicy-screenshot writes it:
 *   "P6" <ws> width <ws> height <ws> maxval <one whitespace byte> then width*height RGB samples,
 *   one byte each when maxval < 256, else two bytes big-endian. '#' starts a comment up to the end
 *   of the line (allowed anywhere in the header).
 * Decoded pixels are BGRX with X = 255; samples are scaled to 0..255 when maxval != 255.
 */

export function decodePpm(file: Buffer): PixelImage {
  const header = readHeader(file);
  const { width, height, maxval, dataStart } = header;
  const bytesPerSample = maxval < 256 ? 1 : 2;
  const needed = width * height * 3 * bytesPerSample;
  if (file.length - dataStart < needed) {
    throw new Error(`PPM: pixel data too short (${file.length - dataStart} of ${needed} bytes)`);
  }
  const out = allocImage(width, height);
  const read =
    bytesPerSample === 1 ? (i: number) => file[dataStart + i]! : (i: number) => file.readUInt16BE(dataStart + 2 * i);
  const scale = maxval === 255 ? (v: number) => v : (v: number) => Math.round((v * 255) / maxval);
  for (let p = 0; p < width * height; p++) {
    out.data[4 * p] = scale(read(3 * p + 2));
    out.data[4 * p + 1] = scale(read(3 * p + 1));
    out.data[4 * p + 2] = scale(read(3 * p));
    out.data[4 * p + 3] = 255;
  }
  return out;
}

export function encodePpm(img: PixelImage): Buffer {
  const head = Buffer.from(`P6\n${img.width} ${img.height}\n255\n`, 'latin1');
  const body = Buffer.alloc(img.width * img.height * 3);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const s = y * img.stride + 4 * x;
      const d = 3 * (y * img.width + x);
      body[d] = img.data[s + 2]!;
      body[d + 1] = img.data[s + 1]!;
      body[d + 2] = img.data[s]!;
    }
  }
  return Buffer.concat([head, body]);
}

interface PpmHeader {
  width: number;
  height: number;
  maxval: number;
  dataStart: number;
}

function readHeader(file: Buffer): PpmHeader {
  if (file.length < 2 || file[0] !== 0x50 || file[1] !== 0x36) throw new Error('PPM: not a binary PPM (P6) file');
  let pos = 2;
  const numbers: number[] = [];
  while (numbers.length < 3) {
    pos = skipSpaceAndComments(file, pos);
    const start = pos;
    while (pos < file.length && file[pos]! >= 0x30 && file[pos]! <= 0x39) pos++;
    if (pos === start) throw new Error(`PPM: expected a number in the header at byte ${start}`);
    numbers.push(Number(file.toString('latin1', start, pos)));
  }
  // Exactly one whitespace byte separates maxval from the samples.
  if (pos >= file.length || !isSpace(file[pos]!)) throw new Error('PPM: header not followed by whitespace');
  const [width, height, maxval] = numbers as [number, number, number];
  if (width <= 0 || height <= 0) throw new Error(`PPM: bad size ${width}x${height}`);
  if (maxval <= 0 || maxval > 65535) throw new Error(`PPM: bad maxval ${maxval}`);
  return { width, height, maxval, dataStart: pos + 1 };
}

function skipSpaceAndComments(file: Buffer, pos: number): number {
  while (pos < file.length) {
    const c = file[pos]!;
    if (c === 0x23) {
      while (pos < file.length && file[pos] !== 0x0a && file[pos] !== 0x0d) pos++;
    } else if (isSpace(c)) {
      pos++;
    } else {
      break;
    }
  }
  return pos;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
}
