import { deflateSync, inflateSync } from 'node:zlib';
import { allocImage, type PixelImage } from './pixels.js';

/*
 * PNG encoder and decoder for PixelImage (bytes B, G, R, X; rows top-down).
 *
 * File layout (RFC 2083 / ISO 15948):
 *   8-byte signature 89 50 4E 47 0D 0A 1A 0A
 *   chunks: u32be length, 4-byte type, <length> bytes data, u32be CRC-32 over type + data
 *   IHDR (13 bytes): u32be width, u32be height, u8 bit depth, u8 colour type, u8 compression (0),
 *                    u8 filter method (0), u8 interlace (0 none, 1 Adam7)
 *   PLTE: RGB triples; tRNS: transparency (palette alphas, or a grey/RGB key colour as u16be)
 *   IDAT*: one zlib stream over all rows, each row = 1 filter-type byte + packed samples
 *   IEND
 * Colour types: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA.
 *
 * Decoding puts alpha into the X byte (255 where the file has no transparency), so a decoded
 * image can be compared with sameRgb() or used as a cursor. Encoding writes RGB, or RGBA when
 * asked to keep the X byte as alpha.
 */

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE: Uint32Array = makeCrcTable();

function makeCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** CRC-32 (ISO 3309, reflected polynomial 0xEDB88320) as PNG and zlib's gzip use it. */
export function crc32(data: Uint8Array, start = 0, end = data.length, seed = 0): number {
  let c = (seed ^ 0xffffffff) >>> 0;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface PngEncodeOptions {
  /** Write colour type 6 and take alpha from the X byte (default: RGB, X ignored). */
  alpha?: boolean;
  /** zlib level (default 6). */
  level?: number;
}

export function encodePng(img: PixelImage, options: PngEncodeOptions = {}): Buffer {
  const channels = options.alpha ? 4 : 3;
  const raw = filterRows(img, channels);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(img.width, 0);
  ihdr.writeUInt32BE(img.height, 4);
  ihdr[8] = 8;
  ihdr[9] = options.alpha ? 6 : 2;
  const idat = deflateSync(raw, { level: options.level ?? 6 });
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out, 4, 8 + data.length), 8 + data.length);
  return out;
}

/** Rows as RGB(A) samples, each filtered with the type that gives the smallest sum of |bytes|. */
function filterRows(img: PixelImage, channels: number): Buffer {
  const rowBytes = img.width * channels;
  const out = Buffer.alloc((rowBytes + 1) * img.height);
  let prev = Buffer.alloc(rowBytes);
  let cur = Buffer.alloc(rowBytes);
  const candidate = Buffer.alloc(rowBytes);
  for (let y = 0; y < img.height; y++) {
    packRow(img, y, channels, cur);
    let bestType = 0;
    let bestScore = Infinity;
    for (let type = 0; type <= 4; type++) {
      applyFilter(type, cur, prev, channels, candidate);
      const score = filterScore(candidate);
      if (score < bestScore) {
        bestScore = score;
        bestType = type;
      }
    }
    const at = y * (rowBytes + 1);
    out[at] = bestType;
    applyFilter(bestType, cur, prev, channels, out.subarray(at + 1, at + 1 + rowBytes));
    [prev, cur] = [cur, prev];
  }
  return out;
}

function packRow(img: PixelImage, y: number, channels: number, row: Buffer): void {
  const base = y * img.stride;
  for (let x = 0; x < img.width; x++) {
    const p = base + 4 * x;
    const o = x * channels;
    row[o] = img.data[p + 2]!;
    row[o + 1] = img.data[p + 1]!;
    row[o + 2] = img.data[p]!;
    if (channels === 4) row[o + 3] = img.data[p + 3]!;
  }
}

function filterScore(row: Buffer): number {
  let s = 0;
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    s += v < 128 ? v : 256 - v;
  }
  return s;
}

function applyFilter(type: number, cur: Buffer, prev: Buffer, bpp: number, out: Buffer): void {
  for (let i = 0; i < cur.length; i++) {
    const a = i >= bpp ? cur[i - bpp]! : 0;
    const b = prev[i]!;
    const c = i >= bpp ? prev[i - bpp]! : 0;
    out[i] = (cur[i]! - predictor(type, a, b, c)) & 0xff;
  }
}

