import { SAMPLE_RATE, clampInt16 } from './pcm.js';

/*
 * Deterministic sound generators for the demo desktop. All return interleaved stereo Int16 at
 * 48 kHz with both channels identical. Every sample is computed from its index (no running
 * phase accumulator), so the same arguments give bit-identical output on every run.
 */

export { AudioTimeline, FramePacer } from './timeline.js';

export interface SineOptions {
  /** Peak level as a fraction of full scale, 0..1. Default 0.5 (-6 dBFS). */
  amplitude?: number;
  /** Raised-cosine fade at each end, in ms. Default 5; capped at half the duration. */
  fadeMs?: number;
}

/** A partial of a decaying blip: frequency and relative level. */
interface Partial {
  frequency: number;
  level: number;
}

interface BlipShape {
  durationMs: number;
  attackMs: number;
  /** Exponential decay time constant. */
  decayMs: number;
  /** Final raised-cosine fade so the tail reaches exactly zero. */
  releaseMs: number;
  amplitude: number;
  partials: readonly Partial[];
}

export interface BlipOptions {
  /** Peak level as a fraction of full scale, 0..1. */
  amplitude?: number;
  /** Base frequency in Hz. */
  frequency?: number;
}

function samplesFor(ms: number): number {
  return Math.round((ms * SAMPLE_RATE) / 1000);
}

function checkPositive(name: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${name} must be a positive number, got ${value}`);
}

function checkAmplitude(amplitude: number): void {
  if (!(amplitude >= 0 && amplitude <= 1)) throw new RangeError(`amplitude must be within 0..1, got ${amplitude}`);
}

/** Raised-cosine ramp 0 -> 1 over `n` samples; 1 past the end. */
function rampUp(i: number, n: number): number {
  return i >= n ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * i) / n);
}

/** Gain of a fade-in over the first `fade` samples and a fade-out over the last `fade`. */
function edgeFade(i: number, length: number, fade: number): number {
  return Math.min(rampUp(i, fade), rampUp(length - 1 - i, fade));
}

function monoToStereoInt16(mono: Float64Array): Int16Array {
  const out = new Int16Array(mono.length * 2);
  for (let i = 0; i < mono.length; i++) {
    const v = clampInt16(mono[i]! * 32767);
    out[2 * i] = v;
    out[2 * i + 1] = v;
  }
  return out;
}

/** A sine of `frequency` Hz lasting `durationMs`, starting at phase 0, with click-free edges. */
export function sineTone(frequency: number, durationMs: number, options: SineOptions = {}): Int16Array {
  checkPositive('frequency', frequency);
  checkPositive('durationMs', durationMs);
  const amplitude = options.amplitude ?? 0.5;
  checkAmplitude(amplitude);
  const n = samplesFor(durationMs);
  const fade = Math.min(samplesFor(options.fadeMs ?? 5), Math.floor(n / 2));
  const mono = new Float64Array(n);
  const w = (2 * Math.PI * frequency) / SAMPLE_RATE;
  for (let i = 0; i < n; i++) mono[i] = amplitude * edgeFade(i, n, fade) * Math.sin(w * i);
  return monoToStereoInt16(mono);
}

function blip(shape: BlipShape): Int16Array {
  checkAmplitude(shape.amplitude);
  const n = samplesFor(shape.durationMs);
  const attack = samplesFor(shape.attackMs);
  const release = Math.min(samplesFor(shape.releaseMs), n);
  const decay = (shape.decayMs * SAMPLE_RATE) / 1000;
  const totalLevel = shape.partials.reduce((s, p) => s + p.level, 0);
  const mono = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (const p of shape.partials) v += p.level * Math.sin((2 * Math.PI * p.frequency * i) / SAMPLE_RATE);
    const env = rampUp(i, attack) * Math.exp(-i / decay) * rampUp(n - 1 - i, release);
    mono[i] = (shape.amplitude * env * v) / totalLevel;
  }
  return monoToStereoInt16(mono);
}

/** A short decaying click (~25 ms around 2.5 kHz), e.g. for a clock or a button press. */
export function tick(options: BlipOptions = {}): Int16Array {
  const f = options.frequency ?? 2500;
  checkPositive('frequency', f);
  return blip({
    durationMs: 25,
    attackMs: 0.5,
    decayMs: 4,
    releaseMs: 3,
    amplitude: options.amplitude ?? 0.6,
    partials: [
      { frequency: f, level: 1 },
      { frequency: f * 2.01, level: 0.35 }, // slightly inharmonic: sounds like a click, not a beep
    ],
  });
}

/** A soft key-press blip (~60 ms around 660 Hz) for keyboard feedback. */
export function keyBlip(options: BlipOptions = {}): Int16Array {
  const f = options.frequency ?? 660;
  checkPositive('frequency', f);
  return blip({
    durationMs: 60,
    attackMs: 2,
    decayMs: 15,
    releaseMs: 10,
    amplitude: options.amplitude ?? 0.4,
    partials: [
      { frequency: f, level: 1 },
      { frequency: f * 2, level: 0.3 },
      { frequency: f * 3, level: 0.1 },
    ],
  });
}
