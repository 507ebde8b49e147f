import { CHANNELS, SAMPLE_RATE } from './pcm.js';

/*
 * Signal checks for tests and diagnostics: dominant frequency, level, and gaps (digital silence
 * inside the PCM, or holes in a packet stream's timestamps).
 */

export interface SignalOptions {
  /** Default 48000. */
  sampleRate?: number;
  /** Interleaved channel count of the input. Default 2. */
  channels?: number;
}

export interface FrequencyOptions extends SignalOptions {
  /** Channel to analyse; 'mix' averages all channels. Default 0. */
  channel?: number | 'mix';
  /** Search range in Hz. Defaults 20 .. Nyquist. */
  minHz?: number;
  maxHz?: number;
}

/**
 * Frequency of the strongest spectral peak, in Hz; NaN for silence. A Hann-windowed FFT finds
 * the peak bin, parabolic interpolation on log magnitudes narrows it, and a golden-section
 * search over the windowed DTFT magnitude pins it down, so a clean 1 s tone comes out within
 * a few thousandths of a hertz even though the FFT bins are ~0.7 Hz apart.
 */
export function dominantFrequency(pcm: Int16Array, options: FrequencyOptions = {}): number {
  const sampleRate = options.sampleRate ?? SAMPLE_RATE;
  const x = windowed(extractChannel(pcm, options.channels ?? CHANNELS, options.channel ?? 0));
  if (x.length < 4) throw new RangeError(`dominantFrequency: need at least 4 samples per channel, got ${x.length}`);
  const size = nextPowerOfTwo(x.length);
  const mags = magnitudeSpectrum(x, size);
  const binHz = sampleRate / size;
  const lo = Math.max(1, Math.ceil((options.minHz ?? 20) / binHz));
  const hi = Math.min(size / 2 - 1, Math.floor((options.maxHz ?? sampleRate / 2) / binHz));
  const peak = argMax(mags, lo, hi);
  if (peak < 0 || mags[peak]! === 0) return NaN;
  const coarse = (peak + parabolicOffset(mags, peak)) * binHz;
  return refinePeak(x, sampleRate, coarse - binHz, coarse + binHz);
}

/** One channel (or the average of all) as doubles with the DC offset removed. */
function extractChannel(pcm: Int16Array, channels: number, channel: number | 'mix'): Float64Array {
  if (pcm.length % channels !== 0)
    throw new RangeError(`${pcm.length} samples is not a multiple of ${channels} channels`);
  if (channel !== 'mix' && !(Number.isInteger(channel) && channel >= 0 && channel < channels)) {
    throw new RangeError(`channel ${channel} out of range for ${channels} channels`);
  }
  const n = pcm.length / channels;
  const out = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let v = 0;
    if (channel === 'mix') {
      for (let c = 0; c < channels; c++) v += pcm[i * channels + c]!;
      v /= channels;
    } else {
      v = pcm[i * channels + channel]!;
    }
    out[i] = v / 32768;
    sum += out[i]!;
  }
  const mean = n > 0 ? sum / n : 0;
  for (let i = 0; i < n; i++) out[i]! -= mean;
  return out;
}

/** Hann window: its sidelobes fall fast, so the negative-frequency image cannot bias the peak. */
function windowed(x: Float64Array): Float64Array {
  const n = x.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = x[i]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)));
  return out;
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function magnitudeSpectrum(x: Float64Array, size: number): Float64Array {
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  re.set(x);
  fftInPlace(re, im);
  const mags = new Float64Array(size / 2);
  for (let k = 0; k < size / 2; k++) mags[k] = Math.hypot(re[k]!, im[k]!);
  return mags;
}

/** Iterative radix-2 Cooley-Tukey FFT; `re.length` must be a power of two. */
function fftInPlace(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (n !== im.length || (n & (n - 1)) !== 0) throw new RangeError(`FFT size must be a power of two, got ${n}`);
  bitReversePermute(re, im);
  for (let len = 2; len <= n; len *= 2) {
    const half = len / 2;
    const step = (-2 * Math.PI) / len;
    for (let k = 0; k < half; k++) {
      const wr = Math.cos(step * k);
      const wi = Math.sin(step * k);
      for (let i = k; i < n; i += len) {
        const j = i + half;
        const tr = re[j]! * wr - im[j]! * wi;
        const ti = re[j]! * wi + im[j]! * wr;
        re[j] = re[i]! - tr;
        im[j] = im[i]! - ti;
        re[i]! += tr;
        im[i]! += ti;
      }
    }
  }
}

function bitReversePermute(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
}

function argMax(a: Float64Array, from: number, to: number): number {
  let best = -1;
  for (let k = from; k <= to; k++) if (best < 0 || a[k]! > a[best]!) best = k;
  return best;
}

/** Vertex of the parabola through log magnitudes at k-1, k, k+1, as an offset in bins. */
function parabolicOffset(mags: Float64Array, k: number): number {
  if (k <= 0 || k >= mags.length - 1) return 0;
  const a = Math.log(mags[k - 1]! + 1e-300);
  const b = Math.log(mags[k]! + 1e-300);
  const c = Math.log(mags[k + 1]! + 1e-300);
  const denom = a - 2 * b + c;
  return denom === 0 ? 0 : (0.5 * (a - c)) / denom;
}

