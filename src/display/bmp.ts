import { ProtocolError } from '../protocol/errors.js';
import { checkPixelLimit, type ImageDecodeLimits } from './decode-limits.js';
import { allocImage, type PixelImage } from './pixels.js';

/*
 * Windows bitmap files (BMP), as the agent's clipboard carries them (VD_AGENT_CLIPBOARD_IMAGE_BMP
 * is the whole file, its 14-byte file header included). Decoded: the headers Windows and GTK
 * write (BITMAPCOREHEADER, BITMAPINFOHEADER and its V2-V5 extensions), 1/4/8-bit palettes, 16 and
 * 32 bits with or without bit fields, 24 bits, bottom-up or top-down rows. Not decoded: RLE, and
 * embedded JPEG or PNG (a client offering those offers them as JPG or PNG). Encoded: 24 bits for
 * an opaque image, 32 bits with an alpha mask (BITMAPV4HEADER) otherwise, bottom-up as usual.
 */

const FILE_HEADER = 14;
const CORE_HEADER = 12;
const INFO_HEADER = 40;
const V4_HEADER = 108;
const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;
/** The colour space 'sRGB' (a four-character code) in a V4 header. */
const LCS_SRGB = 0x73524742;
const INFO_SIZES = [CORE_HEADER, INFO_HEADER, 52, 56, V4_HEADER, 124];

/** A decoded bitmap: pixels as 0xAARRGGBB words, and whether its alpha means anything. */
export interface DecodedBmp {
  image: PixelImage;
  alpha: boolean;
}

interface BmpHeader {
  width: number;
  height: number;
  topDown: boolean;
  bpp: number;
  /** Red, green, blue, alpha masks for 16 and 32 bits (alpha 0: opaque). */
  masks: [number, number, number, number];
  palette: number[];
  dataOffset: number;
}

function fail(msg: string): never {
  throw new ProtocolError('BAD_IMAGE', `BMP: ${msg}`);
}

/** Decode a BMP file; `limits` caps width x height before any pixel is allocated. */
export function decodeBmp(file: Uint8Array, limits?: ImageDecodeLimits): DecodedBmp {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const h = readHeader(buf);
  checkPixelLimit('BMP', h.width, h.height, limits);
  const stride = Math.ceil((h.width * h.bpp) / 32) * 4;
  if (h.dataOffset + stride * h.height > buf.length) {
    fail(`pixel data runs past the end (${h.width}x${h.height} at ${h.bpp} bits from byte ${h.dataOffset})`);
  }
  const image = allocImage(h.width, h.height);
  const pixel = pixelReader(buf, h);
  for (let y = 0; y < h.height; y++) {
    const row = h.dataOffset + (h.topDown ? y : h.height - 1 - y) * stride;
    for (let x = 0; x < h.width; x++) image.data.writeUInt32LE(pixel(row, x) >>> 0, y * image.stride + 4 * x);
  }
  return { image, alpha: h.masks[3] !== 0 };
}

function readHeader(buf: Buffer): BmpHeader {
  if (buf.length < FILE_HEADER + CORE_HEADER || buf.toString('latin1', 0, 2) !== 'BM') fail('no BM signature');
  const dataOffset = buf.readUInt32LE(10);
  const infoSize = buf.readUInt32LE(FILE_HEADER);
  if (!INFO_SIZES.includes(infoSize)) fail(`unknown header size ${infoSize}`);
  if (buf.length < FILE_HEADER + infoSize) fail('header runs past the end');
  const core = infoSize === CORE_HEADER;
  const at = FILE_HEADER + 4;
  const width = core ? buf.readUInt16LE(at) : buf.readInt32LE(at);
  const rawHeight = core ? buf.readUInt16LE(at + 2) : buf.readInt32LE(at + 4);
  const bpp = buf.readUInt16LE(core ? at + 6 : at + 10);
  const compression = core ? BI_RGB : buf.readUInt32LE(at + 12);
  if (width <= 0 || rawHeight === 0 || rawHeight === -0x80000000) fail(`bad size ${width}x${rawHeight}`);
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) fail(`${bpp} bits per pixel`);
  const bitfields = compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS;
  if (compression !== BI_RGB && !(bitfields && (bpp === 16 || bpp === 32))) {
    fail(`compression ${compression} at ${bpp} bits is not supported (RLE, JPEG and PNG inside BMP are not)`);
  }
  const masks = bitfields ? readMasks(buf, infoSize, compression) : defaultMasks(bpp);
  const palette = bpp <= 8 ? readPalette(buf, infoSize, bpp, dataOffset) : [];
  return { width, height: Math.abs(rawHeight), topDown: rawHeight < 0, bpp, masks, palette, dataOffset };
}

