/** Small helpers every benchmark uses. */
import { sameRgb, type PixelImage } from '../src/display/pixels.js';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';

/** A port nothing listens on or connects from right now (the kernel's pick on 127.0.0.1), for a server to bind. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** The Chromium the browser benches drive: $CHROMIUM, else Debian's. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** The command-line value after `name` (`--photos 30`), or `fallback` when it is not given. */
export function argValue(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}

/** argValue as a number. */
export function numberArg(name: string, fallback: number): number {
  return Number(argValue(name, String(fallback)));
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median wall time in ms of `fn` over `measured` runs after `warmup` unmeasured ones. */
export function medianTime(fn: () => void, warmup: number, measured: number): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < measured; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

/** A seeded PRNG (the demo desktop's mulberry32), so every run benchmarks the same data. */
export { seededRandom as makeRandom } from '../src/sources/demo/noise.js';

let clockTicks: number | undefined;

/** CPU time (user + system, ms) of another process so far, from /proc (10 ms resolution). */
export function procCpuMs(pid: number): number {
  const { user, system } = procCpuSplitMs(pid);
  return user + system;
}

/** User and system (kernel: syscalls, and on loopback the receiver's TCP work) CPU ms of a process so far. */
export function procCpuSplitMs(pid: number): { user: number; system: number } {
  clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(fields[11]) * 1000) / clockTicks, system: (Number(fields[12]) * 1000) / clockTicks };
}

/** Size and speed of one lossless image codec on one image (what the lz and quic suites report). */
export interface CodecFigures {
  name: string;
  width: number;
  height: number;
  inputBytes: number;
  outputBytes: number;
  /** inputBytes / outputBytes. */
  ratio: number;
  encodeMBps: number;
  decodeMBps: number;
  encodeMsMedian: number;
  decodeMsMedian: number;
  runs: number;
}

/**
 * Encode and decode `img` with a codec, medians over `measured` timed runs after `warmup`. Checks the
 * round trip first: a benchmark of a broken codec is worthless.
 */
export function measureCodec(
  codec: string,
  name: string,
  img: PixelImage,
  encode: (img: PixelImage) => Buffer,
  decode: (b: Buffer) => PixelImage,
  warmup: number,
  measured: number,
): CodecFigures & { encoded: Buffer } {
  const inputBytes = img.width * img.height * 4;
  const encoded = encode(img);
  if (!sameRgb(decode(encoded), img)) throw new Error(`${codec} bench: ${name} does not round-trip`);
  const encodeMs = medianTime(() => void encode(img), warmup, measured);
  const decodeMs = medianTime(() => void decode(encoded), warmup, measured);
  return {
    name,
    width: img.width,
    height: img.height,
    inputBytes,
    outputBytes: encoded.length,
    ratio: inputBytes / encoded.length,
    encodeMBps: inputBytes / 1e6 / (encodeMs / 1000),
    decodeMBps: inputBytes / 1e6 / (decodeMs / 1000),
    encodeMsMedian: encodeMs,
    decodeMsMedian: decodeMs,
    runs: measured,
    encoded,
  };
}