function predictor(type: number, a: number, b: number, c: number): number {
  switch (type) {
    case 0:
      return 0;
    case 1:
      return a;
    case 2:
      return b;
    case 3:
      return (a + b) >> 1;
    case 4:
      return paeth(a, b, c);
    default:
      throw new Error(`PNG: unknown filter type ${type}`);
  }
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

interface PngHeader {
  width: number;
  height: number;
  depth: number;
  colorType: number;
}

interface PngParts {
  header: PngHeader;
  palette?: Buffer;
  trns?: Buffer;
  idat: Buffer[];
}

const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Readonly<Record<number, readonly number[]>> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

export function decodePng(file: Buffer): PixelImage {
  const parts = readChunks(file);
  const { header } = parts;
  const channels = CHANNELS[header.colorType]!;
  const bitsPerPixel = channels * header.depth;
  const rowBytes = Math.ceil((header.width * bitsPerPixel) / 8);
  const raw = inflateSync(Buffer.concat(parts.idat));
  if (raw.length < (rowBytes + 1) * header.height) {
    throw new Error(`PNG: image data too short (${raw.length} bytes for ${header.height} rows of ${rowBytes + 1})`);
  }
  unfilterRows(raw, rowBytes, header.height, Math.max(1, bitsPerPixel >> 3));
  return toPixels(raw, rowBytes, parts);
}

function readChunks(file: Buffer): PngParts {
  if (file.length < 8 || !file.subarray(0, 8).equals(SIGNATURE)) throw new Error('PNG: bad signature');
  let pos = 8;
  let header: PngHeader | undefined;
  const parts: Omit<PngParts, 'header'> = { idat: [] };
  while (pos + 12 <= file.length) {
    const length = file.readUInt32BE(pos);
    const type = file.toString('latin1', pos + 4, pos + 8);
    const end = pos + 8 + length;
    if (end + 4 > file.length) throw new Error(`PNG: chunk ${type} runs past the end of the file`);
    if (crc32(file, pos + 4, end) !== file.readUInt32BE(end)) throw new Error(`PNG: CRC mismatch in chunk ${type}`);
    const data = file.subarray(pos + 8, end);
    if (type === 'IHDR') header = parseHeader(data);
    else if (type === 'PLTE') parts.palette = data;
    else if (type === 'tRNS') parts.trns = data;
    else if (type === 'IDAT') parts.idat.push(data);
    else if (type === 'IEND') break;
    pos = end + 4;
  }
  if (!header) throw new Error('PNG: no IHDR chunk');
  if (parts.idat.length === 0) throw new Error('PNG: no IDAT chunk');
  if (header.colorType === 3 && !parts.palette) throw new Error('PNG: palette image without PLTE');
  return { header, ...parts };
}

function parseHeader(data: Buffer): PngHeader {
  if (data.length !== 13) throw new Error('PNG: IHDR must be 13 bytes');
  const header = { width: data.readUInt32BE(0), height: data.readUInt32BE(4), depth: data[8]!, colorType: data[9]! };
  if (data[10] !== 0 || data[11] !== 0) throw new Error('PNG: unknown compression or filter method');
  if (data[12] !== 0) throw new Error('PNG: interlaced (Adam7) images are not supported');
  if (!DEPTHS[header.colorType]?.includes(header.depth)) {
    throw new Error(`PNG: unsupported colour type ${header.colorType} with bit depth ${header.depth}`);
  }
  if (header.width === 0 || header.height === 0) throw new Error('PNG: empty image');
  return header;
}

/** Undo the per-row filters in place (bpp = bytes per complete pixel, at least 1). */
function unfilterRows(raw: Buffer, rowBytes: number, height: number, bpp: number): void {
  for (let y = 0; y < height; y++) {
    const at = y * (rowBytes + 1);
    const type = raw[at]!;
    if (type > 4) throw new Error(`PNG: bad filter type ${type} in row ${y}`);
    const start = at + 1;
    const prevStart = start - (rowBytes + 1);
    for (let i = 0; i < rowBytes; i++) {
      const a = i >= bpp ? raw[start + i - bpp]! : 0;
      const b = y > 0 ? raw[prevStart + i]! : 0;
      const c = y > 0 && i >= bpp ? raw[prevStart + i - bpp]! : 0;
      raw[start + i] = (raw[start + i]! + predictor(type, a, b, c)) & 0xff;
    }
  }
}

function toPixels(raw: Buffer, rowBytes: number, parts: PngParts): PixelImage {
  const { header } = parts;
  const out = allocImage(header.width, header.height);
  const sample = sampleReader(raw, rowBytes, header.depth);
  const lookup = pixelLookup(parts);
  const channels = CHANNELS[header.colorType]!;
  for (let y = 0; y < header.height; y++) {
    for (let x = 0; x < header.width; x++) {
      const argb = lookup((ch) => sample(y, x * channels + ch));
      out.data.writeUInt32LE(argb >>> 0, y * out.stride + 4 * x);
    }
  }
  return out;
}

/** Sample `index` of row `y`, as stored (8 bits or less), or the raw 16-bit value. */
function sampleReader(raw: Buffer, rowBytes: number, depth: number): (y: number, index: number) => number {
  return (y, index) => {
    const row = y * (rowBytes + 1) + 1;
    if (depth === 8) return raw[row + index]!;
    if (depth === 16) return raw.readUInt16BE(row + 2 * index);
    const bitPos = index * depth;
    const byte = raw[row + (bitPos >> 3)]!;
    return (byte >> (8 - depth - (bitPos & 7))) & ((1 << depth) - 1);
  };
}

type SampleAt = (channel: number) => number;

/** Maps the samples of one pixel to 0xAARRGGBB. */
function pixelLookup(parts: PngParts): (at: SampleAt) => number {
  const { depth, colorType } = parts.header;
  // 16-bit samples keep their high byte; 1/2/4-bit grey is scaled up to the full 0..255 range.
  const to8 = depth === 16 ? (v: number) => v >> 8 : (v: number) => Math.round((v * 255) / ((1 << depth) - 1));
  const key = transparentKey(parts);
  const pack = (a: number, r: number, g: number, b: number): number => ((a << 24) | (r << 16) | (g << 8) | b) >>> 0;
  switch (colorType) {
    case 0:
      return (at) => {
        const v = at(0);
        const g = to8(v);
        return pack(key !== undefined && key[0] === v ? 0 : 255, g, g, g);
      };
    case 2:
      return (at) => {
        const r = at(0);
        const g = at(1);
        const b = at(2);
        const transparent = key !== undefined && key[0] === r && key[1] === g && key[2] === b;
        return pack(transparent ? 0 : 255, to8(r), to8(g), to8(b));
      };
    case 3:
      return paletteLookup(parts);
    case 4:
      return (at) => {
        const g = to8(at(0));
        return pack(to8(at(1)), g, g, g);
      };
    default:
      return (at) => pack(to8(at(3)), to8(at(0)), to8(at(1)), to8(at(2)));
  }
}

function paletteLookup(parts: PngParts): (at: SampleAt) => number {
  const palette = parts.palette!;
  const entries = Math.floor(palette.length / 3);
  const colors = new Uint32Array(entries);
  for (let i = 0; i < entries; i++) {
    const alpha = parts.trns && i < parts.trns.length ? parts.trns[i]! : 255;
    colors[i] = ((alpha << 24) | (palette[3 * i]! << 16) | (palette[3 * i + 1]! << 8) | palette[3 * i + 2]!) >>> 0;
  }
  return (at) => {
    const index = at(0);
    if (index >= entries) throw new Error(`PNG: palette index ${index} out of range (${entries} entries)`);
    return colors[index]!;
  };
}

/** tRNS for grey/RGB images: the sample values (u16be each) that mean "transparent". */
function transparentKey(parts: PngParts): number[] | undefined {
  const { trns, header } = parts;
  if (!trns) return undefined;
  if (header.colorType === 0 && trns.length >= 2) return [trns.readUInt16BE(0)];
  if (header.colorType === 2 && trns.length >= 6)
    return [trns.readUInt16BE(0), trns.readUInt16BE(2), trns.readUInt16BE(4)];
  return undefined;
}
