import type { DisplayCommand } from '../../../seam/index.js';
import { makeRect, type Rect } from '../../../protocol/geometry.js';
import { cropImage } from '../../../display/pixels.js';
import { bitmapToRaster, bitmapView, cropRaster, rasterAsImage } from './bitmap.js';
import { SurfaceFormat, type QxlDrawOp, type QxlDrawable, type QxlSource } from './qxl-types.js';
import { copyOrder, intersectRegionRect, regionBounds, type Region } from './region.js';
import { clipRegion, renderDrawable } from './render.js';
import type { RenderContext } from './render-common.js';
import { Rop, ropdToRop } from './rop.js';
import { UnsupportedDraw, type ShadowSurface, type ShadowSurfaces } from './shadow.js';
import { bump, type ImportStats } from './stats.js';

/*
 * One QXL drawable to seam commands. What the seam can say exactly is said exactly, one command
 * per rect of the clipped region (clip rects are intersected with the bbox and normalised the way
 * the client's pixman region does it, so nothing outside the clip is touched):
 *
 *   FILL, solid brush, ROP copy, no mask                 -> fill per rect
 *   COPY, ROP copy, no mask, no scaling, bitmap source   -> copy per rect (fresh cropped image)
 *   COPY, same, source is another surface                -> blitSurface per rect
 *   COPY_BITS                                            -> copyBits per rect, in an order that
 *                                                           never reads already-moved pixels
 * Anything else is rendered into the shadow surface and sent as one copy of the changed bounds.
 * Exact commands are applied to the shadow with the same Surface methods the server uses (when
 * its pixels are next needed: see shadow.ts).
 */

export interface DrawContext {
  readonly surfaces: ShadowSurfaces;
  readonly stats: ImportStats;
  readonly where: string;
}

export function translateDraw(d: QxlDrawable, ctx: DrawContext): DisplayCommand[] {
  const opName = d.op.type;
  const target = ctx.surfaces.get(d.surfaceId);
  if (!target) {
    bump(ctx.stats.skipped, `${opName}: target surface ${d.surfaceId} does not exist`);
    return [];
  }
  if (d.op.type === 'copyBits') return copyBits(target, d, d.op.srcPos, ctx);
  const exact = exactCommands(target, d, ctx);
  if (exact) return exact;
  return rendered(target, d, ctx);
}

function copyBits(
  target: ShadowSurface,
  d: QxlDrawable,
  srcPos: { x: number; y: number },
  ctx: DrawContext,
): DisplayCommand[] {
  const dx = d.bbox.left - srcPos.x;
  const dy = d.bbox.top - srcPos.y;
  let region = clipRegion(target, d.bbox, d.clip);
  // Only where the source lies on the surface too (canvas_copy_bits).
  region = intersectRegionRect(region, makeRect(dy, dx, dy + target.height, dx + target.width));
  if (region.length === 0 || (dx === 0 && dy === 0)) {
    bump(ctx.stats.empty, 'copyBits');
    return [];
  }
  const out: DisplayCommand[] = [];
  for (const r of copyOrder(region, dx, dy)) {
    const src = { x: r.left - dx, y: r.top - dy };
    target.copyBits(src, r);
    out.push({ kind: 'copyBits', surfaceId: target.id, src, dest: r });
  }
  bump(ctx.stats.exact, 'copyBits');
  return out;
}

/** The exact translation, or null when the op needs rendering. */
function exactCommands(target: ShadowSurface, d: QxlDrawable, ctx: DrawContext): DisplayCommand[] | null {
  const op = d.op;
  if (op.type === 'fill' && isPlainFill(op, target)) {
    const region = clipRegion(target, d.bbox, d.clip);
    if (region.length === 0) return emptyDraw(ctx, 'fill');
    const color = op.brush.kind === 'solid' ? op.brush.color & 0xffffff : 0;
    bump(ctx.stats.exact, 'fill');
    return region.map((r) => {
      target.fill(r, color);
      return { kind: 'fill', surfaceId: target.id, rect: r, color };
    });
  }
  if (op.type === 'copy' && isPlainCopy(op, d, target)) {
    const region = clipRegion(target, d.bbox, d.clip);
    if (region.length === 0) return emptyDraw(ctx, 'copy');
    return op.src.image?.kind === 'surface'
      ? blitCommands(target, d.bbox, op.src, op.src.image.surfaceId, region, ctx)
      : copyCommands(target, d.bbox, op.src, region, ctx);
  }
  return null;
}

function emptyDraw(ctx: DrawContext, kind: string): DisplayCommand[] {
  bump(ctx.stats.empty, kind);
  return [];
}

function isPlainFill(op: Extract<QxlDrawOp, { type: 'fill' }>, target: ShadowSurface): boolean {
  if (op.brush.kind !== 'solid' || op.mask.bitmap) return false;
  if (ropdToRop(op.ropd, 'brush', 'dest') !== Rop.COPY) return false;
  // The seam's colours have no alpha byte; on an ARGB surface a colour with one must be rendered.
  return op.brush.color >>> 24 === 0 || target.format !== SurfaceFormat.ARGB32;
}

