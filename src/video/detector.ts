import { sharedCodecEstimate } from '../display/image-choice.js';
import { intersectRect, rectIsEmpty, unionRect, type Rect } from '../protocol/geometry.js';
import type { PixelImage } from '../seam/index.js';
import { maskRects } from './rects.js';

/**
 * Finds video on the screen, for every viewer at once: areas redrawn with photo-like content at a
 * steady rate. It works on a grid of cells rather than on each draw's box, because draws do not
 * match the video: the X11 capture sends a frame as bands of changed rows, recordings of QXL guests
 * as tiles. A cell counts a frame when a photo-like copy touches it (once per FRAME_GAP_MS, so the
 * bands of one frame count once); a cell that counted enough frames in the last window is hot, and
 * a connected group of hot cells, cut to the pixels that changed in them, is a video region.
 *
 * Text, a scrolling terminal and a blinking cursor never make a region: their copies are not
 * photo-like (flat runs, sharp edges), scrolling arrives as copy-bits, and a cursor blinks at 1-2 Hz
 * in a box far below the minimum size.
 *
 * Smooth video (a pan across a gradient, a fade) is mostly flat runs, which LZ codes for almost
 * nothing, so it is not photo-like; it is gradual (isGradual), and streams.ts counts it as video
 * where streaming it pays (a viewer on a thin link).
 */

export interface DetectorOptions {
  /** Cell side in pixels. */
  cell: number;
  /**
   * A cell is hot after this many frames within windowMs: 5 in 1 s, spice-server's own floor (it
   * streams draws that repeat less than 200 ms apart). A viewer on a thin link paces the capture
   * (the source waits up to 100 ms for viewers to take the last frame): video then reaches the
   * detector at 6-9 frames a second until its stream starts, and a floor of 8 never started one.
   */
  minFrames: number;
  windowMs: number;
  /** spice-server streams nothing smaller than 96x96 in its default mode; neither do we. */
  minWidth: number;
  minHeight: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = {
  cell: 16,
  minFrames: 5,
  windowMs: 1000,
  minWidth: 96,
  minHeight: 96,
};

/** Updates of one cell closer together than this belong to one frame (bands of one capture). */
const FRAME_GAP_MS = 12;
/**
 * Video drawn this recently still plays: more than the 200 ms between two frames of the slowest
 * video that is streamed (5 frames a second).
 */
const PLAYING_MS = 250;
/**
 * The recent video draws kept (for stillParts): a quarter second of X11 bands at 60 frames a second,
 * or of a recording's QXL tiles. Past it the oldest go, and a part they alone covered looks still
 * (it is clipped out of a new stream until video changes it, which gives it back).
 */
const RECENT_DRAWS = 1024;
/** Frames a cell remembers (at least minFrames). */
const RING = 16;
/** Fewer sampled pixels than this say nothing about an image's nature. */
const MIN_SAMPLES = 64;
/** A copy is photo-like when QUIC's estimated cost is under this fraction of LZ's, as in image-choice. */
const PHOTO_ADVANTAGE = 0.7;
/**
 * A copy is gradual when at least this share of its sampled pixels that differ from their left
 * neighbour step smoothly (image-choice's SMOOTH_STEP). Frames of the grainless bench pan: 94-100 %
 * (its 64-row bands with the frame-number stripe 81-99 %); terminals, xclock, an office recording
 * 0-7 %. spice-server's own test (BITMAP_GRADUAL_MEDIUM) is the same idea: flat pixels left out,
 * smooth steps against contrasting ones.
 */
const GRADUAL_SHARE = 0.75;
/** Fewer sampled pixels than this that differ from their left neighbour: flat, not gradual. */
const MIN_GRADUAL_SAMPLES = 32;
/**
 * A gradual copy smaller than this is UI, not video: the strips a window uncovers as it moves over
 * a gradient wallpaper, its soft shadow, a menu's gradient. spice-server streams no draw smaller
 * than 96x96 pixels at all; a photo-like one may be a recording's small tile, a gradual one not.
 */
const MIN_GRADUAL_PIXELS = 96 * 96;

/**
 * Photo-like content: smooth gradients and no exact repeats, the images QUIC (and JPEG) suit; UI
 * content (text, flat areas, edges) is not. Unlike the codec choice, small images are judged too:
 * recordings send video as small tiles.
 */
export function isPhotoLike(img: PixelImage): boolean {
  // Computed once per image: the codec choice judges the same image when it is encoded.
  const e = sharedCodecEstimate(img);
  return e.samples >= MIN_SAMPLES && e.quicBits < PHOTO_ADVANTAGE * e.lzBits;
}

/**
 * Gradual content: mostly smooth steps between the pixels that are not flat (gradients, fades,
 * soft shading), drawn over at least MIN_GRADUAL_PIXELS (`drawn`: the copy's area, which may be a
 * part of the image). Photo-like content is gradual too, and more; text and UI edges step sharply.
 */
export function isGradual(img: PixelImage, drawn = img.width * img.height): boolean {
  if (drawn < MIN_GRADUAL_PIXELS) return false;
  const e = sharedCodecEstimate(img);
  const changing = e.samples - e.flat;
  return e.samples >= MIN_SAMPLES && changing >= MIN_GRADUAL_SAMPLES && e.smooth >= GRADUAL_SHARE * changing;
}

export class VideoDetector {
  private readonly cols: number;
  private readonly rows: number;
  /** Per cell: the times of its last RING frames (0 = none), and where the next one goes. */
  private readonly times: Float64Array;
  private readonly next: Uint8Array;
  /** Per cell: the changed pixels inside it since it went hot (top, left, bottom, right; empty when top >= bottom). */
  private readonly extent: Int32Array;
  /** The latest video draws and when they came, oldest first. */
  private recent: { rect: Rect; at: number }[] = [];

