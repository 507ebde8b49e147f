import { pixelWords, type PixelImage } from '../../display/pixels.js';
import type { Rect } from '../../protocol/geometry.js';
import type { Shadow } from './shadow.js';

/*
 * Moved-window detection. A dragged window reaches us as damage over its old and new places and
 * nothing else: X does not say that the pixels moved. Sending the window again as an image costs
 * an encode here and a decode in every viewer on every frame of the drag; a copyBits moves what
 * the viewers already have. We look for the move by content: a few short anchor segments of the
 * new image are searched in the shadow (what viewers have) within MAX_SHIFT pixels in each
 * direction, first by one pixel word, then by memcmp; offsets found by several anchors are grown
 * into the largest rectangle that moved, and that rectangle is verified row by row, so a copyBits
 * is only sent where it reproduces the new pixels exactly.
 */

export interface MoveMatch {
  /** New pixel (x, y) shows what the shadow had at (x - dx, y - dy). */
  readonly dx: number;
  readonly dy: number;
  /** Destination area (absolute) that the move fills exactly. */
  readonly dest: Rect;
}

/** How far a window may move between two frames and still be found (a fast drag at 30-60 frames/s). */
const MAX_SHIFT = 128;
/** Anchor segment length in pixels: long enough that text and patterns rarely match by chance. */
const SEGMENT = 16;
const ANCHOR_ROWS = 6;
/** A move smaller than this (pixels) is cheaper to send as an image. */
const MIN_AREA = 48 * 48;
const RGB = 0x00ffffff;
/** Repetitive content (a grid, a wall of the same text) matches at many offsets: look at this many per anchor. */
const MAX_HITS = 64;
/** Confirmed offsets grown into rectangles per primary anchor, the most voted first. */
const MAX_CANDIDATES = 4;
/** Anchors searched over the whole range; the others only confirm what those found. */
const PRIMARY_SEARCHES = 2;

interface Anchor {
  /** Rect-relative position of the segment's first pixel in the new image. */
  readonly x: number;
  readonly y: number;
}

/** A segment that is not one colour (a uniform one matches anywhere). */
function isVaried(words: Uint32Array, at: number): boolean {
  const first = words[at]! & RGB;
  for (let i = 1; i < SEGMENT; i++) if ((words[at + i]! & RGB) !== first) return true;
  return false;
}

function anchors(img: PixelImage, words: Uint32Array, width: number, height: number): Anchor[] {
  const out: Anchor[] = [];
  const stride = img.stride >> 2;
  for (let k = 1; k <= ANCHOR_ROWS; k++) {
    const y = Math.floor((k * height) / (ANCHOR_ROWS + 1));
    // The first varied segment from the left third, else from the middle: window content, not its edge.
    for (const x of [Math.floor(width / 3), Math.floor(width / 2), Math.floor(width / 6)]) {
      if (x + SEGMENT > width) continue;
      if (isVaried(words, y * stride + x)) {
        out.push({ x, y });
        break;
      }
    }
  }
  return out;
}

interface Offset {
  readonly dx: number;
  readonly dy: number;
}

/** Offsets (dx, dy) at which the shadow holds the anchor's segment, within MAX_SHIFT. */
function offsetsOf(
  sw: Uint32Array,
  shadow: Shadow,
  rect: Rect,
  img: PixelImage,
  words: Uint32Array,
  a: Anchor,
): Offset[] {
  const found: Offset[] = [];
  const at = a.y * (img.stride >> 2) + a.x;
  const key = words[at]! & RGB;
  const last = words[at + SEGMENT - 1]! & RGB;
  const ax = rect.left + a.x;
  const ay = rect.top + a.y;
  const row = shadow.width;
  const dxLow = Math.max(-MAX_SHIFT, ax + SEGMENT - row);
  const dxHigh = Math.min(MAX_SHIFT, ax);
  for (let dy = -MAX_SHIFT; dy <= MAX_SHIFT; dy++) {
    const sy = ay - dy;
    if (sy < 0 || sy >= shadow.height) continue;
    const base = sy * row + ax;
    for (let dx = dxLow; dx <= dxHigh; dx++) {
      const i = base - dx;
      if ((sw[i]! & RGB) !== key || (sw[i + SEGMENT - 1]! & RGB) !== last) continue;
      if ((dx === 0 && dy === 0) || !segmentEquals(sw, i, words, at)) continue;
      found.push({ dx, dy });
      if (found.length >= MAX_HITS) return found;
    }
  }
  return found;
}

/** Does the shadow hold anchor a's segment moved by (dx, dy)? */
function segmentAt(
  sw: Uint32Array,
  shadow: Shadow,
  rect: Rect,
  img: PixelImage,
  words: Uint32Array,
  a: Anchor,
  dx: number,
  dy: number,
): boolean {
  const sx = rect.left + a.x - dx;
  const sy = rect.top + a.y - dy;
  if (sx < 0 || sy < 0 || sy >= shadow.height || sx + SEGMENT > shadow.width) return false;
  return segmentEquals(sw, sy * shadow.width + sx, words, a.y * (img.stride >> 2) + a.x);
}

function segmentEquals(a: Uint32Array, ai: number, b: Uint32Array, bi: number): boolean {
  for (let i = 0; i < SEGMENT; i++) if (((a[ai + i]! ^ b[bi + i]!) & RGB) !== 0) return false;
  return true;
}

