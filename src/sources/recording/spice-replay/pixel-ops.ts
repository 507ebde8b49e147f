import type { Raster } from './bitmap.js';
import { ScaleMode } from './qxl-types.js';

/*
 * Per-pixel arithmetic the client canvas does through pixman: 8-bit multiply with pixman's
 * rounding, Porter-Duff OVER on premultiplied ARGB, and sampling a transformed source for scaled
 * draws (pixman nearest sampling is reproduced exactly; its bilinear/"good" filter only
 * approximately).
 */

/** pixman MUL_UN8: round(a * b / 255) the way pixman computes it. */
function mulUn8(a: number, b: number): number {
  const t = a * b + 0x80;
  return ((t >> 8) + t) >> 8;
}

/**
 * OVER of `src` (premultiplied 0xAARRGGBB; alpha forced to 255 when `srcHasAlpha` is false) through
 * a constant mask alpha onto `dst`. Returns the new 0xAARRGGBB (alpha as pixman computes it for an
 * ARGB destination).
 */
export function over(src: number, srcHasAlpha: boolean, maskAlpha: number, dst: number): number {
  let sa = srcHasAlpha ? src >>> 24 : 255;
  let sr = (src >>> 16) & 0xff;
  let sg = (src >>> 8) & 0xff;
  let sb = src & 0xff;
  if (maskAlpha !== 255) {
    sa = mulUn8(sa, maskAlpha);
    sr = mulUn8(sr, maskAlpha);
    sg = mulUn8(sg, maskAlpha);
    sb = mulUn8(sb, maskAlpha);
  }
  const ia = 255 - sa;
  const a = Math.min(255, sa + mulUn8(dst >>> 24, ia));
  const r = Math.min(255, sr + mulUn8((dst >>> 16) & 0xff, ia));
  const g = Math.min(255, sg + mulUn8((dst >>> 8) & 0xff, ia));
  const b = Math.min(255, sb + mulUn8(dst & 0xff, ia));
  return ((a << 24) | (r << 16) | (g << 8) | b) >>> 0;
}

/**
 * Where a scaled draw samples its source. Destination pixel i (0-based from the destination
 * origin) samples source coordinate ((scale * ((i + origin) + 1/2) rounded) + translate) in 16.16
 * fixed point, as pixman's transform does.
 */
export interface ScaleTransform {
  /** 16.16 fixed scale factors (source pixels per destination pixel). */
  readonly fsx: number;
  readonly fsy: number;
  /** Integer pixel offsets added before scaling (composite source origin). */
  readonly originX: number;
  readonly originY: number;
  /** Integer pixel offsets added after scaling (the transform's translation). */
  readonly translateX: number;
  readonly translateY: number;
  readonly mode: number;
}

/** The transform sw_canvas __scale_image builds: scale src area onto dest size, translate by src x/y. */
export function canvasScale(
  srcX: number,
  srcY: number,
  srcW: number,
  srcH: number,
  destW: number,
  destH: number,
  mode: number,
): ScaleTransform {
  return {
    fsx: Math.floor((srcW * 65536) / destW),
    fsy: Math.floor((srcH * 65536) / destH),
    originX: 0,
    originY: 0,
    translateX: srcX,
    translateY: srcY,
    mode,
  };
}

/** The transform canvas_base canvas_scale_surface builds (ROP3): double scale, rounded origin. */
export function surfaceScale(
  srcX: number,
  srcY: number,
  srcW: number,
  srcH: number,
  destW: number,
  destH: number,
  mode: number,
): ScaleTransform {
  const sx = srcW / destW;
  const sy = srcH / destH;
  return {
    fsx: Math.trunc(sx * 65536),
    fsy: Math.trunc(sy * 65536),
    originX: Math.round(srcX / sx),
    originY: Math.round(srcY / sy),
    translateX: 0,
    translateY: 0,
    mode,
  };
}

/** 16.16 source coordinate sampled for destination index i. */
function sampleCoord(fs: number, i: number, origin: number, translate: number): number {
  const v = (i + origin) * 65536 + 32768;
  return Math.floor((fs * v + 0x8000) / 65536) + translate * 65536;
}

/**
 * A sampler over `src` with REPEAT_NONE: returns the pixel for destination index (i, j), or null
 * where the sample falls outside the source (pixman then produces transparent black).
 */
export function makeSampler(src: Raster, t: ScaleTransform): (i: number, j: number) => number | null {
  if (t.mode === ScaleMode.NEAREST) {
    return (i, j) => {
      const x = Math.floor((sampleCoord(t.fsx, i, t.originX, t.translateX) - 1) / 65536);
      const y = Math.floor((sampleCoord(t.fsy, j, t.originY, t.translateY) - 1) / 65536);
      if (x < 0 || y < 0 || x >= src.width || y >= src.height) return null;
      return src.pixels[y * src.stride + x]!;
    };
  }
  return (i, j) =>
    bilinear(src, sampleCoord(t.fsx, i, t.originX, t.translateX), sampleCoord(t.fsy, j, t.originY, t.translateY));
}

/** Bilinear sample at 16.16 (x, y) with 7-bit weights; texels outside the source count as 0. */
function bilinear(src: Raster, fx: number, fy: number): number | null {
  const x1 = fx - 32768;
  const y1 = fy - 32768;
  const x0 = Math.floor(x1 / 65536);
  const y0 = Math.floor(y1 / 65536);
  if (x0 + 1 < 0 || y0 + 1 < 0 || x0 >= src.width || y0 >= src.height) return null;
  const wx = ((x1 - x0 * 65536) >> 9) & 0x7f;
  const wy = ((y1 - y0 * 65536) >> 9) & 0x7f;
  const texel = (x: number, y: number): number =>
    x < 0 || y < 0 || x >= src.width || y >= src.height ? 0 : src.pixels[y * src.stride + x]!;
  const tl = texel(x0, y0);
  const tr = texel(x0 + 1, y0);
  const bl = texel(x0, y0 + 1);
  const br = texel(x0 + 1, y0 + 1);
  let out = 0;
  for (let shift = 0; shift < 32; shift += 8) {
    const c = (p: number): number => (p >>> shift) & 0xff;
    const top = c(tl) * (128 - wx) + c(tr) * wx;
    const bottom = c(bl) * (128 - wx) + c(br) * wx;
    const v = (top * (128 - wy) + bottom * wy + 8192) >> 14;
    out |= (v & 0xff) << shift;
  }
  return out >>> 0;
}
