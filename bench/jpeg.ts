/**
 * JPEG encoder comparison for video streams and lossy images (issue 14): a native encoder that installs
 * from npm alone (sharp: libvips over libjpeg-turbo), a WebAssembly one (@jsquash/jpeg: MozJPEG) and a
 * pure-JS one (jpeg-js), on the frames a stream carries: a 640x360 photo-like picture, a real photograph
 * when the machine has one (XFCE's wallpaper), and a desktop of text and windows.
 *
 *   npm run build && node dist/bench/jpeg.js
 *
 * For each image, the target size is what sharp makes at quality 75; every encoder's quality is then
 * searched for the size nearest that target, so quality (PSNR over R, G and B, decoded by one decoder
 * for all) is compared at equal bytes. MB/s counts megabytes (10^6 bytes) of 32-bit input pixels per
 * second, the BGRX to RGBA swap every encoder needs included, median of several sequential encodes
 * (a stream encodes one frame after another).
 */
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import jpegJs from 'jpeg-js';
import jsquashEncode, { init as initJsquash } from '@jsquash/jpeg/encode.js';
import { makeDesktopImage, makePhotoImage } from './lz.js';
import { median } from './common.js';
import { allocImage, type PixelImage } from '../src/display/pixels.js';

const W = 640;
const H = 360;
const RUNS = 7;
const PHOTO_FILE = '/usr/share/backgrounds/xfce/xfce-teal.jpg';

type Encode = (rgba: Buffer, width: number, height: number, quality: number) => Promise<Buffer>;

interface Encoder {
  name: string;
  kind: string;
  encode: Encode;
}

async function jsquashModule(): Promise<void> {
  // Emscripten in Node would fetch() the .wasm by URL; hand it the bytes instead.
  const wasmBinary = readFileSync(new URL(import.meta.resolve('@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm')));
  await initJsquash({ wasmBinary });
}

const encoders: Encoder[] = [
  {
    name: 'sharp',
    kind: 'native (libvips, libjpeg-turbo)',
    encode: (rgba, width, height, quality) =>
      sharp(rgba, { raw: { width, height, channels: 4 } })
        .jpeg({ quality, chromaSubsampling: '4:2:0' })
        .toBuffer(),
  },
  {
    name: '@jsquash/jpeg',
    kind: 'WebAssembly (MozJPEG)',
    // Baseline, not MozJPEG's default progressive: stream frames must be baseline JPEG.
    encode: async (rgba, width, height, quality) => {
      const data = new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.length);
      const out = await jsquashEncode({ data, width, height, colorSpace: 'srgb' }, { quality, progressive: false });
      return Buffer.from(out);
    },
  },
  {
    name: 'jpeg-js',
    kind: 'pure JavaScript',
    encode: (rgba, width, height, quality) =>
      Promise.resolve(jpegJs.encode({ data: rgba, width, height }, quality).data),
  },
];

/** BGRX (the server's pixels) to RGBA with opaque alpha, what every encoder takes. */
export function bgrxToRgba(img: PixelImage): Buffer {
  const out = Buffer.allocUnsafe(img.width * img.height * 4);
  for (let y = 0; y < img.height; y++) {
    let s = y * img.stride;
    let d = y * img.width * 4;
    for (let x = 0; x < img.width; x++, s += 4, d += 4) {
      out[d] = img.data[s + 2]!;
      out[d + 1] = img.data[s + 1]!;
      out[d + 2] = img.data[s]!;
      out[d + 3] = 255;
    }
  }
  return out;
}

async function rgbaToBgrx(rgba: Buffer, width: number, height: number): Promise<PixelImage> {
  const img = allocImage(width, height);
  for (let i = 0; i < width * height; i++) {
    img.data[4 * i] = rgba[4 * i + 2]!;
    img.data[4 * i + 1] = rgba[4 * i + 1]!;
    img.data[4 * i + 2] = rgba[4 * i]!;
  }
  return img;
}

