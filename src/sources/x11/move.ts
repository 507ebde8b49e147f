import { pixelWords, type PixelImage } from '../../display/pixels.js';
import type { Rect } from '../../protocol/geometry.js';
import type { Shadow } from './shadow.js';

/*
 * Moved-window detection. A dragged window reaches us as damage over its old and new places and
 * nothing else: X does not say that the pixels moved. Sending the window again as an image costs
 * an encode here and a decode in every viewer on every frame of the drag; a copyBits moves what
 * the viewers already have. We look for the move by content: short anchor segments of the new
 * image, taken where it changed and is not one colour, are searched in the shadow (what viewers
 * have), nearest offsets first and ring by ring out to MAX_SHIFT pixels, first by one pixel word,
 * then by memcmp; offsets confirmed by anchors on other rows are grown into the largest rectangle
 * that moved, and that rectangle is verified row by row, so a copyBits is only sent where it
 * reproduces the new pixels exactly.
 *
 * The shape to expect (XFCE's compositor, twm): a window that is mostly one colour (a terminal's
 * black) with a few varied rows (title, menus, text), inside a damage rect that may be far larger
 * than the window, moved a few pixels per frame. Anchors on a sparse fixed grid fell on the
 * uniform body and found nothing, so the window went out as new images on every frame.
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
/**
 * Offsets up to this far are searched first, for every anchor: a drag step between two frames is a
 * few pixels, and this square (65 x 65 offsets) costs 1/15 of the whole range.
 */
const NEAR_SHIFT = 32;
/** Anchor segment length in pixels: long enough that text and patterns rarely match by chance. */
const SEGMENT = 16;
/**
 * Rows looked at for anchors. A window is mostly uniform (a terminal's black, an editor's white)
 * with a few varied rows (title, menu bar, text); the damage rect may be far larger than the window
 * (a compositor's repaint, a panel redrawn with it). Rows this close together put anchors on the
 * title and menu bars of any window that fills a tenth of the rect's height.
 */
const ANCHOR_ROWS = 24;
/** Anchors taken from one row (inside its changed content, not its edges). */
const ANCHORS_PER_ROW = 2;
/** A move smaller than this (pixels) is cheaper to send as an image. */
const MIN_AREA = 48 * 48;
const RGB = 0x00ffffff;
/** Repetitive content (a grid, a wall of the same text) matches at many offsets: look at this many per anchor. */
const MAX_HITS = 64;
/** Votes counted per offset: enough to rank a window's move above a chance match. */
const MAX_VOTES = 4;
/** Confirmed offsets grown into rectangles per primary anchor, the most voted first. */
const MAX_CANDIDATES = 4;
/** Anchors searched near (up to NEAR_SHIFT); most frames with a move are settled by the first. */
const NEAR_SEARCHES = 6;
/** Anchors searched over the rest of the range when no near offset was confirmed. */
const FAR_SEARCHES = 2;

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

/** What the search reads, made once per rect. */
interface Scene {
  readonly shadow: Shadow;
  /** The shadow's pixels as words. */
  readonly sw: Uint32Array;
  readonly rect: Rect;
  readonly img: PixelImage;
  /** The new image's pixels as words. */
  readonly words: Uint32Array;
}

/**
 * Segments of the new image that can show where something moved: varied (a uniform one matches
 * anywhere) and changed in place (one that still shows what the viewers have sits on content that
 * stayed, and searching for it costs as much as a real search to find nothing). Taken on
 * ANCHOR_ROWS rows, at most ANCHORS_PER_ROW each, from the interior of the row's qualifying
 * segments rather than its edges (a window's border blends with what is under it).
 */
function anchors(scene: Scene, width: number, height: number): Anchor[] {
  const { shadow, rect, img, words, sw } = scene;
  const out: Anchor[] = [];
  const stride = img.stride >> 2;
  const rows = Math.min(ANCHOR_ROWS, height);
  for (let k = 1; k <= rows; k++) {
    const y = Math.floor((k * height) / (rows + 1));
    if (shadow.rowEquals(rect, img, y, rect.top + y)) continue;
    const qualifying: number[] = [];
    const base = (rect.top + y) * shadow.width + rect.left;
    for (let x = 0; x + SEGMENT <= width; x += SEGMENT) {
      const at = y * stride + x;
      if (isVaried(words, at) && !segmentEquals(sw, base + x, words, at)) qualifying.push(x);
    }
    const picks = new Set<number>();
    for (let j = 1; j <= ANCHORS_PER_ROW && qualifying.length > 0; j++) {
      picks.add(qualifying[Math.floor((j * qualifying.length) / (ANCHORS_PER_ROW + 1))]!);
    }
    for (const x of picks) out.push({ x, y });
  }
  return out;
}

