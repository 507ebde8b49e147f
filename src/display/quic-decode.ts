/**
 * SPICE QUIC decoder for the types spiced produces: RGB32 (and RGB24, whose stream is the same) and
 * RGBA, into tightly packed BGRX pixels. The stream layout is described at the top of quic.ts; this
 * is the mirror image of that encoder (quic_tmpl.c uncompress_row0_seg / uncompress_row_seg).
 *
 * Errors are ProtocolError('BAD_IMAGE'): bad magic/version/type, a size the data cannot hold, a
 * stream that ends before the last pixel (the decoder reads one word ahead, like spice-gtk's), an
 * escape codeword for a value above 255, or a run past the end of its row segment. Words after the
 * last needed one are ignored, as spice-gtk does.
 */
import { HOST_IS_LE } from './host-endian.js';
import { ProtocolError } from '../protocol/errors.js';
import type { PixelImage } from './pixels.js';
import { checkPixelLimit, type ImageDecodeLimits } from './decode-limits.js';
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
  BPP_MASK,
  GR_COUNT,
  L2U,
  NOT_GR_CODE_LENGTH,
  NOT_GR_PREFIX_MASK,
  NOT_GR_SUFFIX_LENGTH,
  QUIC_HEADER_WORDS,
  QUIC_MAGIC,
  QUIC_MAX_PIXELS,
  QUIC_VERSION,
  QuicImageType,
} from './quic-tables.js';

export interface QuicDecoded {
  /** QuicImageType from the header (3 RGB24, 4 RGB32, 5 RGBA). */
  type: number;
  width: number;
  height: number;
  /** Tightly packed BGRX, top-down; the 4th byte is alpha for RGBA and 0 otherwise. */
  image: PixelImage;
}

function bad(message: string): ProtocolError {
  return new ProtocolError('BAD_IMAGE', `QUIC: ${message}`);
}

export function decodeQuic(data: Buffer, limits?: ImageDecodeLimits): QuicDecoded {
  if (data.length < (QUIC_HEADER_WORDS + 1) * 4)
    throw bad(`truncated: ${data.length} bytes, a stream needs at least ${(QUIC_HEADER_WORDS + 1) * 4}`);
  if (data.length % 4 !== 0) throw bad(`${data.length} bytes is not a whole number of 32-bit words`);
  const magic = data.readUInt32LE(0);
  if (magic !== QUIC_MAGIC) throw bad(`bad magic 0x${magic.toString(16)}, expected 0x${QUIC_MAGIC.toString(16)}`);
  const version = data.readUInt32LE(4);
  if (version !== QUIC_VERSION) throw bad(`unsupported version 0x${version.toString(16)}`);
  const type = data.readUInt32LE(8);
  const width = data.readUInt32LE(12);
  const height = data.readUInt32LE(16);
  if (type !== QuicImageType.Rgb32 && type !== QuicImageType.Rgb24 && type !== QuicImageType.Rgba) {
    throw bad(`unsupported image type ${type} (supported: 3 RGB24, 4 RGB32, 5 RGBA)`);
  }
  const withAlpha = type === QuicImageType.Rgba;
  checkSize(width, height, withAlpha ? 4 : 3, (data.length / 4 - QUIC_HEADER_WORDS) * 32);
  checkPixelLimit('QUIC', width, height, limits);
  const pixels = new QuicDecoder(data).decode(width, height, withAlpha);
  const bytes = Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  if (!HOST_IS_LE) bytes.swap32(); // the words hold 0xAARRGGBB values; memory must be B,G,R,A
  return { type, width, height, image: { width, height, stride: width * 4, data: bytes } };
}

/**
 * Refuse sizes the data cannot describe before allocating the image: every symbol of row 0, and the
 * first three pixels of every later row (a run can only start at the fourth), take at least one bit
 * per channel.
 */
function checkSize(width: number, height: number, channels: number, bits: number): void {
  if (width === 0 || height === 0) throw bad(`empty image ${width}x${height}`);
  if (width * height > QUIC_MAX_PIXELS) throw bad(`${width}x${height} is too large`);
  const minBits = channels * (width + (height - 1) * Math.min(width, 3));
  if (minBits > bits) throw bad(`truncated: ${width}x${height} needs at least ${minBits} bits, the stream has ${bits}`);
}