async function loadPhotograph(): Promise<PixelImage | undefined> {
  if (!existsSync(PHOTO_FILE)) return undefined;
  const rgba = await sharp(PHOTO_FILE).resize(W, H, { fit: 'cover' }).ensureAlpha().raw().toBuffer();
  return rgbaToBgrx(rgba, W, H);
}

/** PSNR over R, G and B of a JPEG against the original, decoded by libjpeg-turbo for every encoder. */
async function psnr(jpeg: Buffer, img: PixelImage): Promise<number> {
  const decoded = await sharp(jpeg).removeAlpha().raw().toBuffer();
  let sum = 0;
  for (let i = 0, p = 0; p < img.width * img.height; p++, i += 3) {
    const s = 4 * p;
    const dr = decoded[i]! - img.data[s + 2]!;
    const dg = decoded[i + 1]! - img.data[s + 1]!;
    const db = decoded[i + 2]! - img.data[s]!;
    sum += dr * dr + dg * dg + db * db;
  }
  const mse = sum / (img.width * img.height * 3);
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/** The integer quality whose output is nearest `target` bytes (sizes grow with quality). */
async function qualityForBytes(e: Encoder, rgba: Buffer, img: PixelImage, target: number): Promise<number> {
  let lo = 5;
  let hi = 98;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((await e.encode(rgba, img.width, img.height, mid)).length <= target) lo = mid;
    else hi = mid;
  }
  const [a, b] = [await e.encode(rgba, img.width, img.height, lo), await e.encode(rgba, img.width, img.height, hi)];
  return Math.abs(a.length - target) <= Math.abs(b.length - target) ? lo : hi;
}

export interface JpegFigures {
  image: string;
  encoder: string;
  quality: number;
  bytes: number;
  psnrDb: number;
  encodeMs: number;
  mbPerS: number;
}

async function measure(e: Encoder, name: string, img: PixelImage, target: number): Promise<JpegFigures> {
  const q = await qualityForBytes(e, bgrxToRgba(img), img, target);
  const times: number[] = [];
  let out: Buffer = Buffer.alloc(0);
  for (let i = 0; i < RUNS + 2; i++) {
    const t0 = performance.now();
    out = await e.encode(bgrxToRgba(img), img.width, img.height, q);
    if (i >= 2) times.push(performance.now() - t0);
  }
  const ms = median(times);
  const mb = (img.width * img.height * 4) / 1e6;
  const psnrDb = await psnr(out, img);
  return {
    image: name,
    encoder: e.name,
    quality: q,
    bytes: out.length,
    psnrDb,
    encodeMs: ms,
    mbPerS: mb / (ms / 1000),
  };
}

export async function runJpegBench(): Promise<JpegFigures[]> {
  await jsquashModule();
  const images: Array<[string, PixelImage]> = [
    ['photo-like', makePhotoImage(W, H)],
    ['desktop', makeDesktopImage(W, H)],
  ];
  const photograph = await loadPhotograph();
  if (photograph) images.splice(1, 0, ['photograph', photograph]);
  const out: JpegFigures[] = [];
  for (const [name, img] of images) {
    const target = (await encoders[0]!.encode(bgrxToRgba(img), W, H, 75)).length;
    for (const e of encoders) out.push(await measure(e, name, img, target));
  }
  return out;
}

export function formatJpegResults(rows: JpegFigures[]): string {
  const head = 'image        encoder         quality   bytes   PSNR dB   ms/frame    MB/s';
  const lines = rows.map((r) =>
    [
      r.image.padEnd(12),
      r.encoder.padEnd(15),
      String(r.quality).padStart(7),
      String(r.bytes).padStart(7),
      r.psnrDb.toFixed(2).padStart(9),
      r.encodeMs.toFixed(2).padStart(10),
      r.mbPerS.toFixed(1).padStart(7),
    ].join(' '),
  );
  const kinds = encoders.map((e) => `${e.name}: ${e.kind}`).join('; ');
  return [`JPEG encoders, ${W}x${H}, equal bytes per image (sharp at q75); ${kinds}`, head, ...lines].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(formatJpegResults(await runJpegBench()));
}
