/**
 * SPICE QUIC encoder: the payload of a QUIC image (SpiceImage type 1, after its u32 data_size), a
 * lossless predictive Golomb-Rice codec that spice-gtk and spice-html5 both decode. It compresses
 * photographic content much better than SPICE LZ; flat UI content is LZ's job (image-choice.ts).
 *
 * Stream layout (spice-common quic.c / quic_tmpl.c semantics), a sequence of 32-bit LITTLE-endian
 * words:
 *
 *   header, five words: magic 0x43495551 ("QUIC") | version 0 | QuicImageType (4 RGB32, 5 RGBA)
 *                       | width | height
 *   body:   one bit stream, written MSB first into each word, rows top-down:
 *     row 0:  RGB channels of all pixels, then (RGBA) the alpha channel of all pixels
 *     row y:  the same, each channel predicted from the pixel to the left and the one above
 *   then zero bits up to the end of the word, and one more zero word: the decoder reads a word
 *   ahead of the bits it consumes, so the stream must extend one word past the last coded bit.
 *
 *   For each channel value the coder sends the prediction residual, folded to 0..255 (U2L: 0, -1,
 *   1, -2 ...), with a Golomb-Rice code whose parameter l = 0..7 comes from the bucket of the
 *   previous symbol of that channel; codes longer than 26 bits become an escape codeword.
 *   Prediction: row 0: left pixel (0 for pixel 0); other rows: pixel 0 from above, pixel x from
 *   (left + above) >> 1. RGB pixels code R, G, B interleaved; the X byte is not sent (RGB32).
 *   Runs (rows after the first): where the two pixels above-left and above are equal and the two
 *   pixels to the left are equal, a run length of pixels equal to the left one is sent instead
 *   (MELCODE: one 1 bit per 2^J[state] pixels, then a 0 and the remainder in J[state] bits).
 *   Model updates (which parameter is best per bucket) happen after pseudo-randomly spaced symbols
 *   (TABRAND_CHAOS), more sparsely as coding proceeds; rows are split where the spacing changes.
 *
 * The decoder (quic-decode.ts) and spice-html5's quic.js replay the same model, so every detail of
 * the pacing (including quic.c's quirks, e.g. contexts left stale by runs) is reproduced exactly.
 */
import { HOST_IS_LE } from './host-endian.js';
import type { PixelImage } from './pixels.js';
import {
  average,
  CodingState,
  ChannelModel,
  codeRowInSegments,
  paceSegmentStart,
  updateModels,
  type Plane,
} from './quic-model.js';
import {
  GOLOMB_CODE_LENGTH,
  QUIC_HEADER_WORDS,
  QUIC_MAGIC,
  QUIC_MAX_PIXELS,
  QUIC_VERSION,
  QuicImageType,
  U2L,
} from './quic-tables.js';

export { QUIC_MAGIC, QUIC_VERSION, QuicImageType } from './quic-tables.js';

export interface QuicEncodeOptions {
  /** 'rgb32' (default) ignores the X byte; 'rgba' also codes it as alpha (QUIC type 5). */
  type?: 'rgb32' | 'rgba';
}

/**
 * Worst case bits per pixel: the longest codeword per channel, plus run codes per plane. A run's 1 bits
 * each cover at least one pixel that is then not coded, and its end costs at most 16 bits; an empty
 * run is followed by a coded pixel that differs from its left neighbour, so no run starts right
 * after it: at most 16 bits per 2 pixels.
 */
const MAX_BITS_PER_SYMBOL = 26;
const MAX_RUN_BITS_PER_PIXEL = 9;

class QuicEncoder {
  private words = new Uint32Array(1 << 16);
  private pos = 0;
  /** Bits not yet stored, MSB-aligned in `acc`; `free` low bits of acc are still empty. */
  private acc = 0;
  private free = 32;
  private readonly red = new ChannelModel();
  private readonly green = new ChannelModel();
  private readonly blue = new ChannelModel();
  private readonly alpha = new ChannelModel();
  private rows: Uint32Array[] = [];

  encode(img: PixelImage, withAlpha: boolean): Buffer {
    const { width, height } = img;
    const rgb = this.plane([this.red, this.green, this.blue], width, 0);
    const alpha = withAlpha ? this.plane([this.alpha], width, 2) : undefined;
    const maxWordsPerRow =
      Math.ceil((width * ((withAlpha ? 4 : 3) * MAX_BITS_PER_SYMBOL + 2 * MAX_RUN_BITS_PER_PIXEL)) / 32) + 4;
    this.startStream(withAlpha ? QuicImageType.Rgba : QuicImageType.Rgb32, width, height);

    for (let y = 0; y < height; y++) {
      for (const p of alpha ? [rgb, alpha] : [rgb]) {
        [p.prev, p.cur] = [p.cur, p.prev];
        if (y > 0) for (const ch of p.channels) ch.startRow();
      }
      gatherRow(img, y, rgb.cur, alpha?.cur);
      this.ensureRoom(maxWordsPerRow);
      codeRowInSegments(rgb.state, width, y === 0 ? this.firstRowSegment : this.rowSegment, rgb);
      if (alpha) codeRowInSegments(alpha.state, width, y === 0 ? this.firstRowSegment : this.rowSegment, alpha);
    }
    return this.finishStream();
  }