interface Voted {
  readonly dx: number;
  readonly dy: number;
  /** Other anchors that moved by the same offset. */
  readonly votes: number;
}

/**
 * Offsets (dx, dy) with Chebyshev distance in [from, to] at which the shadow holds anchor a's
 * segment, confirmed by at least one other anchor, most votes first. The search goes out ring by
 * ring and stops after the first ring that gave a confirmed offset: the nearest move wins, and a
 * drag step of a few pixels costs a few dozen positions instead of the whole range.
 */
function confirmedOffsets(scene: Scene, points: readonly Anchor[], a: Anchor, from: number, to: number): Voted[] {
  const { sw, shadow, rect, img, words } = scene;
  const at = a.y * (img.stride >> 2) + a.x;
  const key = words[at]! & RGB;
  const last = words[at + SEGMENT - 1]! & RGB;
  const ax = rect.left + a.x;
  const ay = rect.top + a.y;
  const row = shadow.width;
  const dxLow = Math.max(-to, ax + SEGMENT - row);
  const dxHigh = Math.min(to, ax);
  const confirmed: Voted[] = [];
  let hits = 0;
  const probe = (dx: number, dy: number): void => {
    const i = (ay - dy) * row + ax - dx;
    if ((sw[i]! & RGB) !== key || (sw[i + SEGMENT - 1]! & RGB) !== last) return;
    if ((dx === 0 && dy === 0) || !segmentEquals(sw, i, words, at)) return;
    hits++;
    const votes = countVotes(scene, points, a, dx, dy);
    if (votes > 0) confirmed.push({ dx, dy, votes });
  };
  for (let r = from; r <= to && hits < MAX_HITS; r++) {
    for (let dy = -r; dy <= r && hits < MAX_HITS; dy++) {
      const sy = ay - dy;
      if (sy < 0 || sy >= shadow.height) continue;
      if (dy === -r || dy === r) {
        for (let dx = Math.max(-r, dxLow); dx <= Math.min(r, dxHigh); dx++) probe(dx, dy);
      } else {
        if (-r >= dxLow) probe(-r, dy);
        if (r <= dxHigh) probe(r, dy);
      }
    }
    if (confirmed.length > 0) break;
  }
  return confirmed.sort((x, y) => y.votes - x.votes).slice(0, MAX_CANDIDATES);
}

/**
 * Anchors on other rows than a's that moved by (dx, dy), counted up to MAX_VOTES. Anchors of one
 * row confirm nothing: repetitive text holds a row's segments side by side at many offsets.
 */
function countVotes(scene: Scene, points: readonly Anchor[], a: Anchor, dx: number, dy: number): number {
  let votes = 0;
  for (const b of points) {
    if (b.y === a.y || !segmentAt(scene, b, dx, dy)) continue;
    if (++votes >= MAX_VOTES) break;
  }
  return votes;
}

