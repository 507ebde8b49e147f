import { allocImage, type PixelImage } from '../../display/pixels.js';

/*
 * Drawing primitives on PixelImages (32-bit 0x00RRGGBB pixels). Everything clips to the image, so
 * callers can draw shapes that run over an edge. Pixels are written through a cached u32 view, which
 * assumes a little-endian host like the rest of the display code (Surface does the same).
 */

const views = new WeakMap<Buffer, Uint32Array>();

/** The image's pixels as u32 values; pixel (x, y) is at y * pitch(img) + x. */
export function pixelsOf(img: PixelImage): Uint32Array {
  let view = views.get(img.data);
  if (view === undefined) {
    if (img.data.byteOffset % 4 !== 0 || img.stride % 4 !== 0)
      throw new Error('raster: image data is not 4-byte aligned');
    view = new Uint32Array(img.data.buffer, img.data.byteOffset, img.data.length >>> 2);
    views.set(img.data, view);
  }
  return view;
}

/** Row pitch in pixels. */
export function pitch(img: PixelImage): number {
  return img.stride >>> 2;
}

/** A new image filled with one colour. */
export function createImage(width: number, height: number, color = 0): PixelImage {
  const img = allocImage(width, height);
  if (color !== 0) pixelsOf(img).fill(color >>> 0);
  return img;
}

// ---- colours ------------------------------------------------------------------------------------

export function channels(c: number): [number, number, number] {
  return [(c >> 16) & 0xff, (c >> 8) & 0xff, c & 0xff];
}

export function packRgb(r: number, g: number, b: number): number {
  const k = (v: number): number => Math.max(0, Math.min(255, Math.round(v)));
  return ((k(r) << 16) | (k(g) << 8) | k(b)) >>> 0;
}

/** Linear mix: t = 0 gives a, t = 1 gives b. */
export function mix(a: number, b: number, t: number): number {
  const [ar, ag, ab] = channels(a);
  const [br, bg, bb] = channels(b);
  return packRgb(ar + (br - ar) * t, ag + (bg - ag) * t, ab + (bb - ab) * t);
}

/** Blend `color` over the pixel at (x, y) with coverage `alpha` in 0..1. */
export function blendPixel(img: PixelImage, x: number, y: number, color: number, alpha: number): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height || alpha <= 0) return;
  const px = pixelsOf(img);
  const i = y * pitch(img) + x;
  px[i] = alpha >= 1 ? color >>> 0 : mix(px[i] ?? 0, color, alpha);
}

// ---- rectangles and lines -------------------------------------------------------------------------

export function fillRect(img: PixelImage, x: number, y: number, w: number, h: number, color: number): void {
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  const x1 = Math.min(img.width, x + w);
  const y1 = Math.min(img.height, y + h);
  if (x1 <= x0 || y1 <= y0) return;
  const px = pixelsOf(img);
  const p = pitch(img);
  for (let yy = y0; yy < y1; yy++) px.fill(color >>> 0, yy * p + x0, yy * p + x1);
}

export function hline(img: PixelImage, x0: number, x1: number, y: number, color: number): void {
  fillRect(img, Math.min(x0, x1), y, Math.abs(x1 - x0) + 1, 1, color);
}

export function vline(img: PixelImage, x: number, y0: number, y1: number, color: number): void {
  fillRect(img, x, Math.min(y0, y1), 1, Math.abs(y1 - y0) + 1, color);
}

/** 1-pixel rectangle outline. */
export function strokeRect(img: PixelImage, x: number, y: number, w: number, h: number, color: number): void {
  hline(img, x, x + w - 1, y, color);
  hline(img, x, x + w - 1, y + h - 1, color);
  vline(img, x, y, y + h - 1, color);
  vline(img, x + w - 1, y, y + h - 1, color);
}

/** Square-ish pen footprint of a given thickness: offsets of a disc of that diameter. */
function penOffsets(thickness: number): Array<[number, number]> {
  const t = Math.max(1, Math.round(thickness));
  if (t === 1) return [[0, 0]];
  const r = t / 2;
  const lo = -Math.floor((t - 1) / 2);
  const out: Array<[number, number]> = [];
  for (let dy = lo; dy < lo + t; dy++) {
    for (let dx = lo; dx < lo + t; dx++) {
      const cx = dx - lo + 0.5 - r;
      const cy = dy - lo + 0.5 - r;
      if (cx * cx + cy * cy <= r * r + 0.25) out.push([dx, dy]);
    }
  }
  return out;
}

/** Bresenham line from (x0, y0) to (x1, y1) inclusive, stamped with a round pen of `thickness`. */
export function line(
  img: PixelImage,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  color: number,
  thickness = 1,
): void {
  const pen = penOffsets(thickness);
  const px = pixelsOf(img);
  const p = pitch(img);
  const c = color >>> 0;
  const plot = (x: number, y: number): void => {
    for (const [dx, dy] of pen) {
      const xx = x + dx;
      const yy = y + dy;
      if (xx >= 0 && yy >= 0 && xx < img.width && yy < img.height) px[yy * p + xx] = c;
    }
  };
  let x = Math.round(x0);
  let y = Math.round(y0);
  const xe = Math.round(x1);
  const ye = Math.round(y1);
  const dx = Math.abs(xe - x);
  const dy = -Math.abs(ye - y);
  const sx = x < xe ? 1 : -1;
  const sy = y < ye ? 1 : -1;
  let err = dx + dy;
  for (;;) {
    plot(x, y);
    if (x === xe && y === ye) return;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y += sy;
    }
  }
}

