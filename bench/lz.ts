/**
 * SPICE LZ codec benchmark: encode and decode throughput and compression ratio on three deterministic
 * 1024x768 images (a synthetic desktop, a photo-like picture, random noise).
 *
 *   npm run build && node dist/bench/lz.js
 *
 * MB/s counts megabytes (10^6 bytes) of 32-bit input pixels (width * height * 4) per second, for both
 * directions, so the two figures are comparable. Each figure is the median of several runs after a warm-up.
 */
import { makeRandom, measureCodec, type CodecFigures } from './common.js';
import { pathToFileURL } from 'node:url';
import { encodeLz } from '../src/display/lz.js';
import { decodeLz } from '../src/display/lz-decode.js';
import { allocImage, type PixelImage } from '../src/display/pixels.js';

export interface BenchResult extends CodecFigures {
  suite: 'lz';
}

const WIDTH = 1024;
const HEIGHT = 768;
const WARMUP_RUNS = 3;
const MEASURED_RUNS = 11;

function setPixel(img: PixelImage, x: number, y: number, rgb: number): void {
  img.data.writeUInt32LE(rgb >>> 0, y * img.stride + x * 4);
}

function fillRect(img: PixelImage, x0: number, y0: number, w: number, h: number, rgb: number): void {
  const x1 = Math.min(img.width, x0 + w);
  const y1 = Math.min(img.height, y0 + h);
  for (let y = Math.max(0, y0); y < y1; y++) {
    for (let x = Math.max(0, x0); x < x1; x++) setPixel(img, x, y, rgb);
  }
}

const GLYPH_W = 7;
const GLYPH_H = 12;

/** A fake font: 64 random 7x12 bitmaps with a baseline band, enough to look like text to an encoder. */
function makeGlyphs(random: () => number): Uint8Array[] {
  const glyphs: Uint8Array[] = [];
  for (let g = 0; g < 64; g++) {
    const bits = new Uint8Array(GLYPH_W * GLYPH_H);
    for (let y = 2; y < GLYPH_H - 2; y++) {
      for (let x = 1; x < GLYPH_W - 1; x++) bits[y * GLYPH_W + x] = random() < 0.35 ? 1 : 0;
    }
    glyphs.push(bits);
  }
  return glyphs;
}

function drawText(
  img: PixelImage,
  glyphs: Uint8Array[],
  random: () => number,
  x0: number,
  y: number,
  chars: number,
  ink: number,
): void {
  let x = x0;
  for (let c = 0; c < chars; c++) {
    if (random() < 0.15) {
      x += GLYPH_W; // a space
      continue;
    }
    const glyph = glyphs[Math.floor(random() * glyphs.length)];
    for (let gy = 0; gy < GLYPH_H; gy++) {
      for (let gx = 0; gx < GLYPH_W; gx++) {
        if (glyph[gy * GLYPH_W + gx] && x + gx < img.width && y + gy < img.height) setPixel(img, x + gx, y + gy, ink);
      }
    }
    x += GLYPH_W;
  }
}

function drawWindow(
  img: PixelImage,
  glyphs: Uint8Array[],
  random: () => number,
  x: number,
  y: number,
  w: number,
  h: number,
): void {
  fillRect(img, x - 1, y - 1, w + 2, h + 2, 0x505050); // border
  fillRect(img, x, y, w, 24, 0x2b5797); // title bar
  drawText(img, glyphs, random, x + 8, y + 6, Math.floor(w / GLYPH_W / 3), 0xffffff);
  fillRect(img, x + w - 20, y + 4, 16, 16, 0xc0392b); // close button
  fillRect(img, x, y + 24, w, h - 24, 0xf4f4f4); // client area
  for (let line = y + 34; line + GLYPH_H < y + h - 8; line += 18) {
    const chars = Math.floor(((w - 24) / GLYPH_W) * (0.4 + 0.6 * random()));
    drawText(img, glyphs, random, x + 12, line, chars, 0x202020);
  }
}

