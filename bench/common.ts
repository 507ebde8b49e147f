/** Small helpers every benchmark uses. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

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
  clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}
