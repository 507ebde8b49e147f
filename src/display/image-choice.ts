/**
 * Which lossless codec suits an image: SPICE LZ for UI content (flat areas, text, repeats) or QUIC
 * for photographic content (smooth gradients, many colours, few exact repeats), decided from a quick
 * sample of the pixels instead of encoding twice.
 *
 * The sample estimates what each codec pays per pixel:
 *   - a pixel equal to its left neighbour is nearly free for both (an LZ run; a QUIC run or three
 *     1-bit codes), though QUIC's runs cost several times LZ's: all-flat images stay LZ;
 *   - otherwise LZ pays about a 3-byte literal, unless the pixel repeats the one above (LZ can match
 *     the previous row), while QUIC pays a Golomb code per channel of about bitlength(residual) + 1
 *     bits, the residual being QUIC's own prediction error against (left + above) / 2.
 * Photos have small residuals and no repeats (QUIC about half of LZ); text and UI edges have large
 * residuals, which QUIC pays in full while LZ still finds glyph repeats, so LZ keeps ties.
 */
import { pixelWords, type PixelImage } from './pixels.js';

export type PhotoCodec = 'lz' | 'quic';

/**
 * How images travel to a viewer, all lossless. `auto` (the default) sends photographic images as
 * QUIC and everything else as SPICE LZ, like spice-server's auto mode; `lz` and `quic` force one
 * codec; `off` sends uncompressed 32-bit bitmaps (stride = 4 x width, as html5 needs). `lz4` is
 * `auto` with photos as LZ4 instead of QUIC: about twice QUIC's bytes, but encoded and decoded
 * several times faster (a browser decodes QUIC in JavaScript at some 30 MB/s), so a viewer on a
 * fast link sees a photo sooner; only for viewers that announce LZ4 and ask for it, and only while
 * their link is fast (lz4Pays; `auto` otherwise).
 */
export type ImageCompression = 'auto' | 'lz' | 'quic' | 'off' | 'lz4';

/** What one image is encoded as. */
export type ImageCodec = 'lz' | 'quic' | 'lz4' | 'off';

/** The server-wide choices (--image-compression): `lz4` is a viewer's own request, not for every viewer. */
const SERVER_COMPRESSIONS: readonly ImageCompression[] = ['auto', 'lz', 'quic', 'off'];

export function parseImageCompression(s: string): ImageCompression {
  if ((SERVER_COMPRESSIONS as readonly string[]).includes(s)) return s as ImageCompression;
  throw new Error(`unknown image compression "${s}" (expected ${SERVER_COMPRESSIONS.join('|')})`);
}

/**
 * A viewer's link as the server estimates it (channel-core's LinkEstimate figures): bytes per
 * second, whether that was measured on a full link or is still the starting assumption, and the
 * least round trip in ms once known (the path's delay: the smoothed one grows with queues and load,
 * 6 ms on a loaded machine's loopback).
 */
export interface LinkView {
  bandwidth: number;
  measured: boolean;
  minRttMs: number | undefined;
}

/**
 * A full-screen photo is about 1 MB more as LZ4 than as QUIC (1.8-2.4 MB against 1.0 at 1024x768)
 * and saves about 100 ms of CPU (the encode, and above all a browser's QUIC decode): LZ4 pays on a
 * link that carries that megabyte in well under 100 ms, 100 Mbit/s and up.
 */
const LZ4_MIN_BANDWIDTH = 100e6 / 8;
/** A link not measured yet (never seen full) is taken for a LAN or this host under this round trip. */
const LZ4_LAN_RTT_MS = 2;

/** True while `link` is fast enough for photos as LZ4 (see LZ4_MIN_BANDWIDTH). */
export function lz4Pays(link: LinkView): boolean {
  if (link.measured) return link.bandwidth >= LZ4_MIN_BANDWIDTH;
  return link.minRttMs !== undefined && link.minRttMs < LZ4_LAN_RTT_MS;
}

/** The codec `img` travels in to a viewer taking `compression`: the one place that decides it. */
export function chooseImageCodec(img: PixelImage, compression: ImageCompression): ImageCodec {
  if (compression === 'auto') return choosePhotoCodec(img);
  if (compression === 'lz4') return choosePhotoCodec(img) === 'quic' ? 'lz4' : 'lz';
  return compression;
}