/** |DTFT| of x at frequency f, by rotating a phasor (no trig call per sample). */
function dtftMagnitude(x: Float64Array, f: number, sampleRate: number): number {
  const w = (-2 * Math.PI * f) / sampleRate;
  const cr = Math.cos(w);
  const ci = Math.sin(w);
  let pr = 1;
  let pi = 0;
  let sr = 0;
  let si = 0;
  for (let i = 0; i < x.length; i++) {
    sr += x[i]! * pr;
    si += x[i]! * pi;
    const t = pr * cr - pi * ci;
    pi = pr * ci + pi * cr;
    pr = t;
  }
  return Math.hypot(sr, si);
}

/** Golden-section search for the maximum of the DTFT magnitude in [a, b]. */
function refinePeak(x: Float64Array, sampleRate: number, a: number, b: number): number {
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = dtftMagnitude(x, c, sampleRate);
  let fd = dtftMagnitude(x, d, sampleRate);
  while (b - a > 1e-4) {
    if (fc > fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = dtftMagnitude(x, c, sampleRate);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = dtftMagnitude(x, d, sampleRate);
    }
  }
  return (a + b) / 2;
}

/** Root mean square over all samples, as a fraction of full scale (a full-scale sine gives ~0.707). */
export function rms(pcm: Int16Array): number {
  if (pcm.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i]! * pcm[i]!;
  return Math.sqrt(sum / pcm.length) / 32768;
}

/** RMS in dB relative to full scale; -Infinity for digital silence. */
export function rmsDbfs(pcm: Int16Array): number {
  return 20 * Math.log10(rms(pcm));
}

/** Largest absolute sample as a fraction of full scale. */
export function peakLevel(pcm: Int16Array): number {
  let peak = 0;
  for (let i = 0; i < pcm.length; i++) peak = Math.max(peak, Math.abs(pcm[i]!));
  return peak / 32768;
}

export interface SilenceOptions extends SignalOptions {
  /** Shortest run to report, in ms. Default 5. */
  minMs?: number;
  /** Largest |sample| still counted as silence. Default 0 (digital silence only). */
  threshold?: number;
}

export interface SilentStretch {
  /** First silent sample frame (per-channel index). */
  startFrame: number;
  frames: number;
  startMs: number;
  durationMs: number;
}

/** Runs of sample frames in which every channel stays within the threshold. */
export function findSilence(pcm: Int16Array, options: SilenceOptions = {}): SilentStretch[] {
  const channels = options.channels ?? CHANNELS;
  const sampleRate = options.sampleRate ?? SAMPLE_RATE;
  const threshold = options.threshold ?? 0;
  const minFrames = Math.max(1, Math.round(((options.minMs ?? 5) * sampleRate) / 1000));
  if (pcm.length % channels !== 0)
    throw new RangeError(`${pcm.length} samples is not a multiple of ${channels} channels`);
  const frames = pcm.length / channels;
  const out: SilentStretch[] = [];
  let runStart = -1;
  for (let f = 0; f <= frames; f++) {
    const silent = f < frames && isSilentFrame(pcm, f, channels, threshold);
    if (silent && runStart < 0) runStart = f;
    if (!silent && runStart >= 0) {
      const len = f - runStart;
      if (len >= minFrames) out.push(stretch(runStart, len, sampleRate));
      runStart = -1;
    }
  }
  return out;
}

function isSilentFrame(pcm: Int16Array, frame: number, channels: number, threshold: number): boolean {
  for (let c = 0; c < channels; c++) if (Math.abs(pcm[frame * channels + c]!) > threshold) return false;
  return true;
}

function stretch(startFrame: number, frames: number, sampleRate: number): SilentStretch {
  return { startFrame, frames, startMs: (startFrame * 1000) / sampleRate, durationMs: (frames * 1000) / sampleRate };
}

export interface PacketGapOptions {
  /** Expected spacing of timestamps. Default 10 ms. */
  intervalMs?: number;
  /** Allowed deviation before a spacing counts. Default half the interval. */
  toleranceMs?: number;
}

export interface PacketGap {
  /** 'gap': packets missing; 'overlap': a timestamp repeats, goes back, or comes too early. */
  kind: 'gap' | 'overlap';
  /** Index of the packet after the irregular spacing. */
  index: number;
  fromMs: number;
  toMs: number;
  /** Whole packets missing (gap) or surplus (overlap, at least 1). */
  packets: number;
}

/** Irregular spacings in a stream's packet timestamps (e.g. SPICE DATA media times). */
export function findPacketGaps(timestampsMs: readonly number[], options: PacketGapOptions = {}): PacketGap[] {
  const interval = options.intervalMs ?? 10;
  const tolerance = options.toleranceMs ?? interval / 2;
  const gaps: PacketGap[] = [];
  for (let i = 1; i < timestampsMs.length; i++) {
    const fromMs = timestampsMs[i - 1]!;
    const toMs = timestampsMs[i]!;
    const delta = toMs - fromMs;
    if (delta > interval + tolerance) {
      gaps.push({ kind: 'gap', index: i, fromMs, toMs, packets: Math.max(1, Math.round(delta / interval) - 1) });
    } else if (delta < interval - tolerance) {
      gaps.push({
        kind: 'overlap',
        index: i,
        fromMs,
        toMs,
        packets: Math.max(1, Math.round((interval - delta) / interval)),
      });
    }
  }
  return gaps;
}