/** Masks inside a V2+ header, or right after a 40-byte one (three, four with ALPHABITFIELDS). */
function readMasks(buf: Buffer, infoSize: number, compression: number): [number, number, number, number] {
  const at = FILE_HEADER + INFO_HEADER;
  const count =
    infoSize > INFO_HEADER ? Math.min(4, (infoSize - INFO_HEADER) / 4) : compression === BI_ALPHABITFIELDS ? 4 : 3;
  if (at + count * 4 > buf.length) fail('bit field masks run past the end');
  const m = [0, 1, 2, 3].map((i) => (i < count ? buf.readUInt32LE(at + 4 * i) : 0));
  if (m[0] === 0 || m[1] === 0 || m[2] === 0) fail('a colour mask is empty');
  return m as [number, number, number, number];
}

/** BI_RGB: 16 bits are 5-5-5, 32 bits are B, G, R and an unused byte (Windows ignores it). */
function defaultMasks(bpp: number): [number, number, number, number] {
  return bpp === 16 ? [0x7c00, 0x03e0, 0x001f, 0] : [0xff0000, 0x00ff00, 0x0000ff, 0];
}

function readPalette(buf: Buffer, infoSize: number, bpp: number, dataOffset: number): number[] {
  const core = infoSize === CORE_HEADER;
  const entry = core ? 3 : 4;
  const used = core ? 0 : buf.readUInt32LE(FILE_HEADER + 32);
  const count = used > 0 && used <= 1 << bpp ? used : 1 << bpp;
  const at = FILE_HEADER + infoSize;
  if (at + count * entry > Math.min(buf.length, dataOffset)) fail('palette runs past the pixel data');
  const palette: number[] = [];
  for (let i = 0; i < count; i++) {
    const p = at + i * entry;
    palette.push((0xff000000 | (buf[p + 2]! << 16) | (buf[p + 1]! << 8) | buf[p]!) >>> 0);
  }
  return palette;
}

/** Reads pixel x of the row starting at byte `row`, as 0xAARRGGBB. */
function pixelReader(buf: Buffer, h: BmpHeader): (row: number, x: number) => number {
  if (h.bpp <= 8) {
    const perByte = 8 / h.bpp;
    const mask = (1 << h.bpp) - 1;
    return (row, x) => {
      const byte = buf[row + Math.floor(x / perByte)]!;
      const index = (byte >> (8 - h.bpp * ((x % perByte) + 1))) & mask;
      return h.palette[index] ?? 0xff000000;
    };
  }
  if (h.bpp === 24) {
    return (row, x) => {
      const p = row + 3 * x;
      return 0xff000000 | (buf[p + 2]! << 16) | (buf[p + 1]! << 8) | buf[p]!;
    };
  }
  const [r, g, b, a] = h.masks.map(channel);
  const read = h.bpp === 16 ? (p: number) => buf.readUInt16LE(p) : (p: number) => buf.readUInt32LE(p);
  const bytes = h.bpp / 8;
  return (row, x) => {
    const v = read(row + bytes * x);
    const alpha = h.masks[3] === 0 ? 0xff : a!(v);
    return ((alpha << 24) | (r!(v) << 16) | (g!(v) << 8) | b!(v)) >>> 0;
  };
}

/** The 8-bit value of the bits `mask` selects in a pixel word (scaled up when fewer than 8). */
function channel(mask: number): (v: number) => number {
  if (mask === 0) return () => 0xff;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const max = mask >>> shift;
  return (v) => Math.round((((v & mask) >>> shift) * 255) / max);
}

/** A BMP file of `image`: 24 bits, or 32 with alpha (BITMAPV4HEADER) when `alpha` is set. */
export function encodeBmp(image: PixelImage, alpha = false): Buffer {
  const bpp = alpha ? 32 : 24;
  const infoSize = alpha ? V4_HEADER : INFO_HEADER;
  const stride = Math.ceil((image.width * bpp) / 32) * 4;
  const dataOffset = FILE_HEADER + infoSize;
  const out = Buffer.alloc(dataOffset + stride * image.height);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(dataOffset, 10);
  out.writeUInt32LE(infoSize, 14);
  out.writeInt32LE(image.width, 18);
  out.writeInt32LE(image.height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(bpp, 28);
  out.writeUInt32LE(alpha ? BI_BITFIELDS : BI_RGB, 30);
  out.writeUInt32LE(stride * image.height, 34);
  out.writeInt32LE(2835, 38); // 72 dpi, in pixels per metre
  out.writeInt32LE(2835, 42);
  if (alpha) {
    [0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000].forEach((m, i) => out.writeUInt32LE(m, 54 + 4 * i));
    out.writeUInt32LE(LCS_SRGB, 70);
  }
  for (let y = 0; y < image.height; y++) {
    const src = y * image.stride;
    const dst = dataOffset + (image.height - 1 - y) * stride;
    for (let x = 0; x < image.width; x++) {
      const s = src + 4 * x;
      const d = dst + (bpp / 8) * x;
      out[d] = image.data[s]!;
      out[d + 1] = image.data[s + 1]!;
      out[d + 2] = image.data[s + 2]!;
      if (alpha) out[d + 3] = image.data[s + 3]!;
    }
  }
  return out;
}

/** Does any pixel have an alpha byte below 0xff? */
export function hasTransparency(image: PixelImage): boolean {
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) if (image.data[y * image.stride + 4 * x + 3]! !== 0xff) return true;
  }
  return false;
}