class QuicDecoder {
  private readonly red = new ChannelModel();
  private readonly green = new ChannelModel();
  private readonly blue = new ChannelModel();
  private readonly alpha = new ChannelModel();
  /**
   * The bit window: [0] the 32 bits at the read position, MSB first (quic.c io_word); [1] the word
   * the window ends in, of which `avail` low bits are not in the window yet. In an Int32Array, not
   * in two number fields: Chromium builds V8 with pointer compression, where a small integer is 31
   * bits, so a 32-bit word in a field is a heap number, boxed at every store; Node's V8 has 32-bit
   * small integers. As fields, the page's decoder (worker or main thread) took twice Node's time for
   * a 1024x768 photo, 11 % of it in the garbage collector (docs/performance.md, "QUIC in the page").
   */
  private readonly win = new Int32Array(2);
  private avail = 0;
  private nextIndex = QUIC_HEADER_WORDS + 1;
  private readonly wordCount: number;
  /** The stream as a plain Uint8Array (in the page, a Buffer is the `buffer` package's subclass). */
  private readonly bytes: Uint8Array;

  constructor(data: Buffer) {
    this.bytes = new Uint8Array(data.buffer, data.byteOffset, data.length);
    this.wordCount = data.length / 4;
    this.win[0] = this.win[1] = this.wordAt(QUIC_HEADER_WORDS);
  }

  /** Stream word `i`, little-endian, as a signed 32-bit value (what the window holds). */
  private wordAt(i: number): number {
    const b = this.bytes;
    const o = i * 4;
    return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
  }

  decode(width: number, height: number, withAlpha: boolean): Uint32Array {
    const out = new Uint32Array(width * height);
    const rgb = plane([this.red, this.green, this.blue], width);
    const alpha = withAlpha ? plane([this.alpha], width) : undefined;
    for (let y = 0; y < height; y++) {
      for (const p of alpha ? [rgb, alpha] : [rgb]) {
        [p.prev, p.cur] = [p.cur, p.prev];
        if (y > 0) for (const ch of p.channels) ch.startRow();
      }
      codeRowInSegments(rgb.state, width, y === 0 ? this.firstRowSegment : this.rowSegment, rgb);
      if (alpha) codeRowInSegments(alpha.state, width, y === 0 ? this.firstRowSegment : this.rowSegment, alpha);
      const row = y * width;
      if (alpha) for (let x = 0; x < width; x++) out[row + x] = (rgb.cur[x]! | (alpha.cur[x]! << 24)) >>> 0;
      else out.set(rgb.cur, row);
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Row decoding: the same control flow as the encoder's, reading instead of writing.

  private readonly firstRowSegment = (p: Plane, i: number, end: number, waitmask: number): void => {
    const s = p.state;
    const cur = p.cur;
    let stop: number;
    if (i === 0) {
      cur[0] = this.decodePixel(p, 0, 0);
      stop = ++i + paceSegmentStart(p, 0, waitmask);
    } else {
      stop = i + s.waitcnt;
    }
    while (stop < end) {
      for (; i <= stop; i++) cur[i] = this.decodePixel(p, i, cur[i - 1]!);
      updateModels(p, stop);
      stop = i + (s.tabrand() & waitmask);
    }
    for (; i < end; i++) cur[i] = this.decodePixel(p, i, cur[i - 1]!);
    s.waitcnt = stop - end;
  };

  private readonly rowSegment = (p: Plane, i: number, end: number, waitmask: number): void => {
    const s = p.state;
    const { cur, prev } = p;
    let stop: number;
    let runIndex = 0;
    if (i === 0) {
      cur[0] = this.decodePixel(p, 0, prev[0]!);
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
          cur[i] = this.decodePixel(p, i, average(cur[i - 1]!, prev[i]!));
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
          cur[i] = this.decodePixel(p, i, average(cur[i - 1]!, prev[i]!));
        }
        if (!run) {
          s.waitcnt = stop - end;
          return;
        }
      }
      runIndex = i;
      s.waitcnt = stop - i;
      const length = this.decodeRun(s);
      if (length > end - i) throw bad(`run of ${length} pixels at x=${i} overruns its row segment (ends at ${end})`);
      cur.fill(cur[i - 1]!, i, i + length);
      i += length;
      if (i === end) return;
      stop = i + s.waitcnt;
    }
  };

