/**
 * The adaptive model of SPICE QUIC, shared by encoder and decoder: both run exactly the same updates
 * in the same order, which is what lets the decoder pick the same code parameters as the encoder
 * without any side information in the stream (spice-common quic.c, quic_tmpl.c, quic_family_tmpl.c).
 */
import {
  BUCKET_COUNT,
  BUCKET_OF,
  BUCKET_START,
  GOLOMB_LENGTH,
  MELC_J,
  MELC_STATES,
  NUM_CODES,
  TABRAND_CHAOS,
  TABRAND_SEED,
  WM_MAX_INDEX,
  WM_NEXT,
  wmTrigger,
} from './quic-tables.js';

/**
 * Pacing and run-length state (quic.c CommonState). RGB images share one for the three colour
 * channels; the alpha channel of RGBA has its own.
 */
export class CodingState {
  /** Symbols left to code before the next model update. */
  waitcnt = 0;
  tabrandSeed = TABRAND_SEED;
  /** Counter sum above which a bucket's counters are halved (forgetting old statistics). */
  wmTrigger = wmTrigger(0);
  /** Wait mask index: model updates happen every 1..2^wmidx symbols. */
  wmidx = 0;
  /** Symbols left before wmidx grows. */
  wmileft = WM_NEXT;
  /** MELCODE run-length coder: state index, its exponent and 2^exponent. */
  melcState = 0;
  melcLen = MELC_J[0]!;
  melcOrder = 1 << MELC_J[0]!;

  /** The next pseudo-random wait (to be masked with the current wait mask). */
  tabrand(): number {
    this.tabrandSeed = (this.tabrandSeed + 1) & 0xff;
    return TABRAND_CHAOS[this.tabrandSeed]!;
  }

  /**
   * A run of one more melcOrder pixels was seen: expect longer runs. Capped at state 31 as in quic.c
   * (spice-html5 lets the state reach 32 and then decodes differently, but a hit at state 30 takes a
   * run of 16384 pixels after 30 earlier hits, so rows narrower than that never get there).
   */
  melcHit(): void {
    if (this.melcState < MELC_STATES - 1) this.setMelcState(this.melcState + 1);
  }

  /** A run ended: expect slightly shorter runs next time. */
  melcEnd(): void {
    if (this.melcState) this.setMelcState(this.melcState - 1);
  }

  private setMelcState(state: number): void {
    this.melcState = state;
    this.melcLen = MELC_J[state]!;
    this.melcOrder = 1 << this.melcLen;
  }
}

/** Per-channel statistics (quic.c Channel with its 8-bpc FamilyStat). */
export class ChannelModel {
  /**
   * The coded symbols of the current row (and, where a run skipped pixels, stale ones of earlier rows:
   * quic.c leaves them in place and both sides read them as context). Slot x + 1 holds pixel x; slot 0
   * is the context of pixel 0, which is pixel 0's symbol of the row above (0 on the first row).
   */
  correlate = new Uint8Array(1);
  /** Best code parameter per bucket. */
  readonly bestCode = new Uint8Array(BUCKET_COUNT);
  /** The same per context value (the bucket's parameter for each of its contexts): one lookup, not two. */
  readonly bestByContext = new Uint8Array(256);
  /** Accumulated codeword lengths per bucket and parameter, at bucket * 8 + l. */
  readonly counters = new Uint32Array(BUCKET_COUNT * NUM_CODES);

  reset(width: number): void {
    if (this.correlate.length < width + 1) this.correlate = new Uint8Array(width + 1);
    this.correlate[0] = 0;
    this.bestCode.fill(NUM_CODES - 1);
    this.bestByContext.fill(NUM_CODES - 1);
    this.counters.fill(0);
  }

  /** Start of a row after the first: pixel 0's context is pixel 0's symbol of the previous row. */
  startRow(): void {
    this.correlate[0] = this.correlate[1]!;
  }

