import { endianness } from 'node:os';

/*
 * PCM helpers. Everything here is interleaved signed 16-bit PCM in an Int16Array; the SPICE
 * playback format is 48 kHz stereo in 10 ms packets (docs/protocol.md), so a "frame" below is
 * always 480 samples per channel = 960 interleaved samples = 1920 bytes of S16LE.
 */

export const SAMPLE_RATE = 48_000;
export const CHANNELS = 2;
export const FRAME_MS = 10;
/** Samples per channel in one 10 ms frame. */
export const FRAME_SAMPLES_PER_CHANNEL = (SAMPLE_RATE * FRAME_MS) / 1000;
/** Interleaved samples in one 10 ms stereo frame. */
export const FRAME_SAMPLES = FRAME_SAMPLES_PER_CHANNEL * CHANNELS;

const HOST_IS_LE = endianness() === 'LE';

export function clampInt16(x: number): number {
  if (x >= 32767) return 32767;
  if (x <= -32768) return -32768;
  return Math.round(x);
}

/**
 * Cuts an arbitrary-length stream of interleaved PCM into exact frames, keeping the remainder
 * (even a partial sample pair) for the next push, so the channel order never shifts.
 */
export class FrameChunker {
  private readonly pending: Int16Array;
  private filled = 0;

  constructor(readonly frameSamples: number = FRAME_SAMPLES) {
    if (!Number.isInteger(frameSamples) || frameSamples <= 0) {
      throw new RangeError(`FrameChunker: frame size must be a positive integer, got ${frameSamples}`);
    }
    this.pending = new Int16Array(frameSamples);
  }

  /** Interleaved samples waiting for the next frame to complete. */
  get buffered(): number {
    return this.filled;
  }

  /** Adds samples and returns every frame completed by them (each a fresh array). */
  push(pcm: Int16Array): Int16Array[] {
    const frames: Int16Array[] = [];
    let offset = this.completePending(pcm, frames);
    while (pcm.length - offset >= this.frameSamples) {
      frames.push(pcm.slice(offset, offset + this.frameSamples));
      offset += this.frameSamples;
    }
    this.pending.set(pcm.subarray(offset), this.filled);
    this.filled += pcm.length - offset;
    return frames;
  }

  /** Returns the remainder padded with silence to a whole frame, or null if nothing is buffered. */
  flush(): Int16Array | null {
    if (this.filled === 0) return null;
    const frame = new Int16Array(this.frameSamples);
    frame.set(this.pending.subarray(0, this.filled));
    this.filled = 0;
    return frame;
  }

  reset(): void {
    this.filled = 0;
  }

  /** Tops up a partly filled pending frame; returns how many input samples it consumed. */
  private completePending(pcm: Int16Array, frames: Int16Array[]): number {
    if (this.filled === 0) return 0;
    const take = Math.min(this.frameSamples - this.filled, pcm.length);
    this.pending.set(pcm.subarray(0, take), this.filled);
    this.filled += take;
    if (this.filled === this.frameSamples) {
      frames.push(this.pending.slice());
      this.filled = 0;
    }
    return take;
  }
}

/**
 * Sums sources sample by sample with clipping. Shorter sources count as silence past their end;
 * the result has `length` samples (default: the longest source).
 */
export function mix(sources: readonly Int16Array[], length?: number): Int16Array {
  const n = length ?? sources.reduce((m, s) => Math.max(m, s.length), 0);
  const acc = new Int32Array(n);
  for (const s of sources) addInto(acc, s, 0);
  return clipToInt16(acc);
}

/**
 * Adds `gain * src` into an accumulator starting at `offset`. Int32 accumulation lets many
 * voices overlap without intermediate clipping; clipToInt16 clips once at the end.
 */
export function addInto(acc: Int32Array, src: Int16Array, offset: number, gain = 1): void {
  const end = Math.min(acc.length, offset + src.length);
  if (gain === 1) {
    for (let i = Math.max(0, offset); i < end; i++) acc[i]! += src[i - offset]!;
  } else {
    for (let i = Math.max(0, offset); i < end; i++) acc[i]! += Math.round(src[i - offset]! * gain);
  }
}