/** Does new pixel (x, y) (rect-relative) equal the shadow at the moved place? */
function pixelMoved(
  sw: Uint32Array,
  sWidth: number,
  rect: Rect,
  words: Uint32Array,
  stride: number,
  x: number,
  y: number,
  dx: number,
  dy: number,
): boolean {
  const sx = rect.left + x - dx;
  const sy = rect.top + y - dy;
  return ((sw[sy * sWidth + sx]! ^ words[y * stride + x]!) & RGB) === 0;
}

/** Does new row y (rect-relative) over columns [left, right) equal the shadow's moved row? (memcmp) */
function rowMoved(
  shadow: Shadow,
  rect: Rect,
  img: PixelImage,
  y: number,
  left: number,
  right: number,
  dx: number,
  dy: number,
): boolean {
  const from = y * img.stride + left * 4;
  const at = (rect.top + y - dy) * shadow.stride + (rect.left + left - dx) * 4;
  const n = (right - left) * 4;
  return img.data.compare(shadow.data, at, at + n, from, from + n) === 0;
}

/** Grow the matching area around an anchor into a rectangle (rect-relative), verified row by row. */
function grow(
  shadow: Shadow,
  sw: Uint32Array,
  rect: Rect,
  img: PixelImage,
  words: Uint32Array,
  a: Anchor,
  dx: number,
  dy: number,
): Rect {
  const width = rect.right - rect.left;
  const height = rect.bottom - rect.top;
  const stride = img.stride >> 2;
  const sWidth = shadow.width;
  // Columns and rows whose moved source lies on the screen.
  const xMin = Math.max(0, dx - rect.left);
  const xMax = Math.min(width, sWidth + dx - rect.left);
  const yMin = Math.max(0, dy - rect.top);
  const yMax = Math.min(height, shadow.height + dy - rect.top);
  let left = a.x;
  while (left > xMin && pixelMoved(sw, sWidth, rect, words, stride, left - 1, a.y, dx, dy)) left--;
  let right = a.x;
  while (right < xMax && pixelMoved(sw, sWidth, rect, words, stride, right, a.y, dx, dy)) right++;
  let top = a.y;
  while (top > yMin && rowMoved(shadow, rect, img, top - 1, left, right, dx, dy)) top--;
  let bottom = a.y + 1;
  while (bottom < yMax && rowMoved(shadow, rect, img, bottom, left, right, dx, dy)) bottom++;
  return { top, left, bottom, right };
}

function area(r: Rect): number {
  return (r.right - r.left) * (r.bottom - r.top);
}

/** Is there a row of `box` (rect-relative) where the new image differs from the shadow in place? */
function changesSomething(shadow: Shadow, rect: Rect, img: PixelImage, box: Rect): boolean {
  const n = (box.right - box.left) * 4;
  for (let y = box.top; y < box.bottom; y++) {
    const from = y * img.stride + box.left * 4;
    const at = (rect.top + y) * shadow.stride + (rect.left + box.left) * 4;
    if (img.data.compare(shadow.data, at, at + n, from, from + n) !== 0) return true;
  }
  return false;
}

/**
 * The largest area of `rect` whose new content (`img`) is the shadow's content moved by one
 * offset, found by at least two anchors, or null. Only worth calling for rects that could hold a
 * window (both sides well above SEGMENT).
 */
export function findMove(shadow: Shadow, rect: Rect, img: PixelImage): MoveMatch | null {
  const width = rect.right - rect.left;
  const height = rect.bottom - rect.top;
  if (width < 3 * SEGMENT || height < 3 * SEGMENT || width * height < MIN_AREA) return null;
  const words = pixelWords(img);
  const sw = pixelWords({ width: shadow.width, height: shadow.height, stride: shadow.stride, data: shadow.data });
  if (!words || !sw) return null;
  const points = anchors(img, words, width, height);
  if (points.length < 2) return null;
  // Search the whole range for one anchor, then only confirm its offsets with the others: a second
  // full search is made only if the first anchor found nothing that another confirms (it may sit
  // on content that did not move), and none after that (most frames hold no move at all).
  // Only an anchor whose pixels changed can sit on content that moved: one that still shows what
  // the viewers have is on content that stayed (much of a damage rect around a small change), and
  // searching the whole range for it costs as much as a real search to find nothing.
  const changed = points.filter((a) => !segmentAt(sw, shadow, rect, img, words, a, 0, 0));
  let best: MoveMatch | null = null;
  for (const primary of changed.slice(0, PRIMARY_SEARCHES)) {
    const confirmed = offsetsOf(sw, shadow, rect, img, words, primary)
      .map((o) => ({
        ...o,
        votes: points.filter((a) => a !== primary && segmentAt(sw, shadow, rect, img, words, a, o.dx, o.dy)).length,
      }))
      .filter((o) => o.votes > 0)
      .sort((x, y) => y.votes - x.votes)
      .slice(0, MAX_CANDIDATES);
    for (const { dx, dy } of confirmed) {
      const box = grow(shadow, sw, rect, img, words, primary, dx, dy);
      if (area(box) < MIN_AREA || (best && area(box) <= area(best.dest))) continue;
      if (!changesSomething(shadow, rect, img, box)) continue;
      const dest = {
        top: rect.top + box.top,
        left: rect.left + box.left,
        bottom: rect.top + box.bottom,
        right: rect.left + box.right,
      };
      best = { dx, dy, dest };
    }
    if (best) break;
  }
  return best;
}