  /** A plane with fresh state, its channel models reset, rows taken from the reusable pool. */
  private plane(channels: ChannelModel[], width: number, firstRow: number): Plane {
    for (const ch of channels) ch.reset(width);
    for (const i of [firstRow, firstRow + 1]) {
      const row = this.rows[i];
      if (!row || row.length < width) this.rows[i] = new Uint32Array(width);
    }
    return { state: new CodingState(), channels, prev: this.rows[firstRow]!, cur: this.rows[firstRow + 1]! };
  }

  // ---------------------------------------------------------------------------------------------
  // Row coding (quic_tmpl.c compress_row0_seg / compress_row_seg)

  /** Row 0: each pixel predicted from its left neighbour, pixel 0 from 0; no runs. */
  private readonly firstRowSegment = (p: Plane, i: number, end: number, waitmask: number): void => {
    const s = p.state;
    const cur = p.cur;
    let stop: number;
    if (i === 0) {
      this.codePixel(p, 0, cur[0]!, 0);
      stop = ++i + paceSegmentStart(p, 0, waitmask);
    } else {
      stop = i + s.waitcnt;
    }
    while (stop < end) {
      for (; i <= stop; i++) this.codePixel(p, i, cur[i]!, cur[i - 1]!);
      updateModels(p, stop);
      stop = i + (s.tabrand() & waitmask);
    }
    for (; i < end; i++) this.codePixel(p, i, cur[i]!, cur[i - 1]!);
    s.waitcnt = stop - end;
  };

  /** Other rows: pixel 0 predicted from above, others from (left + above) >> 1, with runs. */
  private readonly rowSegment = (p: Plane, i: number, end: number, waitmask: number): void => {
    const s = p.state;
    const { cur, prev } = p;
    let stop: number;
    let runIndex = 0;
    if (i === 0) {
      this.codePixel(p, 0, cur[0]!, prev[0]!);
      stop = ++i + paceSegmentStart(p, 0, waitmask);
    } else {
      stop = i + s.waitcnt;
    }
    for (;;) {
      let run = false;
      paced: while (stop < end) {
        for (; i <= stop; i++) {
          if (prev[i - 1] === prev[i] && runIndex !== i && i > 2 && cur[i - 1] === cur[i - 2]) {
            run = true;
            break paced;
          }
          this.codePixel(p, i, cur[i]!, average(cur[i - 1]!, prev[i]!));
        }
        updateModels(p, stop);
        stop = i + (s.tabrand() & waitmask);
      }
      if (!run) {
        for (; i < end; i++) {
          if (prev[i - 1] === prev[i] && runIndex !== i && i > 2 && cur[i - 1] === cur[i - 2]) {
            run = true;
            break;
          }
          this.codePixel(p, i, cur[i]!, average(cur[i - 1]!, prev[i]!));
        }
        if (!run) {
          s.waitcnt = stop - end;
          return;
        }
      }
      // A run of pixels equal to the left one starts at i (possibly empty). The symbols and contexts
      // of the pixels it covers are not updated, exactly as in quic.c.
      runIndex = i;
      s.waitcnt = stop - i;
      const value = cur[i - 1]!;
      let length = 0;
      while (cur[i] === value) {
        length++;
        if (++i === end) {
          this.encodeRun(s, length);
          return;
        }
      }
      this.encodeRun(s, length);
      stop = i + s.waitcnt;
    }
  };

  /** Code every channel of pixel x: the residual against `predicted` (same packing as `value`). */
  private codePixel(p: Plane, x: number, value: number, predicted: number): void {
    if (p.channels.length === 3) {
      // Unrolled R, G, B: the hot path.
      this.codeSymbol(this.red, x, (value >>> 16) - (predicted >>> 16));
      this.codeSymbol(this.green, x, (value >>> 8) - (predicted >>> 8));
      this.codeSymbol(this.blue, x, value - predicted);
    } else {
      this.codeSymbol(this.alpha, x, value - predicted);
    }
  }

