import { rectIsEmpty, type Rect } from '../../../protocol/geometry.js';
import { allocRaster, bitmapMaskBits, type Raster } from './bitmap.js';
import { canvasScale, makeSampler, surfaceScale } from './pixel-ops.js';
import {
  MaskFlags,
  ScaleMode,
  type QxlBrush,
  type QxlClip,
  type QxlDrawable,
  type QxlMask,
  type QxlSource,
} from './qxl-types.js';
import {
  intersectRegionRect,
  intersectRegions,
  invertRegion,
  regionFromBits,
  regionFromRect,
  regionFromRects,
  translateRegion,
  type Region,
} from './region.js';
import { renderAlphaBlend, renderText, renderTransparent } from './render-blend.js';
import { brushSampler, forEachPixel, mod, type RenderContext } from './render-common.js';
import { applyRop, applyRop3, Rop, ropdToRop } from './rop.js';
import { resolveImage, UnsupportedDraw, type ShadowSurface } from './shadow.js';

/*
 * Software rendering of QXL draw ops into a shadow surface, following spice-common canvas_base.c
 * and sw_canvas.c (what the SPICE client does with each draw message):
 *
 *   every op: region = bbox ∩ surface ∩ clip rects [∩ 1-bit mask, for ops that have one]
 *   FILL       brush ROP dest                      rop from the descriptor (inputs brush, dest)
 *   COPY/BLEND source ROP dest, blitted or scaled  rop from the descriptor (inputs src, dest)
 *   OPAQUE     source copied, then brush ROP it    rop from the descriptor (inputs brush, src)
 *   BLACKNESS / WHITENESS / INVERS                 0x000000 / 0xffffffff / ~dest
 *   ROP3       ternary op over the whole bbox, then blitted through the region
 *   TRANSPARENT, ALPHA_BLEND, TEXT                 see render-blend.ts
 *   STROKE, COMPOSITE                              not reproduced (UnsupportedDraw)
 *
 * Returns the region that was (potentially) changed; the caller copies its bounds to viewers.
 */

/** bbox ∩ surface bounds ∩ clip (canvas_clip_pixman). */
export function clipRegion(target: ShadowSurface, bbox: Rect, clip: QxlClip): Region {
  // Most draws have no clip: one rect, exactly what the general path below would make of it.
  if (clip.kind === 'none') return rectRegion(bbox, target.width, target.height);
  let region = intersectRegionRect(regionFromRect(bbox), target.bounds);
  if (clip.kind === 'rects') region = intersectRegions(region, regionFromRects(clip.rects));
  return region;
}

/** bbox ∩ (0, 0, width, height) as a region: the intersection, or nothing when it is empty. */
function rectRegion(bbox: Rect, width: number, height: number): Region {
  const r = {
    top: Math.max(bbox.top, 0),
    left: Math.max(bbox.left, 0),
    bottom: Math.min(bbox.bottom, height),
    right: Math.min(bbox.right, width),
  };
  return rectIsEmpty(r) ? [] : [r];
}

/** Region ∩ mask pixels (canvas_mask_pixman); the mask's pixel (pos) sits at the bbox's top-left. */
function maskRegion(region: Region, mask: QxlMask, bbox: Rect, ctx: RenderContext): Region {
  if (!mask.bitmap || region.length === 0) return region;
  if (mask.bitmap.kind !== 'bitmap') throw new UnsupportedDraw(`${mask.bitmap.kind} mask`);
  const img = mask.bitmap;
  const bit = bitmapMaskBits(img, ctx.where);
  let bits = regionFromBits(img.x, img.y, bit);
  if (mask.flags & MaskFlags.INVERS) bits = invertRegion(bits, { top: 0, left: 0, bottom: img.y, right: img.x });
  return intersectRegions(region, translateRegion(bits, bbox.left - mask.pos.x, bbox.top - mask.pos.y));
}

