import { FRAME_MS, FRAME_SAMPLES, FRAME_SAMPLES_PER_CHANNEL, SAMPLE_RATE, addInto, clipToInt16 } from './pcm.js';

/*
 * A mixer of short clips on a sample-accurate timeline, pulled one 10 ms frame at a time.
 *
 * It has no timer of its own: the playback channel (or a test with a virtual clock) decides when
 * a frame is due, so output timing follows whatever clock the caller trusts, and tests can step
 * through thousands of frames instantly. `nextFrame()` always produces exactly one frame (silence
 * when idle); `pump(nowMs)` asks a FramePacer how many frames a clock reading calls for.
 */

export interface PlayOptions {
  /** Linear gain for this clip. Default 1. */
  gain?: number;
  /** Start this many ms after the next frame rather than at it. Default 0. */
  delayMs?: number;
}

export interface AudioTimelineOptions {
  /** Voices beyond this drop the oldest, so a burst of key presses cannot pile up work. Default 16. */
  maxVoices?: number;
  /** Gain applied to the whole mix. Default 1. */
  gain?: number;
  /** Pacing used by pump(); see FramePacer. */
  maxBurstFrames?: number;
}

export interface TimedFrame {
  /** Media time of the frame's first sample, ms since the timeline began. */
  timeMs: number;
  /** 960 interleaved samples. */
  pcm: Int16Array;
}

interface Voice {
  id: number;
  /** Interleaved stereo samples. */
  clip: Int16Array;
  /** Timeline position (samples per channel) of the clip's first sample. */
  start: number;
  gain: number;
}

export class AudioTimeline {
  private voices: Voice[] = [];
  private positionSamples = 0;
  private nextId = 1;
  private readonly maxVoices: number;
  private readonly pacer: FramePacer;
  gain: number;

  constructor(options: AudioTimelineOptions = {}) {
    this.maxVoices = options.maxVoices ?? 16;
    if (!Number.isInteger(this.maxVoices) || this.maxVoices < 1) {
      throw new RangeError(`maxVoices must be a positive integer, got ${this.maxVoices}`);
    }
    this.gain = options.gain ?? 1;
    this.pacer = new FramePacer({ maxBurstFrames: options.maxBurstFrames });
  }

  /** Samples per channel produced so far. */
  get position(): number {
    return this.positionSamples;
  }

  /** Media time of the next frame, in ms since the timeline began. */
  get timeMs(): number {
    return (this.positionSamples * 1000) / SAMPLE_RATE;
  }

  /** Number of clips playing or scheduled. */
  get activeVoices(): number {
    return this.voices.length;
  }

  get idle(): boolean {
    return this.voices.length === 0;
  }

  /** Frames dropped by pump() because the caller's clock jumped further than maxBurstFrames. */
  get skippedFrames(): number {
    return this.pacer.skipped;
  }

  /**
   * Schedules an interleaved stereo 48 kHz clip to start with the next frame (plus delayMs).
   * The clip is not copied (clips are typically cached and replayed), so do not modify it while
   * it plays. Returns an id for cancel().
   */
  play(clip: Int16Array, options: PlayOptions = {}): number {
    if (clip.length % 2 !== 0)
      throw new RangeError(`AudioTimeline.play: clip must be interleaved stereo, got ${clip.length} samples`);
    const delayMs = options.delayMs ?? 0;
    if (!(delayMs >= 0)) throw new RangeError(`AudioTimeline.play: delayMs must be >= 0, got ${delayMs}`);
    const voice: Voice = {
      id: this.nextId++,
      clip,
      start: this.positionSamples + Math.round((delayMs * SAMPLE_RATE) / 1000),
      gain: options.gain ?? 1,
    };
    this.voices.push(voice);
    if (this.voices.length > this.maxVoices) this.voices.shift();
    return voice.id;
  }

  cancel(id: number): boolean {
    const before = this.voices.length;
    this.voices = this.voices.filter((v) => v.id !== id);
    return this.voices.length !== before;
  }

  clear(): void {
    this.voices = [];
  }