  constructor(
    readonly width: number,
    readonly height: number,
    readonly options: DetectorOptions = DEFAULT_DETECTOR_OPTIONS,
  ) {
    this.cols = Math.ceil(width / options.cell);
    this.rows = Math.ceil(height / options.cell);
    const cells = this.cols * this.rows;
    this.times = new Float64Array(cells * RING);
    this.next = new Uint8Array(cells);
    this.extent = new Int32Array(cells * 4);
  }

  /** A photo-like copy changed `rect` at `now` (ms). Other draws are not fed: they are not video. */
  observe(rect: Rect, now: number): void {
    const r = intersectRect(rect, { top: 0, left: 0, bottom: this.height, right: this.width });
    if (rectIsEmpty(r)) return;
    this.recent.push({ rect: r, at: now });
    if (this.recent.length > 2 * RECENT_DRAWS) this.recent = this.recent.slice(-RECENT_DRAWS);
    const c = this.options.cell;
    for (let cy = Math.floor(r.top / c); cy * c < r.bottom; cy++) {
      for (let cx = Math.floor(r.left / c); cx * c < r.right; cx++) this.touch(cy * this.cols + cx, r, now);
    }
  }

  private touch(i: number, r: Rect, now: number): void {
    const last = this.times[i * RING + ((this.next[i]! + RING - 1) % RING)]!;
    if (last !== 0 && now - last < FRAME_GAP_MS) {
      this.grow(i, r);
      return;
    }
    if (!this.isHot(i, now)) this.resetExtent(i);
    this.times[i * RING + this.next[i]!] = now;
    this.next[i] = (this.next[i]! + 1) % RING;
    this.grow(i, r);
  }

  private resetExtent(i: number): void {
    this.extent.set([0, 0, 0, 0], i * 4);
  }

  /** Add the part of `r` inside cell i to the cell's extent. */
  private grow(i: number, r: Rect): void {
    const c = this.options.cell;
    const cx = (i % this.cols) * c;
    const cy = Math.floor(i / this.cols) * c;
    const part = intersectRect(r, { top: cy, left: cx, bottom: cy + c, right: cx + c });
    if (rectIsEmpty(part)) return;
    const e = this.extent.subarray(i * 4, i * 4 + 4);
    const u = e[0]! >= e[2]! ? part : unionRect({ top: e[0]!, left: e[1]!, bottom: e[2]!, right: e[3]! }, part);
    e.set([u.top, u.left, u.bottom, u.right]);
  }

  private isHot(i: number, now: number): boolean {
    let n = 0;
    for (let k = 0; k < RING; k++) {
      const t = this.times[i * RING + k]!;
      if (t !== 0 && now - t <= this.options.windowMs) n++;
    }
    return n >= this.options.minFrames;
  }

  /**
   * The parts of `rect` (a region about to become a stream) no video was drawn on in the last
   * PLAYING_MS, to the pixel. A window already over the video when its stream starts is such a part
   * (X clips the player's drawing around it), and so is a still part of the picture.
   */
  stillParts(rect: Rect, now: number): Rect[] {
    const width = rect.right - rect.left;
    const mask = new Uint8Array(width * (rect.bottom - rect.top)).fill(1);
    for (const d of this.recent.slice(-RECENT_DRAWS)) {
      if (now - d.at > PLAYING_MS) continue;
      const r = intersectRect(d.rect, rect);
      if (rectIsEmpty(r)) continue;
      for (let y = r.top; y < r.bottom; y++) {
        const row = (y - rect.top) * width - rect.left;
        mask.fill(0, row + r.left, row + r.right);
      }
    }
    return maskRects(mask, width, { x: rect.left, y: rect.top });
  }

  /** The video regions now: connected hot cells, cut to what changed in them, at least the minimum size. */
  regions(now: number): Rect[] {
    const hot = new Uint8Array(this.cols * this.rows);
    for (let i = 0; i < hot.length; i++) hot[i] = this.isHot(i, now) ? 1 : 0;
    const out: Rect[] = [];
    for (let i = 0; i < hot.length; i++) {
      if (hot[i] !== 1) continue;
      const r = this.component(hot, i);
      if (r && r.right - r.left >= this.options.minWidth && r.bottom - r.top >= this.options.minHeight) out.push(r);
    }
    return out;
  }

  /** Flood the 4-connected hot cells from `start` (marking them 2) and return the union of their extents. */
  private component(hot: Uint8Array, start: number): Rect | undefined {
    const stack = [start];
    hot[start] = 2;
    let box: Rect | undefined;
    while (stack.length > 0) {
      const i = stack.pop()!;
      const e = this.extent.subarray(i * 4, i * 4 + 4);
      if (e[0]! < e[2]!) {
        const r = { top: e[0]!, left: e[1]!, bottom: e[2]!, right: e[3]! };
        box = box ? unionRect(box, r) : r;
      }
      const x = i % this.cols;
      const neighbours = [i - this.cols, i + this.cols, x > 0 ? i - 1 : -1, x < this.cols - 1 ? i + 1 : -1];
      for (const n of neighbours) {
        if (n >= 0 && n < hot.length && hot[n] === 1) {
          hot[n] = 2;
          stack.push(n);
        }
      }
    }
    return box;
  }
}