/**
 * Anti-aliased thick segment with round ends (a capsule): coverage from the distance to the segment,
 * which looks far better than stamped Bresenham for clock hands.
 */
export function capsule(
  img: PixelImage,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  width: number,
  color: number,
): void {
  const r = width / 2;
  const left = Math.floor(Math.min(x0, x1) - r - 1);
  const right = Math.ceil(Math.max(x0, x1) + r + 1);
  const top = Math.floor(Math.min(y0, y1) - r - 1);
  const bottom = Math.ceil(Math.max(y0, y1) + r + 1);
  const vx = x1 - x0;
  const vy = y1 - y0;
  const len2 = vx * vx + vy * vy || 1;
  for (let y = top; y <= bottom; y++) {
    for (let x = left; x <= right; x++) {
      const px = x + 0.5 - x0;
      const py = y + 0.5 - y0;
      const t = Math.max(0, Math.min(1, (px * vx + py * vy) / len2));
      const d = Math.hypot(px - t * vx, py - t * vy);
      blendPixel(img, x, y, color, Math.min(1, r + 0.5 - d));
    }
  }
}

// ---- round shapes ------------------------------------------------------------------------------------

/**
 * Anti-aliased ring between radii `inner` and `outer` around (cx, cy) (pixel centres at +0.5).
 * inner = 0 gives a filled disc.
 */
export function ring(img: PixelImage, cx: number, cy: number, outer: number, inner: number, color: number): void {
  const x0 = Math.floor(cx - outer - 1);
  const x1 = Math.ceil(cx + outer + 1);
  const y0 = Math.floor(cy - outer - 1);
  const y1 = Math.ceil(cy + outer + 1);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      const cover = Math.min(outer + 0.5 - d, inner > 0 ? d - inner + 0.5 : 1, 1);
      blendPixel(img, x, y, color, cover);
    }
  }
}

export function fillCircle(img: PixelImage, cx: number, cy: number, r: number, color: number): void {
  ring(img, cx, cy, r, 0, color);
}

/**
 * How far row y of a rounded rectangle h rows tall (corner radius r) is inset from each side. The fraction
 * is the uncovered part of the edge pixel, which the caller blends for anti-aliasing.
 */
function roundedRowInset(h: number, r: number, y: number): number {
  const fromEdge = Math.min(y, h - 1 - y);
  if (fromEdge >= r) return 0;
  const dy = r - fromEdge - 0.5;
  return r - Math.sqrt(Math.max(0, r * r - dy * dy));
}

/** Filled rounded rectangle with anti-aliased corners. */
export function fillRoundRect(
  img: PixelImage,
  x: number,
  y: number,
  w: number,
  h: number,
  r: number,
  color: number,
): void {
  for (let j = 0; j < h; j++) {
    const inset = roundedRowInset(h, r, j);
    const whole = Math.ceil(inset);
    fillRect(img, x + whole, y + j, w - 2 * whole, 1, color);
    if (whole > 0) {
      const edge = whole - inset;
      blendPixel(img, x + whole - 1, y + j, color, edge);
      blendPixel(img, x + w - whole, y + j, color, edge);
    }
  }
}

// ---- gradients and images ------------------------------------------------------------------------------

/** Rows from `top` colour to `bottom` colour; every row is one solid colour (cheap to encode). */
export function verticalGradient(
  img: PixelImage,
  x: number,
  y: number,
  w: number,
  h: number,
  top: number,
  bottom: number,
): void {
  for (let j = 0; j < h; j++) fillRect(img, x, y + j, w, 1, mix(top, bottom, h > 1 ? j / (h - 1) : 0));
}

/** Copy a w x h area of `src` at (sx, sy) to (dx, dy) in `dst`, clipped to both. */
export function blit(
  dst: PixelImage,
  dx: number,
  dy: number,
  src: PixelImage,
  sx = 0,
  sy = 0,
  w = src.width,
  h = src.height,
): void {
  // Clip against the source first, then the destination, shifting both origins together.
  let x0 = 0;
  let y0 = 0;
  let x1 = w;
  let y1 = h;
  x0 = Math.max(x0, -sx, -dx);
  y0 = Math.max(y0, -sy, -dy);
  x1 = Math.min(x1, src.width - sx, dst.width - dx);
  y1 = Math.min(y1, src.height - sy, dst.height - dy);
  if (x1 <= x0 || y1 <= y0) return;
  const bytes = (x1 - x0) * 4;
  for (let j = y0; j < y1; j++) {
    const from = (sy + j) * src.stride + (sx + x0) * 4;
    src.data.copy(dst.data, (dy + j) * dst.stride + (dx + x0) * 4, from, from + bytes);
  }
}

/** Move a w x h area inside one image by (dx, dy), overlap-safe (used for scrolling). */
export function shiftArea(img: PixelImage, x: number, y: number, w: number, h: number, dx: number, dy: number): void {
  const rows = Array.from({ length: h }, (_, j) => j);
  // Walk rows against the direction of motion so no source row is overwritten before it is read.
  if (dy > 0) rows.reverse();
  for (const j of rows) {
    const from = (y + j) * img.stride + x * 4;
    img.data.copy(img.data, (y + j + dy) * img.stride + (x + dx) * 4, from, from + w * 4);
  }
}