/** Below this many pixels the image stays LZ: QUIC's model needs pixels to learn, LZ is cheaper to set up. */
export const MIN_QUIC_PIXELS = 32 * 32;
/** About this many sampled pixels, spread over the whole image. */
const TARGET_SAMPLES = 4096;
/** QUIC must be estimated at most this fraction of LZ: ties go to LZ (faster, and it finds far repeats). */
const QUIC_ADVANTAGE = 0.7;

/** Estimated bits per LZ literal pixel (3 bytes plus a share of the run's control byte). */
const LZ_LITERAL_BITS = 25;
/** A pixel LZ covers with a match of the row above. */
const LZ_MATCHED_BITS = 1;
/** A pixel equal to its left neighbour, in an LZ run (a few bytes per run of hundreds of pixels). */
const LZ_RUN_BITS = 0.05;
/**
 * A pixel equal to its left neighbour: QUIC codes it in a run when the row above is flat there too,
 * but pays every row's first pixels and run codes, about 0.3 bits per pixel of a blank screen
 * (xterm-type.png: QUIC 33.5 KB, LZ 8.5 KB); otherwise three 1-bit codes.
 */
const QUIC_RUN_BITS = 0.3;
const QUIC_FLAT_BITS = 3;
/**
 * A pixel this close to its left neighbour in every channel is a smooth step. Among the pixels of
 * a grainless pan across XFCE's gradient wallpaper that differ from their left neighbour, 98 % step
 * at most 6; terminals, xclock and an office recording 0-7 %.
 */
const SMOOTH_STEP = 6;

export interface CodecEstimate {
  /** Pixels sampled. */
  samples: number;
  /** Of which equal to their left neighbour. */
  flat: number;
  /**
   * Of the others, those within SMOOTH_STEP of their left neighbour in every channel: gradients,
   * fades, soft shadows (graduality, as spice-server calls it); text and UI edges step far more.
   */
  smooth: number;
  /** Estimated bits for the sampled pixels. */
  lzBits: number;
  quicBits: number;
}

/** 'quic' for photographic content, 'lz' for UI content and small images. */
export function choosePhotoCodec(img: PixelImage): PhotoCodec {
  if (img.width * img.height < MIN_QUIC_PIXELS || img.width < 4 || img.height < 4) return 'lz';
  const e = sharedCodecEstimate(img);
  return e.quicBits < QUIC_ADVANTAGE * e.lzBits ? 'quic' : 'lz';
}

const estimates = new WeakMap<PixelImage, CodecEstimate>();

/**
 * estimateCodecCosts of an image that never changes (a source's copy: the seam's rule), computed
 * once: the video detector judges every copy and the codec choice judges the same image again
 * when it is encoded. Not for a surface, whose pixels change under the same object.
 */
export function sharedCodecEstimate(img: PixelImage): CodecEstimate {
  let e = estimates.get(img);
  if (!e) {
    e = estimateCodecCosts(img);
    estimates.set(img, e);
  }
  return e;
}

/** Sample about 4096 pixels on a grid (skipping row 0 and column 0) and estimate both codecs' cost. */
export function estimateCodecCosts(img: PixelImage): CodecEstimate {
  const { width, height, stride, data } = img;
  if (width < 2 || height < 2) return { samples: 0, flat: 0, smooth: 0, lzBits: 0, quicBits: 0 };
  // A grid with the image's aspect ratio; odd column steps keep it from locking onto patterns
  // whose period is a power of two (glyph cells, dithering).
  const step = Math.max(1, Math.sqrt(((width - 1) * (height - 1)) / TARGET_SAMPLES));
  const xStep = Math.max(1, Math.floor(step) | 1);
  const yStep = Math.max(1, Math.round(step));
  const words = pixelWords(img);
  if (words) return sampleWords(words, width, height, stride >> 2, xStep, yStep);
  const estimate: CodecEstimate = { samples: 0, flat: 0, smooth: 0, lzBits: 0, quicBits: 0 };
  for (let y = 1; y < height; y += yStep) {
    const row = y * stride;
    const above = row - stride;
    // Stagger the columns from row to row so that vertical structures are not always missed.
    for (let x = 1 + (y % xStep); x < width; x += xStep) samplePixel(data, row + 4 * x, above + 4 * x, estimate);
  }
  return estimate;
}