  /** Decode every channel of pixel x and add the prediction; returns the packed value. */
  private decodePixel(p: Plane, x: number, predicted: number): number {
    if (p.channels.length === 3) {
      // Unrolled R, G, B: the hot path.
      const r = (L2U[this.decodeSymbol(this.red, x)]! + (predicted >>> 16)) & 0xff;
      const g = (L2U[this.decodeSymbol(this.green, x)]! + (predicted >>> 8)) & 0xff;
      const b = (L2U[this.decodeSymbol(this.blue, x)]! + predicted) & 0xff;
      return (r << 16) | (g << 8) | b;
    }
    return (L2U[this.decodeSymbol(this.alpha, x)]! + predicted) & 0xff;
  }

  /** One Golomb-Rice (or escape) codeword with the parameter chosen by the context of pixel x. */
  private decodeSymbol(ch: ChannelModel, x: number): number {
    const corr = ch.correlate;
    const l = ch.bestByContext[corr[x]!]!;
    const bits = this.win[0]! >>> 0;
    let symbol: number;
    let length: number;
    if (bits > NOT_GR_PREFIX_MASK[l]!) {
      const zeros = Math.clz32(bits);
      length = zeros + 1 + l;
      symbol = (zeros << l) | ((bits >>> (32 - length)) & BPP_MASK[l]!);
    } else {
      length = NOT_GR_CODE_LENGTH[l]!;
      symbol = GR_COUNT[l]! + ((bits >>> (32 - length)) & BPP_MASK[NOT_GR_SUFFIX_LENGTH[l]!]!);
      if (symbol > 0xff) throw bad(`escape codeword for value ${symbol} (above 255) near word ${this.nextIndex - 1}`);
    }
    corr[x + 1] = symbol;
    this.eat(length);
    return symbol;
  }

  /** MELCODE run length (quic.c decode_state_run): 1 bits, each worth melcOrder pixels, a 0, the remainder. */
  private decodeRun(s: CodingState): number {
    let length = 0;
    for (;;) {
      const ones = Math.min(8, Math.clz32(~this.win[0]!));
      for (let hit = 0; hit < ones; hit++) {
        length += s.melcOrder;
        s.melcHit();
      }
      if (ones !== 8) {
        this.eat(ones + 1);
        break;
      }
      this.eat(8);
    }
    if (s.melcLen) {
      length += this.win[0]! >>> (32 - s.melcLen);
      this.eat(s.melcLen);
    }
    s.melcEnd();
    return length;
  }

  /** Advance the window by `length` (1..31) bits: the common case, small enough to be inlined. */
  private eat(length: number): void {
    const win = this.win;
    win[0] <<= length;
    const delta = this.avail - length;
    if (delta >= 0) {
      this.avail = delta;
      win[0] |= win[1]! >>> delta;
    } else {
      this.refill(delta);
    }
  }

  /** The window runs past the word it ends in: `-delta` bits of it are left, then the next word's. */
  private refill(delta: number): void {
    const win = this.win;
    win[0] |= win[1]! << -delta;
    if (this.nextIndex >= this.wordCount)
      throw bad(`truncated: the stream ends after ${this.wordCount} words, before the last pixel`);
    win[1] = this.wordAt(this.nextIndex++);
    this.avail = 32 + delta;
    win[0] |= win[1]! >>> this.avail;
  }
}

function plane(channels: ChannelModel[], width: number): Plane {
  for (const ch of channels) ch.reset(width);
  return { state: new CodingState(), channels, prev: new Uint32Array(width), cur: new Uint32Array(width) };
}