  /** Code one channel's residual (only its low 8 bits count) in the context of pixel x - 1's symbol. */
  private codeSymbol(ch: ChannelModel, x: number, residual: number): void {
    const corr = ch.correlate;
    const symbol = U2L[residual & 0xff]!;
    corr[x + 1] = symbol;
    const entry = GOLOMB_CODE_LENGTH[(symbol << 3) | ch.bestByContext[corr[x]!]!]!;
    this.put(entry >>> 5, entry & 31);
  }

  /** MELCODE a run length (quic.c encode_state_run). */
  private encodeRun(s: CodingState, length: number): void {
    let hits = 0;
    while (length >= s.melcOrder) {
      hits++;
      length -= s.melcOrder;
      s.melcHit();
    }
    for (; hits >= 16; hits -= 16) this.put(0xffff, 16);
    if (hits) this.put((1 << hits) - 1, hits);
    this.put(length, s.melcLen + 1); // a 0 bit, then the remainder in melcLen bits
    s.melcEnd();
  }

  // ---------------------------------------------------------------------------------------------
  // Bit output: MSB first into 32-bit words.

  private put(code: number, length: number): void {
    const free = this.free - length;
    if (free >= 0) {
      this.acc |= code << free;
      this.free = free;
      return;
    }
    this.words[this.pos++] = this.acc | (code >>> -free);
    this.free = free + 32;
    this.acc = code << this.free;
  }

  /** Called before each row with its worst case, so that put() needs no bound check. */
  private ensureRoom(words: number): void {
    // Typed-array writes past the end are dropped silently, so a violated bound shows up only here.
    if (this.pos > this.words.length)
      throw new Error(`encodeQuic: internal error, wrote ${this.pos} words into ${this.words.length}`);
    if (this.pos + words <= this.words.length) return;
    const grown = new Uint32Array(Math.max(this.words.length * 2, this.pos + words));
    grown.set(this.words.subarray(0, this.pos));
    this.words = grown;
  }

  private startStream(type: number, width: number, height: number): void {
    this.pos = 0;
    this.acc = 0;
    this.free = 32;
    this.ensureRoom(QUIC_HEADER_WORDS);
    for (const word of [QUIC_MAGIC, QUIC_VERSION, type, width, height]) this.words[this.pos++] = word;
  }

  /** Pad the last word with zeros and add the zero word the decoder's read-ahead needs (quic.c flush). */
  private finishStream(): Buffer {
    this.ensureRoom(2);
    if (this.free < 32) this.words[this.pos++] = this.acc;
    this.words[this.pos++] = 0;
    const bytes = Buffer.from(this.words.buffer, this.words.byteOffset, this.pos * 4);
    const out = Buffer.from(bytes); // a copy: the word buffer is reused by the next call
    if (!HOST_IS_LE) out.swap32();
    return out;
  }
}

/** Row y as packed 0x00RRGGBB values (and the X byte into `alpha` when given). */
function gatherRow(img: PixelImage, y: number, rgb: Uint32Array, alpha: Uint32Array | undefined): void {
  const { width, stride, data } = img;
  const start = y * stride;
  if (HOST_IS_LE && (data.byteOffset + start) % 4 === 0) {
    const src = new Uint32Array(data.buffer, data.byteOffset + start, width);
    for (let x = 0; x < width; x++) rgb[x] = src[x]! & 0xffffff;
    if (alpha) for (let x = 0; x < width; x++) alpha[x] = src[x]! >>> 24;
    return;
  }
  for (let x = 0; x < width; x++) rgb[x] = data.readUIntLE(start + 4 * x, 3);
  if (alpha) for (let x = 0; x < width; x++) alpha[x] = data[start + 4 * x + 3]!;
}

function checkImage(img: PixelImage): void {
  const { width, height, stride, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`encodeQuic: image must be at least 1x1, got ${width}x${height}`);
  }
  if (width * height > QUIC_MAX_PIXELS)
    throw new RangeError(`encodeQuic: ${width}x${height} is more than spice-common accepts`);
  if (!Number.isInteger(stride) || stride < width * 4)
    throw new RangeError(`encodeQuic: stride ${stride} < 4 * width ${width}`);
  const needed = stride * (height - 1) + width * 4;
  if (data.length < needed)
    throw new RangeError(`encodeQuic: ${data.length} data bytes, ${width}x${height} stride ${stride} needs ${needed}`);
}

// One encoder reused across calls: encodeQuic is synchronous, so no two calls share it at once, and
// reusing its word buffer keeps a live encoder from allocating megabytes per frame.
const encoder = new QuicEncoder();

export function encodeQuic(img: PixelImage, opts: QuicEncodeOptions = {}): Buffer {
  const type = opts.type ?? 'rgb32';
  if (type !== 'rgb32' && type !== 'rgba') throw new RangeError(`encodeQuic: unknown type ${String(type)}`);
  checkImage(img);
  return encoder.encode(img, type === 'rgba');
}