function isPlainCopy(
  op: Extract<QxlDrawOp, { type: 'copy' | 'blend' }>,
  d: QxlDrawable,
  target: ShadowSurface,
): boolean {
  const img = op.src.image;
  if (!img || op.mask.bitmap || ropdToRop(op.ropd, 'src', 'dest') !== Rop.COPY) return false;
  const a = op.src.area;
  if (a.right - a.left !== d.bbox.right - d.bbox.left || a.bottom - a.top !== d.bbox.bottom - d.bbox.top) return false;
  if (img.kind === 'surface') return img.surfaceId !== target.id;
  return img.kind === 'bitmap';
}

/** The part of `r` whose source pixels (at r - offset) lie inside a width x height source. */
function clipToSource(r: Rect, offX: number, offY: number, width: number, height: number): Rect | null {
  const c = {
    top: Math.max(r.top, offY),
    left: Math.max(r.left, offX),
    bottom: Math.min(r.bottom, offY + height),
    right: Math.min(r.right, offX + width),
  };
  return c.right > c.left && c.bottom > c.top ? c : null;
}

function copyCommands(
  target: ShadowSurface,
  bbox: Rect,
  src: QxlSource,
  region: Region,
  ctx: DrawContext,
): DisplayCommand[] {
  const img = src.image;
  if (img?.kind !== 'bitmap') throw new Error(`${ctx.where}: copy without a bitmap source`);
  // Packed, and never written: handed out as is when a rect takes all of it.
  const source = bitmapView(img) ?? rasterAsImage(bitmapToRaster(img, ctx.where));
  const offX = bbox.left - src.area.left;
  const offY = bbox.top - src.area.top;
  const out: DisplayCommand[] = [];
  for (const r of region) {
    const c = clipToSource(r, offX, offY, source.width, source.height);
    if (!c) continue;
    const whole =
      c.left === offX && c.top === offY && c.right - c.left === source.width && c.bottom - c.top === source.height;
    const image = whole ? source : cropImage(source, c.left - offX, c.top - offY, c.right - c.left, c.bottom - c.top);
    target.putImage(c, image);
    out.push({ kind: 'copy', surfaceId: target.id, dest: c, image });
  }
  bump(out.length > 0 ? ctx.stats.exact : ctx.stats.empty, 'copy');
  return out;
}

function blitCommands(
  target: ShadowSurface,
  bbox: Rect,
  srcOp: QxlSource,
  srcId: number,
  region: Region,
  ctx: DrawContext,
): DisplayCommand[] {
  const source = ctx.surfaces.get(srcId);
  if (!source) {
    bump(ctx.stats.skipped, `copy: source surface ${srcId} does not exist`);
    return [];
  }
  const offX = bbox.left - srcOp.area.left;
  const offY = bbox.top - srcOp.area.top;
  const out: DisplayCommand[] = [];
  for (const r of region) {
    const c = clipToSource(r, offX, offY, source.width, source.height);
    if (!c) continue;
    const src = { x: c.left - offX, y: c.top - offY };
    target.blitFrom(source, src, c);
    out.push({ kind: 'blitSurface', surfaceId: target.id, dest: c, srcSurfaceId: srcId, src });
  }
  bump(out.length > 0 ? ctx.stats.exact : ctx.stats.empty, 'blitSurface');
  return out;
}

/** Render into the shadow, then send the changed bounds as one copy. */
function rendered(target: ShadowSurface, d: QxlDrawable, ctx: DrawContext): DisplayCommand[] {
  const opName = d.op.type;
  const renderCtx: RenderContext = {
    surfaces: ctx.surfaces,
    where: ctx.where,
    approximate: (kind) => bump(ctx.stats.approximate, `${opName}: ${kind}`),
  };
  // Rendering draws into the pixels directly: they must be up to date first.
  target.prepareWrite();
  // An op found unsupported half-way may already have drawn: restore the area so the shadow
  // stays equal to what viewers have.
  const saved = saveArea(target, d.bbox);
  let changed: Region;
  try {
    if (d.selfBitmap && hasMissingSource(d.op)) throw new UnsupportedDraw('self_bitmap source');
    changed = renderDrawable(target, d, renderCtx);
  } catch (e) {
    if (!(e instanceof UnsupportedDraw)) throw e;
    saved?.restore();
    bump(ctx.stats.skipped, `${opName}: ${e.reason}`);
    return [];
  }
  const bounds = regionBounds(changed);
  if (!bounds) return emptyDraw(ctx, opName);
  bump(ctx.stats.rendered, opName);
  const image = cropRaster(
    target.raster,
    bounds.left,
    bounds.top,
    bounds.right - bounds.left,
    bounds.bottom - bounds.top,
  );
  return [{ kind: 'copy', surfaceId: target.id, dest: bounds, image }];
}

/** With self_bitmap the server substitutes the surface's own pixels for a missing source image. */
function hasMissingSource(op: QxlDrawOp): boolean {
  switch (op.type) {
    case 'copy':
    case 'blend':
    case 'opaque':
    case 'rop3':
    case 'transparent':
    case 'alphaBlend':
      return op.src.image === null;
    default:
      return false;
  }
}

/** A copy of the on-surface part of `area` that can be written back. */
function saveArea(target: ShadowSurface, area: Rect): { restore(): void } | null {
  const r = target.clip(area);
  if (r.right <= r.left || r.bottom <= r.top) return null;
  const copy = cropRaster(target.raster, r.left, r.top, r.right - r.left, r.bottom - r.top);
  return { restore: () => target.surface.putImage(r, copy) };
}