export function clipToInt16(acc: Int32Array): Int16Array {
  const out = new Int16Array(acc.length);
  for (let i = 0; i < acc.length; i++) {
    const v = acc[i]!;
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** Returns a scaled copy, clipped to 16 bits. */
export function applyGain(pcm: Int16Array, gain: number): Int16Array {
  const out = new Int16Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = clampInt16(pcm[i]! * gain);
  return out;
}

/**
 * Linear-interpolation resampler for whole buffers (e.g. a 44.1 kHz WAV file to 48 kHz).
 * Output sample j sits at input position j * from / to, computed exactly in integers so long files
 * do not drift. Linear interpolation is fine for upsampling UI sounds; when downsampling it does
 * not filter, so content above the new Nyquist frequency aliases.
 */
export function resampleLinear(pcm: Int16Array, channels: number, fromRate: number, toRate: number): Int16Array {
  checkChannels(pcm, channels);
  if (!(fromRate > 0 && toRate > 0 && Number.isInteger(fromRate) && Number.isInteger(toRate))) {
    throw new RangeError(`resampleLinear: rates must be positive integers, got ${fromRate} -> ${toRate}`);
  }
  if (fromRate === toRate) return pcm.slice();
  const inFrames = pcm.length / channels;
  const outFrames = Math.floor((inFrames * toRate) / fromRate);
  const out = new Int16Array(outFrames * channels);
  for (let j = 0; j < outFrames; j++) {
    const pos = j * fromRate;
    const i0 = Math.floor(pos / toRate);
    const frac = (pos - i0 * toRate) / toRate;
    const i1 = Math.min(i0 + 1, inFrames - 1);
    for (let c = 0; c < channels; c++) {
      const a = pcm[i0 * channels + c]!;
      const b = pcm[i1 * channels + c]!;
      out[j * channels + c] = Math.round(a + (b - a) * frac);
    }
  }
  return out;
}

export function monoToStereo(mono: Int16Array): Int16Array {
  const out = new Int16Array(mono.length * 2);
  for (let i = 0; i < mono.length; i++) {
    out[2 * i] = mono[i]!;
    out[2 * i + 1] = mono[i]!;
  }
  return out;
}

/** Average of left and right (halving first, so the sum cannot overflow). */
export function stereoToMono(stereo: Int16Array): Int16Array {
  checkChannels(stereo, 2);
  const out = new Int16Array(stereo.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Math.round((stereo[2 * i]! + stereo[2 * i + 1]!) / 2);
  return out;
}

/** Per input channel, its contribution to the left and right output. */
export interface StereoWeights {
  left: readonly number[];
  right: readonly number[];
}

/**
 * Any channel count to stereo. Mono is duplicated, stereo copied; more channels need weights
 * (see downmixWeights in layout.ts) because the mix depends on the speaker layout.
 */
export function toStereo(pcm: Int16Array, channels: number, weights?: StereoWeights): Int16Array {
  checkChannels(pcm, channels);
  if (weights === undefined) {
    if (channels === 1) return monoToStereo(pcm);
    if (channels === 2) return pcm.slice();
    throw new RangeError(`toStereo: ${channels} channels need explicit downmix weights`);
  }
  if (weights.left.length !== channels || weights.right.length !== channels) {
    throw new RangeError(`toStereo: weights are for ${weights.left.length} channels, input has ${channels}`);
  }
  return applyStereoWeights(pcm, channels, weights);
}

function applyStereoWeights(pcm: Int16Array, channels: number, weights: StereoWeights): Int16Array {
  const frames = pcm.length / channels;
  const out = new Int16Array(frames * 2);
  for (let f = 0; f < frames; f++) {
    let l = 0;
    let r = 0;
    for (let c = 0; c < channels; c++) {
      const s = pcm[f * channels + c]!;
      l += s * weights.left[c]!;
      r += s * weights.right[c]!;
    }
    out[2 * f] = clampInt16(l);
    out[2 * f + 1] = clampInt16(r);
  }
  return out;
}

function checkChannels(pcm: Int16Array, channels: number): void {
  if (!Number.isInteger(channels) || channels <= 0)
    throw new RangeError(`channel count must be a positive integer, got ${channels}`);
  if (pcm.length % channels !== 0) {
    throw new RangeError(`${pcm.length} samples is not a whole number of ${channels}-channel sample frames`);
  }
}

/** Int16 samples to S16LE bytes (the RAW playback payload and WAV data), as a fresh Buffer. */
export function pcmToS16le(pcm: Int16Array): Buffer {
  if (HOST_IS_LE) return Buffer.from(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  const out = Buffer.allocUnsafe(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i]!, 2 * i);
  return out;
}

/** S16LE bytes to Int16 samples (copying: a Buffer's offset may be odd, so no view is possible). */
export function s16leToPcm(bytes: Uint8Array): Int16Array {
  if (bytes.length % 2 !== 0) throw new RangeError(`S16LE data must have an even length, got ${bytes.length} bytes`);
  const out = new Int16Array(bytes.length / 2);
  if (HOST_IS_LE) {
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(2 * i, true);
  return out;
}