/**
 * samplePixel's grid on whole 32-bit pixels (B,G,R,X little-endian: channel c is bits 8c..8c+7),
 * with the same sums in the same order, so the same estimate to the last bit. The sampler runs on
 * every copy (codec choice, video detection: thousands of small glyph tiles a second on a busy
 * terminal), so it is one loop with the sums in locals rather than a call per sample updating an
 * object, and byte-wise it read each pixel's channels one bounds check at a time.
 */
function sampleWords(
  w: Uint32Array,
  width: number,
  height: number,
  strideWords: number,
  xStep: number,
  yStep: number,
): CodecEstimate {
  let samples = 0;
  let flat = 0;
  let smooth = 0;
  let lzBits = 0;
  let quicBits = 0;
  for (let y = 1; y < height; y += yStep) {
    const row = y * strideWords;
    const up = row - strideWords;
    // Stagger the columns from row to row so that vertical structures are not always missed.
    for (let x = 1 + (y % xStep); x < width; x += xStep) {
      samples++;
      const p = w[row + x]!;
      const left = w[row + x - 1]!;
      const above = w[up + x]!;
      if (((p ^ left) & 0xffffff) === 0) {
        flat++;
        lzBits += LZ_RUN_BITS;
        quicBits += ((above ^ w[up + x - 1]!) & 0xffffff) === 0 ? QUIC_RUN_BITS : QUIC_FLAT_BITS;
        continue;
      }
      lzBits += ((p ^ above) & 0xffffff) === 0 ? LZ_MATCHED_BITS : LZ_LITERAL_BITS;
      if (smoothStep(p, left)) smooth++;
      quicBits += residualBits(p, left, above, 0) + residualBits(p, left, above, 8) + residualBits(p, left, above, 16);
    }
  }
  return { samples, flat, smooth, lzBits, quicBits };
}

/** Every channel of `p` within SMOOTH_STEP of `left`'s (32-bit pixels, B,G,R,X). */
function smoothStep(p: number, left: number): boolean {
  for (let shift = 0; shift < 24; shift += 8) {
    const d = ((p >>> shift) & 0xff) - ((left >>> shift) & 0xff);
    if (d > SMOOTH_STEP || d < -SMOOTH_STEP) return false;
  }
  return true;
}

/** QUIC's Golomb code length for one channel (bits `shift`..`shift + 7`): bitlength(U2L(residual)) + 1. */
function residualBits(p: number, left: number, above: number, shift: number): number {
  const predicted = (((left >>> shift) & 0xff) + ((above >>> shift) & 0xff)) >> 1;
  const residual = (((p >>> shift) & 0xff) - predicted) & 0xff;
  const folded = residual < 128 ? residual << 1 : ((255 - residual) << 1) + 1; // QUIC's U2L
  return 33 - Math.clz32(folded);
}

/** Account one pixel at byte offset `at`, whose upper neighbour is at `up`. */
function samplePixel(data: Buffer, at: number, up: number, e: CodecEstimate): void {
  e.samples++;
  if (sameRgb(data, at, at - 4)) {
    e.flat++;
    e.lzBits += LZ_RUN_BITS;
    e.quicBits += sameRgb(data, up, up - 4) ? QUIC_RUN_BITS : QUIC_FLAT_BITS;
    return;
  }
  e.lzBits += sameRgb(data, at, up) ? LZ_MATCHED_BITS : LZ_LITERAL_BITS;
  let bits = 0;
  let smooth = true;
  for (let c = 0; c < 3; c++) {
    const step = data[at + c]! - data[at - 4 + c]!;
    if (step > SMOOTH_STEP || step < -SMOOTH_STEP) smooth = false;
    const predicted = (data[at - 4 + c]! + data[up + c]!) >> 1;
    const residual = (data[at + c]! - predicted) & 0xff;
    const folded = residual < 128 ? residual << 1 : ((255 - residual) << 1) + 1; // QUIC's U2L
    bits += 33 - Math.clz32(folded); // bit length + 1
  }
  if (smooth) e.smooth++;
  e.quicBits += bits;
}

function sameRgb(data: Buffer, a: number, b: number): boolean {
  return data[a] === data[b] && data[a + 1] === data[b + 1] && data[a + 2] === data[b + 2];
}