  /**
   * Account symbol `value` in the bucket of `context`: add the length each parameter would have
   * given it, keep the cheapest (ties go to the larger parameter), halve when the sum gets large.
   */
  update(state: CodingState, context: number, value: number): void {
    const counters = this.counters;
    const bucket = BUCKET_OF[context]!;
    const base = bucket * NUM_CODES;
    const lengths = value * NUM_CODES;
    let best = NUM_CODES - 1;
    let bestLength = (counters[base + best] += GOLOMB_LENGTH[lengths + best]!);
    for (let l = NUM_CODES - 2; l >= 0; l--) {
      const length = (counters[base + l] += GOLOMB_LENGTH[lengths + l]!);
      if (length < bestLength) {
        best = l;
        bestLength = length;
      }
    }
    if (this.bestCode[bucket] !== best) {
      this.bestCode[bucket] = best;
      this.bestByContext.fill(best, BUCKET_START[bucket], BUCKET_START[bucket + 1]);
    }
    if (bestLength > state.wmTrigger) {
      for (let l = 0; l < NUM_CODES; l++) counters[base + l] >>>= 1;
    }
  }

  /** UPDATE_MODEL(index): learn from pixel `x`'s symbol in the context of pixel x - 1. */
  updateAt(state: CodingState, x: number): void {
    this.update(state, this.correlate[x]!, this.correlate[x + 1]!);
  }
}

/**
 * One coded plane of an image: the three colour channels (values packed 0x00RRGGBB, coded R, G, B)
 * or the alpha channel of RGBA (values 0..255). Each plane has its own pacing state.
 */
export interface Plane {
  readonly state: CodingState;
  readonly channels: readonly ChannelModel[];
  /** The previous and the current row of packed values. */
  prev: Uint32Array;
  cur: Uint32Array;
}

/** Update every channel's model of the plane at pixel x (quic.c's update_model for each channel). */
export function updateModels(p: Plane, x: number): void {
  for (const ch of p.channels) ch.updateAt(p.state, x);
}

/**
 * After pixel 0 of a segment, the same on both sides: count the wait down or update the models
 * and draw a new wait. Returns the wait.
 */
export function paceSegmentStart(p: Plane, x: number, waitmask: number): number {
  const s = p.state;
  if (s.waitcnt) {
    s.waitcnt--;
  } else {
    s.waitcnt = s.tabrand() & waitmask;
    updateModels(p, x);
  }
  return s.waitcnt;
}

/** Per-byte floor((a + b) / 2) of two packed values, without carries between bytes: the predictor. */
export function average(a: number, b: number): number {
  return (a & b) + (((a ^ b) & 0xfefefe) >>> 1);
}

/** Codes pixels [from, end) of the current row of `plane` with the given wait mask. */
export type SegmentCoder<T> = (plane: T, from: number, end: number, waitmask: number) => void;

/**
 * Split a row into segments at the points where the wait mask index grows (every 2048 symbols of a
 * state until index 6), as quic_tmpl.c compress_row / uncompress_row do. Both sides must split at
 * the same pixels: a segment boundary changes the wait mask and the halving trigger.
 */
export function codeRowInSegments<T>(state: CodingState, width: number, segment: SegmentCoder<T>, plane: T): void {
  let pos = 0;
  let left = width;
  while (WM_MAX_INDEX > state.wmidx && state.wmileft <= left) {
    if (state.wmileft) {
      segment(plane, pos, pos + state.wmileft, (1 << state.wmidx) - 1);
      left -= state.wmileft;
      pos += state.wmileft;
    }
    state.wmidx++;
    state.wmTrigger = wmTrigger(state.wmidx);
    state.wmileft = WM_NEXT;
  }
  if (left) {
    segment(plane, pos, pos + left, (1 << state.wmidx) - 1);
    if (WM_MAX_INDEX > state.wmidx) state.wmileft -= left;
  }
}
