/**
 * The per-draw operations a twm desktop leans on, in this build and in another one, side by side in
 * one process and alternated round by round: copy-bits of a window dragged by small steps (a
 * 500x330 window on a 1024x768 surface, 400 moves), and the codec estimate of glyph runs (1 to 40
 * cells of 8x14) and photos. Prints the CPU ms of each (median of 9 rounds after 3 warm ones).
 *
 *   node dist/bench/twm-ops.js [--other /path/to/other/checkout/dist]
 *
 * Without --other it measures this build alone. The other build is a checkout built with
 * `npx tsc -p tsconfig.build.json` (e.g. `git worktree add /tmp/old 48e536c`).
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { PixelImage } from '../src/display/pixels.js';
import { makePhotoImage } from './lz.js';

interface Build {
  name: string;
  surface: typeof import('../src/display/surface.js');
  estimate: typeof import('../src/display/image-choice.js');
}

async function load(name: string, dist: string): Promise<Build> {
  const at = (p: string): string => pathToFileURL(join(dist, p)).href;
  return {
    name,
    surface: (await import(at('src/display/surface.js'))) as Build['surface'],
    estimate: (await import(at('src/display/image-choice.js'))) as Build['estimate'],
  };
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Glyph-like cells on a flat background, as a terminal's text arrives from a QXL guest. */
function glyphRun(w: number, h: number, seed: number): PixelImage {
  const data = Buffer.alloc(w * h * 4);
  const px = new Uint32Array(data.buffer, data.byteOffset, w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const cx = x % 8;
      const cy = y % 14;
      const g = ((x >> 3) * 7 + seed) % 11;
      px[y * w + x] = cy > 2 && cy < 11 && cx > 0 && cx < 6 && (cx * 3 + cy * g) % 4 === 0 ? 0x101010 : 0xf4f4f4;
    }
  return { width: w, height: h, stride: w * 4, data };
}

function drags(b: Build): () => void {
  const s = new b.surface.Surface(0, 1024, 768);
  s.pixels.fill(0x123456);
  return () => {
    for (let i = 0; i < 400; i++) {
      const k = i % 40;
      const step = k < 20 ? k : 40 - k;
      const x = 100 + step * 8;
      const y = 100 + step * 4;
      s.copyBits({ x, y }, { left: x + 8, top: y + 4, right: x + 508, bottom: y + 334 });
    }
  };
}

const glyphs = Array.from({ length: 200 }, (_, i) => glyphRun(8 * (1 + (i % 40)), 14, i));
const photos = [makePhotoImage(320, 240, 1), makePhotoImage(64, 64, 2)];

function estimates(b: Build): () => void {
  return () => {
    for (let r = 0; r < 20; r++) for (const img of [...glyphs, ...photos]) b.estimate.estimateCodecCosts(img);
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const i = args.indexOf('--other');
  const builds = [await load('this build', join(import.meta.dirname, '..'))];
  if (i >= 0) builds.push(await load('other build', args[i + 1]!));
  const cases: [string, (b: Build) => () => void][] = [
    ['copyBits, 400 moves of a 500x330 window', drags],
    ['codec estimate, 4,040 images (glyph runs, photos)', estimates],
  ];
  for (const [what, make] of cases) {
    const runs = builds.map((b) => ({ b, f: make(b), ms: [] as number[] }));
    for (let round = 0; round < 12; round++) {
      for (const r of round % 2 ? [...runs].reverse() : runs) {
        const c0 = cpuMs();
        r.f();
        if (round >= 3) r.ms.push(cpuMs() - c0);
      }
    }
    process.stdout.write(`${what}: ${runs.map((r) => `${r.b.name} ${median(r.ms).toFixed(1)} ms`).join(', ')}\n`);
  }
}

await main();