  /** Mixes and returns exactly one 10 ms frame (960 interleaved samples) and advances the clock. */
  nextFrame(): Int16Array {
    const acc = new Int32Array(FRAME_SAMPLES);
    const frameStart = this.positionSamples;
    const frameEnd = frameStart + FRAME_SAMPLES_PER_CHANNEL;
    for (const v of this.voices) mixVoice(acc, v, frameStart, frameEnd, this.gain);
    this.positionSamples = frameEnd;
    this.dropFinished();
    return clipToInt16(acc);
  }

  /**
   * Frames due at clock reading `nowMs` (any monotonic ms clock, e.g. performance.now() or a
   * test's counter), each with its media time for the DATA message. The first call starts the
   * clock and yields one frame.
   */
  pump(nowMs: number): TimedFrame[] {
    const skippedBefore = this.pacer.skipped;
    const due = this.pacer.due(nowMs);
    // Frames the pacer dropped after a stall are skipped on the timeline too, so sounds stay
    // tied to the wall-clock moment they were asked for and timeMs jumps like the clock did.
    this.skip(this.pacer.skipped - skippedBefore);
    const frames: TimedFrame[] = [];
    for (let n = due; n > 0; n--) frames.push({ timeMs: this.timeMs, pcm: this.nextFrame() });
    return frames;
  }

  /** Advances the clock by whole frames without producing them. */
  skip(frames: number): void {
    if (frames <= 0) return;
    this.positionSamples += frames * FRAME_SAMPLES_PER_CHANNEL;
    this.dropFinished();
  }

  private dropFinished(): void {
    const now = this.positionSamples;
    this.voices = this.voices.filter((v) => v.start + v.clip.length / 2 > now);
  }
}

/** Adds the part of `v` that overlaps [frameStart, frameEnd) into a frame accumulator. */
function mixVoice(acc: Int32Array, v: Voice, frameStart: number, frameEnd: number, masterGain: number): void {
  const clipFrames = v.clip.length / 2;
  if (v.start >= frameEnd || v.start + clipFrames <= frameStart) return;
  const from = Math.max(0, frameStart - v.start); // first clip sample frame in this frame
  const to = Math.min(clipFrames, frameEnd - v.start);
  const at = Math.max(0, v.start - frameStart); // where it lands in the frame
  addInto(acc, v.clip.subarray(from * 2, to * 2), at * 2, v.gain * masterGain);
}

export interface FramePacerOptions {
  /** Default 10. */
  frameMs?: number;
  /**
   * Most frames one due() call may ask for. After a longer stall (a blocked event loop, a
   * suspended VM) the excess is skipped rather than sent as a burst the client would have to
   * buffer; the media clock then jumps, which AudioTimeline.pump mirrors by skipping ahead.
   * Default 10 (100 ms).
   */
  maxBurstFrames?: number | undefined;
}

/**
 * Turns readings of a caller-owned clock into "how many frames are due now", so a 10 ms interval
 * timer that fires late or early still yields 100 frames per second on average.
 */
export class FramePacer {
  private startMs: number | null = null;
  private emitted = 0;
  private skippedFrames = 0;
  private readonly frameMs: number;
  private readonly maxBurst: number;

  constructor(options: FramePacerOptions = {}) {
    this.frameMs = options.frameMs ?? FRAME_MS;
    this.maxBurst = options.maxBurstFrames ?? 10;
    if (!(this.frameMs > 0)) throw new RangeError(`frameMs must be > 0, got ${this.frameMs}`);
    if (!Number.isInteger(this.maxBurst) || this.maxBurst < 1) {
      throw new RangeError(`maxBurstFrames must be a positive integer, got ${this.maxBurst}`);
    }
  }

  get skipped(): number {
    return this.skippedFrames;
  }

  /** Forget the start time; the next due() starts a new run. */
  reset(): void {
    this.startMs = null;
    this.emitted = 0;
  }

  due(nowMs: number): number {
    if (this.startMs === null) this.startMs = nowMs;
    // Frame k is due once the clock reaches start + k * frameMs; frame 0 is due immediately.
    const target = Math.floor((nowMs - this.startMs) / this.frameMs) + 1;
    let n = Math.max(0, target - this.emitted);
    if (n > this.maxBurst) {
      this.skippedFrames += n - this.maxBurst;
      this.emitted += n - this.maxBurst;
      n = this.maxBurst;
    }
    this.emitted += n;
    return n;
  }
}