/** A desktop-like frame: flat background, icons, overlapping windows full of text, a taskbar. */
export function makeDesktopImage(width = WIDTH, height = HEIGHT, seed = 1): PixelImage {
  const img = allocImage(width, height);
  const random = makeRandom(seed);
  const glyphs = makeGlyphs(random);
  fillRect(img, 0, 0, width, height, 0x3a6ea5);
  for (let i = 0; i < 6; i++) {
    fillRect(img, 16, 16 + i * 72, 48, 48, 0x7f8c8d + i * 0x101010);
    drawText(img, glyphs, random, 12, 68 + i * 72, 8, 0xffffff);
  }
  drawWindow(
    img,
    glyphs,
    random,
    Math.floor(width * 0.12),
    Math.floor(height * 0.08),
    Math.floor(width * 0.55),
    Math.floor(height * 0.6),
  );
  drawWindow(
    img,
    glyphs,
    random,
    Math.floor(width * 0.4),
    Math.floor(height * 0.3),
    Math.floor(width * 0.5),
    Math.floor(height * 0.55),
  );
  fillRect(img, 0, height - 32, width, 32, 0xd0d0d0);
  for (let b = 0; b < 5; b++) {
    fillRect(img, 4 + b * 150, height - 28, 140, 24, b === 0 ? 0xa0a0a0 : 0xe0e0e0);
    drawText(img, glyphs, random, 10 + b * 150, height - 24, 16, 0x000000);
  }
  return img;
}

/** A photo-like picture: smooth gradient plus plasma waves plus mild noise (no exact repeats). */
export function makePhotoImage(width = WIDTH, height = HEIGHT, seed = 2): PixelImage {
  const img = allocImage(width, height);
  const random = makeRandom(seed);
  const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const plasma =
        Math.sin(x / 37) +
        Math.sin(y / 23) +
        Math.sin((x + y) / 51) +
        Math.sin(Math.hypot(x - width / 3, y - height / 2) / 29);
      const noise = (): number => (random() - 0.5) * 6;
      const r = clamp((x / width) * 160 + plasma * 20 + 40 + noise());
      const g = clamp((y / height) * 140 + plasma * 25 + 50 + noise());
      const b = clamp(((x + y) / (width + height)) * 120 + plasma * 30 + 60 + noise());
      setPixel(img, x, y, (r << 16) | (g << 8) | b);
    }
  }
  return img;
}

/** Uniform random bytes, X byte included (the encoder must ignore it). */
export function makeNoiseImage(width = WIDTH, height = HEIGHT, seed = 3): PixelImage {
  const img = allocImage(width, height);
  const random = makeRandom(seed);
  for (let i = 0; i < img.data.length; i += 4) img.data.writeUInt32LE(Math.floor(random() * 4294967296), i);
  return img;
}

function benchImage(name: string, img: PixelImage): BenchResult {
  const { encoded: _, ...figures } = measureCodec(
    'lz',
    name,
    img,
    (i) => encodeLz(i),
    (b) => decodeLz(b).image,
    WARMUP_RUNS,
    MEASURED_RUNS,
  );
  return { suite: 'lz', ...figures };
}

export async function runLzBench(): Promise<BenchResult[]> {
  const images: Array<[string, () => PixelImage]> = [
    ['desktop', () => makeDesktopImage()],
    ['photo', () => makePhotoImage()],
    ['noise', () => makeNoiseImage()],
  ];
  const results: BenchResult[] = [];
  for (const [name, make] of images) {
    results.push(benchImage(name, make()));
    // Yield between images so a caller's timers and I/O are not starved for the whole run.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return results;
}

export function formatLzResults(results: BenchResult[]): string {
  const lines = [
    `SPICE LZ (RGB32), ${WIDTH}x${HEIGHT}, MB = 10^6 bytes of 32-bit input, median of ${MEASURED_RUNS} runs after ${WARMUP_RUNS} warm-ups`,
    `${'image'.padEnd(10)}${'encode MB/s'.padStart(13)}${'ratio'.padStart(9)}${'out bytes'.padStart(12)}${'decode MB/s'.padStart(13)}`,
  ];
  for (const r of results) {
    lines.push(
      `${r.name.padEnd(10)}${r.encodeMBps.toFixed(1).padStart(13)}${r.ratio.toFixed(2).padStart(9)}${String(r.outputBytes).padStart(12)}${r.decodeMBps.toFixed(1).padStart(13)}`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const results = await runLzBench();
  console.log(formatLzResults(results));
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
