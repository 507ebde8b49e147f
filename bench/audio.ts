/**
 * Opus benchmark for the playback channel: encode and decode speed (as multiples of real time)
 * and the resulting byte rate at 48 kHz stereo, 10 ms packets, on deterministic 10 s signals.
 *
 *   npm run build && node dist/bench/audio.js
 *
 * "x real time" is seconds of audio processed per second of wall time, one core; each figure is
 * the median of several runs after a warm-up. Bytes per second count raw Opus packets, without
 * the SPICE DATA header (4 bytes time + 6 bytes mini header per packet, i.e. +1000 B/s).
 */
import { makeRandom, medianTime } from './common.js';
import { pathToFileURL } from 'node:url';
import { dominantFrequency } from '../src/audio/analysis.js';
import {
  DEFAULT_BITRATE,
  DEFAULT_COMPLEXITY,
  OpusDecoder,
  OpusEncoder,
  type OpusEncoderOptions,
} from '../src/audio/opus.js';
import { FRAME_SAMPLES, FrameChunker, mix } from '../src/audio/pcm.js';
import { AudioTimeline, keyBlip, sineTone, tick } from '../src/audio/tones.js';

export interface AudioBenchResult {
  suite: 'audio';
  name: string;
  bitrate: number;
  complexity: number;
  seconds: number;
  packets: number;
  bytesPerSecond: number;
  encodeRealtime: number;
  decodeRealtime: number;
  encodeMsMedian: number;
  decodeMsMedian: number;
  runs: number;
}

const SECONDS = 10;
const WARMUP_RUNS = 1;
const MEASURED_RUNS = 5;

/** A chord plus quiet noise: dense enough that the encoder has real work in every band. */
function musicLike(): Int16Array {
  const ms = SECONDS * 1000;
  const chord = mix([220, 277.18, 329.63, 880].map((f) => sineTone(f, ms, { amplitude: 0.15 })));
  const random = makeRandom(1);
  for (let i = 0; i < chord.length; i++)
    chord[i] = Math.max(-32768, Math.min(32767, chord[i]! + Math.round((random() - 0.5) * 1500)));
  return chord;
}

/** What the demo desktop sends: ticks every second and bursts of key blips, silence between. */
function uiSounds(): Int16Array {
  const t = new AudioTimeline();
  const clips = { tick: tick(), key: keyBlip() };
  const frames: Int16Array[] = [];
  for (let i = 0; i < SECONDS * 100; i++) {
    if (i % 100 === 0) t.play(clips.tick);
    if (i % 100 >= 30 && i % 100 < 60 && i % 12 === 0) t.play(clips.key);
    frames.push(t.nextFrame());
  }
  const out = new Int16Array(frames.length * FRAME_SAMPLES);
  frames.forEach((f, i) => out.set(f, i * FRAME_SAMPLES));
  return out;
}

function toFrames(pcm: Int16Array): Int16Array[] {
  const frames = new FrameChunker().push(pcm);
  if (frames.length !== SECONDS * 100)
    throw new Error(`audio bench: expected ${SECONDS * 100} frames, got ${frames.length}`);
  return frames;
}

const timeMedian = (fn: () => void): number => medianTime(fn, WARMUP_RUNS, MEASURED_RUNS);

/** Encodes all frames with a fresh encoder (codec state carries over between packets). */
function encodeAll(frames: readonly Int16Array[], options: OpusEncoderOptions): Buffer[] {
  const enc = new OpusEncoder(options);
  try {
    return frames.map((f) => enc.encode(f));
  } finally {
    enc.close();
  }
}

function decodeAll(packets: readonly Buffer[]): Int16Array[] {
  const dec = new OpusDecoder();
  try {
    return packets.map((p) => dec.decodeFrame(p));
  } finally {
    dec.close();
  }
}

function benchSignal(name: string, pcm: Int16Array, options: OpusEncoderOptions): AudioBenchResult {
  const frames = toFrames(pcm);
  const packets = encodeAll(frames, options);
  const bytes = packets.reduce((s, p) => s + p.length, 0);
  const encodeMs = timeMedian(() => void encodeAll(frames, options));
  const decodeMs = timeMedian(() => void decodeAll(packets));
  return {
    suite: 'audio',
    name,
    bitrate: options.bitrate ?? DEFAULT_BITRATE,
    complexity: options.complexity ?? DEFAULT_COMPLEXITY,
    seconds: SECONDS,
    packets: packets.length,
    bytesPerSecond: bytes / SECONDS,
    encodeRealtime: (SECONDS * 1000) / encodeMs,
    decodeRealtime: (SECONDS * 1000) / decodeMs,
    encodeMsMedian: encodeMs,
    decodeMsMedian: decodeMs,
    runs: MEASURED_RUNS,
  };
}

/** A benchmark of a broken codec is worthless: check a tone survives before timing anything. */
function checkRoundTrip(): void {
  const packets = encodeAll(toFrames(sineTone(440, SECONDS * 1000)), {});
  const decoded = decodeAll(packets);
  const all = new Int16Array(decoded.length * FRAME_SAMPLES);
  decoded.forEach((f, i) => all.set(f, i * FRAME_SAMPLES));
  const f = dominantFrequency(all);
  if (!(Math.abs(f - 440) < 2)) throw new Error(`audio bench: 440 Hz tone decoded as ${f} Hz`);
}

export async function runAudioBench(): Promise<AudioBenchResult[]> {
  checkRoundTrip();
  const cases: Array<[string, () => Int16Array, OpusEncoderOptions]> = [
    ['music-like', musicLike, {}],
    ['ui-sounds', uiSounds, {}],
    ['music-like', musicLike, { complexity: 10 }],
  ];
  const results: AudioBenchResult[] = [];
  for (const [name, make, options] of cases) {
    results.push(benchSignal(name, make(), options));
    // Yield between cases so a caller's timers and I/O are not starved for the whole run.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return results;
}

export function formatAudioResults(results: AudioBenchResult[]): string {
  const lines = [
    `Opus 48 kHz stereo, 10 ms packets, ${SECONDS} s signals, x real time on one core, ` +
      `median of ${MEASURED_RUNS} runs after ${WARMUP_RUNS} warm-up`,
    [
      'signal'.padEnd(12),
      'kbit/s'.padStart(8),
      'cx'.padStart(4),
      'encode x'.padStart(10),
      'decode x'.padStart(10),
      'bytes/s'.padStart(9),
      'B/packet'.padStart(10),
    ].join(''),
  ];
  for (const r of results) {
    lines.push(
      `${r.name.padEnd(12)}${String(r.bitrate / 1000).padStart(8)}${String(r.complexity).padStart(4)}` +
        `${r.encodeRealtime.toFixed(0).padStart(10)}${r.decodeRealtime.toFixed(0).padStart(10)}` +
        `${r.bytesPerSecond.toFixed(0).padStart(9)}${(r.bytesPerSecond / 100).toFixed(1).padStart(10)}`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  console.log(formatAudioResults(await runAudioBench()));
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