export function renderDrawable(target: ShadowSurface, d: QxlDrawable, ctx: RenderContext): Region {
  const base = clipRegion(target, d.bbox, d.clip);
  const op = d.op;
  switch (op.type) {
    case 'nop':
      return [];
    case 'fill': {
      const region = maskRegion(base, op.mask, d.bbox, ctx);
      const rop = ropdToRop(op.ropd, 'brush', 'dest');
      if (rop === Rop.NOOP) return [];
      drawBrush(target.raster, region, op.brush, rop, ctx);
      return region;
    }
    case 'copy':
    case 'blend': {
      const region = maskRegion(base, op.mask, d.bbox, ctx);
      const rop = ropdToRop(op.ropd, 'src', 'dest');
      if (rop === Rop.NOOP || region.length === 0) return [];
      drawSource(target.raster, region, d.bbox, op.src, op.scaleMode, rop, ctx);
      return region;
    }
    case 'opaque': {
      const region = maskRegion(base, op.mask, d.bbox, ctx);
      const rop = ropdToRop(op.ropd, 'brush', 'src');
      if (rop === Rop.NOOP || region.length === 0) return [];
      drawSource(target.raster, region, d.bbox, op.src, op.scaleMode, Rop.COPY, ctx);
      drawBrush(target.raster, region, op.brush, rop, ctx);
      return region;
    }
    case 'blackness':
    case 'whiteness':
    case 'invers': {
      const region = maskRegion(base, op.mask, d.bbox, ctx);
      const brush: QxlBrush = { kind: 'solid', color: op.type === 'whiteness' ? 0xffffffff : 0 };
      drawBrush(target.raster, region, brush, op.type === 'invers' ? Rop.INVERT : Rop.COPY, ctx);
      return region;
    }
    case 'rop3': {
      const region = maskRegion(base, op.mask, d.bbox, ctx);
      renderRop3(target.raster, region, d.bbox, op.src, op.brush, op.rop3, op.scaleMode, ctx);
      return region;
    }
    case 'transparent':
      return renderTransparent(target.raster, base, d.bbox, op.src, op.trueColor, ctx);
    case 'alphaBlend':
      return renderAlphaBlend(target, base, d.bbox, op.src, op.alpha, op.alphaFlags, ctx);
    case 'text':
      return renderText(target, base, op, ctx);
    case 'copyBits':
      throw new Error(`${ctx.where}: COPY_BITS is not rendered (it is always exact)`);
    case 'stroke':
      throw new UnsupportedDraw('stroke');
    case 'composite':
      throw new UnsupportedDraw('composite');
  }
}

/** draw_brush(): dest = brush ROP dest over the region. */
function drawBrush(dest: Raster, region: Region, brush: QxlBrush, rop: number, ctx: RenderContext): void {
  const sample = brushSampler(brush, ctx);
  forEachPixel(region, (x, y) => {
    const i = y * dest.stride + x;
    dest.pixels[i] = applyRop(rop, sample(x, y), dest.pixels[i]!);
  });
}

function sameSize(a: Rect, b: Rect): boolean {
  return a.right - a.left === b.right - b.left && a.bottom - a.top === b.bottom - b.top;
}

/** COPY/BLEND/OPAQUE source drawing: blit (with source clipping) or scale, through `rop`. */
function drawSource(
  dest: Raster,
  region: Region,
  bbox: Rect,
  src: QxlSource,
  scaleMode: number,
  rop: number,
  ctx: RenderContext,
): void {
  const image = snapshotIfSame(resolveImage(src.image, ctx.surfaces, ctx.where), dest);
  if (sameSize(bbox, src.area)) {
    blitRop(dest, region, image, bbox.left - src.area.left, bbox.top - src.area.top, rop);
    return;
  }
  if (scaleMode !== ScaleMode.NEAREST) ctx.approximate('interpolatedScale');
  const destW = bbox.right - bbox.left;
  const destH = bbox.bottom - bbox.top;
  const t = canvasScale(
    src.area.left,
    src.area.top,
    src.area.right - src.area.left,
    src.area.bottom - src.area.top,
    destW,
    destH,
    scaleMode,
  );
  const sample = makeSampler(image, t);
  forEachPixel(region, (x, y) => {
    // pixman SRC with REPEAT_NONE writes transparent black where the sample misses the source.
    const s = sample(x - bbox.left, y - bbox.top) ?? 0;
    const i = y * dest.stride + x;
    dest.pixels[i] = applyRop(rop, s, dest.pixels[i]!);
  });
}

