/**
 * SPICE LZ4 images (SpiceImage type 109): an encoder for photographic content sent to viewers that
 * decode QUIC slowly (a browser decodes QUIC in JavaScript at some 30 MB/s, LZ4 near memory speed)
 * over links fast enough for the bigger payload.
 *
 * Payload (inside the image's u32 data_size): u8 top_down, u8 SpiceBitmapFmt, then blocks, each a
 * BIG-endian u32 compressed length followed by a raw LZ4 block (the block format, not the frame
 * format). A decoder decodes the blocks one after the other into one contiguous output (a block may
 * refer back into earlier ones); the output is the rows packed at width x bytes per pixel.
 *
 * This encoder writes one block of 24-bit B,G,R pixels (SpiceBitmapFmt 24BIT: a photo's X byte would
 * be a quarter of the payload for nothing). It works on whole pixels: a hash of two pixels finds a
 * match candidate, matches are whole pixels at whole-pixel offsets, and as in the reference LZ4 each
 * miss lengthens the step to the next probe (1 more pixel every 64 misses), so content without
 * repeats (a photo) costs few probes and is sent almost entirely as literals, at memory speed.
 *
 * LZ4 block sequence: token (high nibble literal length, low nibble match length - 4; 15 means more
 * length bytes follow, each added, until one is below 255), the literals, a u16 little-endian offset,
 * the match length bytes. The last sequence has literals only; the last 5 bytes of a block are
 * literals and the last match starts at least 12 bytes before its end.
 */
import { BitmapFormat } from '../protocol/constants.js';
import { HOST_IS_LE } from './host-endian.js';
import { packedImage, pixelWords, type PixelImage } from './pixels.js';

/** Bytes per pixel on the wire (24BIT). */
const BYTES = 3;
/** LZ4's minimum match, and the nibble values that say "more length bytes follow". */
const MIN_MATCH = 4;
const RUN_MASK = 15;
/** The last match must start this many bytes before the block's end (LZ4 MFLIMIT)... */
const MF_LIMIT = 12;
/** ...and end at least this many bytes before it (LZ4 LASTLITERALS). */
const LAST_LITERALS = 5;
/** Largest offset a sequence can carry, in whole pixels. */
const MAX_OFFSET_PIXELS = Math.floor(0xffff / BYTES);
/** Hash table of 2^16 slots, indexed by a hash of two consecutive pixels. */
const HASH_BITS = 16;
/** Misses before the probe step grows by one pixel (LZ4's skip trigger). */
const SKIP_TRIGGER = 6;

/** Largest payload for `pixels` pixels: 2 header bytes, the block length, LZ4's worst-case bound. */
function payloadBound(pixels: number): number {
  const raw = pixels * BYTES;
  return 2 + 4 + raw + Math.ceil(raw / 255) + 16;
}

/** The LZ4 image payload of `img` (after data_size), top-down 24BIT. */
export function encodeLz4(img: PixelImage): Buffer {
  const packed = packedImage(img);
  const words = (HOST_IS_LE && pixelWords(packed)) || littleEndianWords(packed.data);
  const n = img.width * img.height;
  const out = Buffer.allocUnsafe(payloadBound(n));
  out[0] = 1; // top-down
  out[1] = BitmapFormat.Bit24;
  const end = new Lz4PixelWriter(words, out, 6).encode(n);
  out.writeUInt32BE(end - 6, 2);
  return out.subarray(0, end);
}

/** The pixels as 0xXXRRGGBB words wherever the buffer sits and whatever the host's byte order. */
function littleEndianWords(data: Buffer): Uint32Array {
  const words = new Uint32Array(data.length >> 2);
  for (let k = 0; k < words.length; k++) words[k] = data.readUInt32LE(k * 4);
  return words;
}

/** One LZ4 block of 24-bit pixels from 32-bit words (the X byte is never sent nor compared). */
class Lz4PixelWriter {
  private readonly table = new Int32Array(1 << HASH_BITS).fill(-1);

  constructor(
    private readonly words: Uint32Array,
    private readonly out: Buffer,
    private pos: number,
  ) {}