/** Does the shadow hold anchor a's segment moved by (dx, dy)? */
function segmentAt({ sw, shadow, rect, img, words }: Scene, a: Anchor, dx: number, dy: number): boolean {
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

/** Columns [left, right) (rect-relative) of one row: the run of moved pixels around the anchor's column, within bounds. */
interface Span {
  left: number;
  right: number;
}

/** The run of pixels of row y that moved by (dx, dy), around column x and inside [low, high), or null if x did not move. */
function movedRun(scene: Scene, y: number, x: number, low: number, high: number, dx: number, dy: number): Span | null {
  const { sw, shadow, rect, words, img } = scene;
  const stride = img.stride >> 2;
  if (!pixelMoved(sw, shadow.width, rect, words, stride, x, y, dx, dy)) return null;
  let left = x;
  while (left > low && pixelMoved(sw, shadow.width, rect, words, stride, left - 1, y, dx, dy)) left--;
  let right = x + 1;
  while (right < high && pixelMoved(sw, shadow.width, rect, words, stride, right, y, dx, dy)) right++;
  return { left, right };
}

/**
 * Grow the matching area around an anchor into a rectangle (rect-relative), verified row by row.
 * The anchor's row gives the widest extent; a row above or below that does not match over all of
 * it narrows it to its own run around the anchor (a window's title bar may match a little beyond
 * the window where a uniform background lies beside it by chance, its body rows do not), as long
 * as at least half the width remains. Rows already taken matched over the wider extent, so the
 * rectangle is verified whole.
 */
function grow(scene: Scene, a: Anchor, dx: number, dy: number): Rect {
  const { shadow, rect, img } = scene;
  const width = rect.right - rect.left;
  const height = rect.bottom - rect.top;
  // Columns and rows whose moved source lies on the screen.
  const xMin = Math.max(0, dx - rect.left);
  const xMax = Math.min(width, shadow.width + dx - rect.left);
  const yMin = Math.max(0, dy - rect.top);
  const yMax = Math.min(height, shadow.height + dy - rect.top);
  const span = movedRun(scene, a.y, a.x, xMin, xMax, dx, dy) ?? { left: a.x, right: a.x };
  const takes = (y: number): boolean => {
    if (rowMoved(shadow, rect, img, y, span.left, span.right, dx, dy)) return true;
    const own = movedRun(scene, y, a.x, span.left, span.right, dx, dy);
    if (!own || 2 * (own.right - own.left) < span.right - span.left) return false;
    span.left = own.left;
    span.right = own.right;
    return true;
  };
  let top = a.y;
  while (top > yMin && takes(top - 1)) top--;
  let bottom = a.y + 1;
  while (bottom < yMax && takes(bottom)) bottom++;
  return { top, left: span.left, bottom, right: span.right };
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
  const scene: Scene = { shadow, sw, rect, img, words };
  const points = anchors(scene, width, height);
  // A move is confirmed by anchors on two rows at least (a glyph typed into a line has one).
  if (points.length < 2 || points.every((p) => p.y === points[0]!.y)) return null;
  // Near offsets first, from several anchors: some sit on what the move exposed or on a window's
  // blended border and find nothing, and repetitive content (a title bar's pattern, rows of the
  // same text) can confirm a chance offset whose area is small, so anchors outside the best area so
  // far are searched too, and the largest area wins. The far range costs 15 times as much per
  // anchor: it is searched only when nothing near was found or what was found is small against the
  // rect (a chance match in a title bar; a window dragged across a rect mostly moves, and what does
  // not is the strip it exposed).
  let best: MoveMatch | null = null;
  let searched = 0;
  const enough = (m: MoveMatch | null): boolean => m !== null && 4 * area(m.dest) >= width * height;
  for (const a of points) {
    if (searched >= NEAR_SEARCHES || enough(best)) break;
    if (best && holds(best.dest, rect, a)) continue;
    searched++;
    best = larger(best, largestMove(scene, points, a, confirmedOffsets(scene, points, a, 0, NEAR_SHIFT)));
  }
  const found = best;
  if (enough(found)) return found;
  for (const a of points.filter((p) => !found || !holds(found.dest, rect, p)).slice(0, FAR_SEARCHES)) {
    best = larger(best, largestMove(scene, points, a, confirmedOffsets(scene, points, a, NEAR_SHIFT + 1, MAX_SHIFT)));
  }
  return best;
}

/** Does `dest` (absolute) hold anchor a (relative to rect)? */
function holds(dest: Rect, rect: Rect, a: Anchor): boolean {
  const x = rect.left + a.x;
  const y = rect.top + a.y;
  return x >= dest.left && x < dest.right && y >= dest.top && y < dest.bottom;
}

function larger(a: MoveMatch | null, b: MoveMatch | null): MoveMatch | null {
  if (!a) return b;
  return b && area(b.dest) > area(a.dest) ? b : a;
}

/** Anchors grown from per offset: the primary and the first ones that moved with it. */
const GROWN_PER_OFFSET = 3;

/**
 * The largest area that changes something, grown around anchor a or another anchor that moved by
 * the same offset and lies outside the areas grown so far (one anchor's area can stop early: a
 * blinking cursor, a row of the window that changed as it moved), over the candidate offsets; or
 * null. Verifying an area costs a memcmp per row, so an anchor already inside one is not grown again.
 */
function largestMove(
  scene: Scene,
  points: readonly Anchor[],
  a: Anchor,
  candidates: readonly Voted[],
): MoveMatch | null {
  const { shadow, rect, img } = scene;
  let best: MoveMatch | null = null;
  for (const { dx, dy } of candidates) {
    const seeds = [a, ...points.filter((b) => b !== a && segmentAt(scene, b, dx, dy))];
    const grown: Rect[] = [];
    for (const seed of seeds) {
      if (grown.length >= GROWN_PER_OFFSET) break;
      if (grown.some((g) => seed.x >= g.left && seed.x < g.right && seed.y >= g.top && seed.y < g.bottom)) continue;
      const box = grow(scene, seed, dx, dy);
      grown.push(box);
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
  }
  return best;
}