/** Reading and writing the same surface: read from a copy, as a separate pixman image would. */
function snapshotIfSame(src: Raster, dest: Raster): Raster {
  if (src.pixels !== dest.pixels) return src;
  return { ...src, pixels: src.pixels.slice() };
}

/** spice_pixman_blit(_rop) for each rect: source pixel = dest - offset, clipped to the source. */
function blitRop(dest: Raster, region: Region, src: Raster, offsetX: number, offsetY: number, rop: number): void {
  for (const r of region) {
    const left = Math.max(r.left, offsetX);
    const top = Math.max(r.top, offsetY);
    const right = Math.min(r.right, offsetX + src.width);
    const bottom = Math.min(r.bottom, offsetY + src.height);
    for (let y = top; y < bottom; y++) {
      const srow = (y - offsetY) * src.stride - offsetX;
      const drow = y * dest.stride;
      if (rop === Rop.COPY) {
        dest.pixels.set(src.pixels.subarray(srow + left, srow + right), drow + left);
        continue;
      }
      for (let x = left; x < right; x++)
        dest.pixels[drow + x] = applyRop(rop, src.pixels[srow + x]!, dest.pixels[drow + x]!);
    }
  }
}

/** canvas_draw_rop3(): the ternary op over the whole bbox, then only the region is written back. */
function renderRop3(
  dest: Raster,
  region: Region,
  bbox: Rect,
  src: QxlSource,
  brush: QxlBrush,
  rop3: number,
  scaleMode: number,
  ctx: RenderContext,
): void {
  const width = bbox.right - bbox.left;
  const height = bbox.bottom - bbox.top;
  let s = resolveImage(src.image, ctx.surfaces, ctx.where);
  let srcX = src.area.left;
  let srcY = src.area.top;
  if (!sameSize(bbox, src.area)) {
    if (scaleMode !== ScaleMode.NEAREST) ctx.approximate('interpolatedScale');
    const t = surfaceScale(
      src.area.left,
      src.area.top,
      src.area.right - src.area.left,
      src.area.bottom - src.area.top,
      width,
      height,
      scaleMode,
    );
    s = scaledCopy(s, t, width, height);
    srcX = 0;
    srcY = 0;
  }
  if (s.width - srcX < width || s.height - srcY < height || srcX < 0 || srcY < 0) {
    // The client refuses such a ROP3 ("bad src bitmap size") and draws nothing.
    throw new UnsupportedDraw('rop3 source smaller than its bbox');
  }
  const pattern = rop3Pattern(brush, bbox, ctx);
  const result = allocRaster(width, height);
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const x = bbox.left + i;
      const y = bbox.top + j;
      const d = x >= 0 && y >= 0 && x < dest.width && y < dest.height ? dest.pixels[y * dest.stride + x]! : 0;
      const sv = s.pixels[(srcY + j) * s.stride + srcX + i]!;
      result.pixels[j * width + i] = applyRop3(rop3, pattern(i, j), sv, d);
    }
  }
  blitRop(dest, region, result, bbox.left, bbox.top, Rop.COPY);
}

/** ROP3's pattern operand for bbox-relative pixel (i, j): the brush colour or a tiled image. */
function rop3Pattern(brush: QxlBrush, bbox: Rect, ctx: RenderContext): (i: number, j: number) => number {
  if (brush.kind !== 'pattern') return brush.kind === 'solid' ? () => brush.color : () => 0;
  const p = resolveImage(brush.image, ctx.surfaces, ctx.where);
  const px = mod(bbox.left - brush.pos.x, p.width);
  const py = mod(bbox.top - brush.pos.y, p.height);
  return (i, j) => p.pixels[mod(py + j, p.height) * p.stride + mod(px + i, p.width)]!;
}

function scaledCopy(src: Raster, t: ReturnType<typeof surfaceScale>, width: number, height: number): Raster {
  const out = allocRaster(width, height, src.hasAlpha);
  const sample = makeSampler(src, t);
  for (let j = 0; j < height; j++) for (let i = 0; i < width; i++) out.pixels[j * width + i] = sample(i, j) ?? 0;
  return out;
}
