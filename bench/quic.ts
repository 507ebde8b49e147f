/**
 * SPICE QUIC codec benchmark, next to SPICE LZ: encode and decode throughput and compression ratio on
 * the LZ bench's three deterministic 1024x768 images (synthetic desktop, photo-like picture, noise),
 * plus what the photo/UI classifier picks for each and how long it takes.
 *
 *   npm run build && node dist/bench/quic.js
 *
 * MB/s counts megabytes (10^6 bytes) of 32-bit input pixels (width * height * 4) per second, for both
 * directions, as bench/lz.ts does. Each figure is the median of several runs after a warm-up.
 */
import { measureCodec, medianTime, type CodecFigures } from './common.js';
import { pathToFileURL } from 'node:url';
import { choosePhotoCodec, type PhotoCodec } from '../src/display/image-choice.js';
import type { PixelImage } from '../src/display/pixels.js';
import { decodeQuic } from '../src/display/quic-decode.js';
import { encodeQuic } from '../src/display/quic.js';
import { makeDesktopImage, makeNoiseImage, makePhotoImage, runLzBench, type BenchResult } from './lz.js';

export interface QuicBenchResult extends CodecFigures {
  suite: 'quic';
  /** The same image through SPICE LZ (bench/lz.ts). */
  lz: { outputBytes: number; ratio: number; encodeMBps: number; decodeMBps: number };
  /** What choosePhotoCodec picks, the codec that is actually smaller, and the classifier's median time. */
  choice: PhotoCodec;
  smaller: PhotoCodec;
  classifyMsMedian: number;
}

const WARMUP_RUNS = 3;
const MEASURED_RUNS = 11;

function benchImage(name: string, img: PixelImage, lz: BenchResult): QuicBenchResult {
  const { encoded, ...figures } = measureCodec(
    'quic',
    name,
    img,
    (i) => encodeQuic(i),
    (b) => decodeQuic(b).image,
    WARMUP_RUNS,
    MEASURED_RUNS,
  );
  return {
    suite: 'quic',
    ...figures,
    lz: { outputBytes: lz.outputBytes, ratio: lz.ratio, encodeMBps: lz.encodeMBps, decodeMBps: lz.decodeMBps },
    choice: choosePhotoCodec(img),
    smaller: encoded.length < lz.outputBytes ? 'quic' : 'lz',
    classifyMsMedian: medianTime(() => void choosePhotoCodec(img), WARMUP_RUNS, MEASURED_RUNS),
  };
}

export async function runQuicBench(): Promise<QuicBenchResult[]> {
  const lzResults = await runLzBench();
  const images: Array<[string, () => PixelImage]> = [
    ['desktop', () => makeDesktopImage()],
    ['photo', () => makePhotoImage()],
    ['noise', () => makeNoiseImage()],
  ];
  const results: QuicBenchResult[] = [];
  for (const [name, make] of images) {
    const lz = lzResults.find((r) => r.name === name);
    if (!lz) throw new Error(`quic bench: the LZ bench has no ${name} image`);
    results.push(benchImage(name, make(), lz));
    // Yield between images so a caller's timers and I/O are not starved for the whole run.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return results;
}

export function formatQuicResults(results: QuicBenchResult[]): string {
  const first = results[0];
  const size = first ? `${first.width}x${first.height}` : '';
  const cell = (v: number | string, w: number): string => String(v).padStart(w);
  const lines = [
    `SPICE QUIC (RGB32) vs LZ, ${size}, MB = 10^6 bytes of 32-bit input, median of ${MEASURED_RUNS} runs after ${WARMUP_RUNS} warm-ups`,
    `${'image'.padEnd(9)}${cell('codec', 6)}${cell('encode MB/s', 13)}${cell('decode MB/s', 13)}${cell('ratio', 8)}${cell('out bytes', 11)}   classifier`,
  ];
  for (const r of results) {
    const choice = `${r.choice} (${r.choice === r.smaller ? 'smaller' : `${r.smaller} is smaller`}), ${r.classifyMsMedian.toFixed(3)} ms`;
    lines.push(
      `${r.name.padEnd(9)}${cell('quic', 6)}${cell(r.encodeMBps.toFixed(1), 13)}${cell(r.decodeMBps.toFixed(1), 13)}${cell(r.ratio.toFixed(2), 8)}${cell(r.outputBytes, 11)}   ${choice}`,
      `${''.padEnd(9)}${cell('lz', 6)}${cell(r.lz.encodeMBps.toFixed(1), 13)}${cell(r.lz.decodeMBps.toFixed(1), 13)}${cell(r.lz.ratio.toFixed(2), 8)}${cell(r.lz.outputBytes, 11)}`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const results = await runQuicBench();
  console.log(formatQuicResults(results));
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