  /** Encode pixels [0, n); returns the end of the block in `out`. */
  encode(n: number): number {
    const w = this.words;
    const table = this.table;
    // A match starts at or before `lastStart` and ends at or before `lastEnd` (MF_LIMIT, LAST_LITERALS).
    const lastStart = Math.floor((n * BYTES - MF_LIMIT) / BYTES);
    const lastEnd = Math.floor((n * BYTES - LAST_LITERALS) / BYTES);
    let anchor = 0;
    let i = 1;
    let misses = 1 << SKIP_TRIGGER;
    while (i <= lastStart) {
      const a = w[i]! & 0xffffff;
      const b = w[i + 1]! & 0xffffff;
      const h = Math.imul(a ^ Math.imul(b, 0x9e3779b1), 0x85ebca6b) >>> (32 - HASH_BITS);
      const j = table[h]!;
      table[h] = i;
      if (j < 0 || i - j > MAX_OFFSET_PIXELS || ((w[j]! ^ a) & 0xffffff) !== 0 || ((w[j + 1]! ^ b) & 0xffffff) !== 0) {
        i += misses++ >> SKIP_TRIGGER;
        continue;
      }
      // Grow the match backwards over pending literals, then forwards.
      let start = i;
      let from = j;
      while (start > anchor && from > 0 && ((w[start - 1]! ^ w[from - 1]!) & 0xffffff) === 0) {
        start--;
        from--;
      }
      let len = i + 2 - start;
      while (start + len < lastEnd && ((w[start + len]! ^ w[from + len]!) & 0xffffff) === 0) len++;
      this.sequence(anchor, start, len, start - from);
      anchor = start + len;
      // The pixel pair just before the new anchor, so that a repeat of what follows is found.
      const k = anchor - 2;
      table[
        Math.imul((w[k]! & 0xffffff) ^ Math.imul(w[k + 1]! & 0xffffff, 0x9e3779b1), 0x85ebca6b) >>> (32 - HASH_BITS)
      ] = k;
      i = anchor;
      misses = 1 << SKIP_TRIGGER;
    }
    this.lastLiterals(anchor, n);
    return this.pos;
  }

  /** Literals [anchor, start), then a match of `len` pixels `offset` pixels back. */
  private sequence(anchor: number, start: number, len: number, offset: number): void {
    const literalBytes = (start - anchor) * BYTES;
    const matchExtra = len * BYTES - MIN_MATCH;
    const out = this.out;
    out[this.pos++] = (Math.min(literalBytes, RUN_MASK) << 4) | Math.min(matchExtra, RUN_MASK);
    if (literalBytes >= RUN_MASK) this.length(literalBytes - RUN_MASK);
    this.literals(anchor, start);
    const o = offset * BYTES;
    out[this.pos++] = o & 0xff;
    out[this.pos++] = o >>> 8;
    if (matchExtra >= RUN_MASK) this.length(matchExtra - RUN_MASK);
  }

  /** The closing sequence: literals [anchor, n) and no match. */
  private lastLiterals(anchor: number, n: number): void {
    const literalBytes = (n - anchor) * BYTES;
    this.out[this.pos++] = Math.min(literalBytes, RUN_MASK) << 4;
    if (literalBytes >= RUN_MASK) this.length(literalBytes - RUN_MASK);
    this.literals(anchor, n);
  }

  /** A length's continuation: 255 per full step, then the rest (possibly 0). */
  private length(rest: number): void {
    const out = this.out;
    for (; rest >= 255; rest -= 255) out[this.pos++] = 255;
    out[this.pos++] = rest;
  }

  /** Pixels [from, to) as B,G,R bytes. */
  private literals(from: number, to: number): void {
    const w = this.words;
    const out = this.out;
    let p = this.pos;
    for (let x = from; x < to; x++) {
      const v = w[x]!;
      out[p] = v & 0xff;
      out[p + 1] = (v >>> 8) & 0xff;
      out[p + 2] = (v >>> 16) & 0xff;
      p += 3;
    }
    this.pos = p;
  }
}
