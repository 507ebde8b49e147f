import type { Rect } from '../../../protocol/geometry.js';
import type { Raster } from './bitmap.js';
import { canvasScale, makeSampler, over } from './pixel-ops.js';
import { AlphaFlags, ScaleMode, StringFlags, SurfaceFormat, type QxlDrawOp, type QxlSource } from './qxl-types.js';
import { intersectRegionRect, regionBounds, type Region } from './region.js';
import { brushSampler, forEachPixel, mod, type RenderContext } from './render-common.js';
import { resolveImage, UnsupportedDraw, type ShadowSurface } from './shadow.js';

/*
 * The draw ops that combine colours rather than bits (spice-common sw_canvas.c):
 *
 *   TRANSPARENT  colour-keyed copy: source pixels whose RGB equals true_color are left out
 *                (spice_pixman_blit_colorkey; scaled sources are resampled nearest first)
 *   ALPHA_BLEND  pixman OVER of the source (premultiplied ARGB when it has alpha) through a
 *                constant mask `alpha`; scaled sources are always sampled nearest
 *   TEXT         back_area filled with the back brush, then the fore brush OVER the glyph mask
 *                (A1: coverage 0/255; A4: nibble << 4; A8: byte). Glyph rows are read bottom-up
 *                whatever the TOP_DOWN flag says, as the client does ("todo" in canvas_base.c).
 * On xRGB surfaces the client clears the alpha bytes that pixman's OVER sets; so does this code.
 */

function sameSize(a: Rect, b: Rect): boolean {
  return a.right - a.left === b.right - b.left && a.bottom - a.top === b.bottom - b.top;
}

export function renderTransparent(
  dest: Raster,
  region: Region,
  bbox: Rect,
  src: QxlSource,
  trueColor: number,
  ctx: RenderContext,
): Region {
  if (region.length === 0) return [];
  const image = resolveImage(src.image, ctx.surfaces, ctx.where);
  const key = trueColor & 0xffffff;
  const sample = sourceSampler(image, bbox, src.area, ScaleMode.NEAREST);
  forEachPixel(region, (x, y) => {
    const s = sample(x, y);
    if (s !== null && (s & 0xffffff) !== key) dest.pixels[y * dest.stride + x] = s;
  });
  return region;
}

export function renderAlphaBlend(
  target: ShadowSurface,
  region: Region,
  bbox: Rect,
  src: QxlSource,
  alpha: number,
  flags: number,
  ctx: RenderContext,
): Region {
  if (alpha === 0 || region.length === 0) return [];
  const image = resolveImage(src.image, ctx.surfaces, ctx.where, (flags & AlphaFlags.SRC_SURFACE_HAS_ALPHA) !== 0);
  const dest = target.raster;
  const keepAlpha = target.format !== SurfaceFormat.RGB32_x || (flags & AlphaFlags.DEST_HAS_ALPHA) !== 0;
  const sample = sourceSampler(image, bbox, src.area, ScaleMode.NEAREST);
  forEachPixel(region, (x, y) => {
    const s = sample(x, y);
    if (s === null) return; // outside the source: transparent, OVER leaves the pixel alone
    const i = y * dest.stride + x;
    const v = over(s, image.hasAlpha, alpha, dest.pixels[i]!);
    dest.pixels[i] = keepAlpha ? v : v & 0x00ffffff;
  });
  return region;
}

/**
 * Source pixel for destination (x, y): unscaled reads at (x - bbox.left + area.left), scaled ones
 * go through pixman's transform. Null outside the source image.
 */
function sourceSampler(
  image: Raster,
  bbox: Rect,
  area: Rect,
  scaleMode: number,
): (x: number, y: number) => number | null {
  if (sameSize(bbox, area)) {
    const dx = area.left - bbox.left;
    const dy = area.top - bbox.top;
    return (x, y) => {
      const sx = x + dx;
      const sy = y + dy;
      if (sx < 0 || sy < 0 || sx >= image.width || sy >= image.height) return null;
      return image.pixels[sy * image.stride + sx]!;
    };
  }
  const t = canvasScale(
    area.left,
    area.top,
    area.right - area.left,
    area.bottom - area.top,
    bbox.right - bbox.left,
    bbox.bottom - bbox.top,
    scaleMode,
  );
  const sample = makeSampler(image, t);
  return (x, y) => sample(x - bbox.left, y - bbox.top);
}

type TextOp = Extract<QxlDrawOp, { type: 'text' }>;

interface Glyph {
  x: number;
  y: number;
  width: number;
  height: number;
  data: Buffer;
}

export function renderText(target: ShadowSurface, region: Region, op: TextOp, ctx: RenderContext): Region {
  if (region.length === 0) return [];
  const dest = target.raster;
  let changed: Region = [];
  if (op.backArea.right > op.backArea.left && op.backArea.bottom > op.backArea.top) {
    const back = intersectRegionRect(region, op.backArea);
    const sample = brushSampler(op.backBrush, ctx);
    forEachPixel(back, (x, y) => {
      dest.pixels[y * dest.stride + x] = sample(x, y) >>> 0;
    });
    changed = back;
  }
  const bpp = glyphDepth(op.str.flags);
  const glyphs = parseGlyphs(op.str.data, op.str.length, bpp, ctx.where);
  if (glyphs.length === 0 || op.foreBrush.kind === 'none') return changed;
  const mask = glyphMask(glyphs, bpp);
  const fore = foreSampler(op, mask.box, ctx);
  const foreHasAlpha = op.foreBrush.kind === 'pattern' && fore.hasAlpha;
  const keepAlpha = target.format !== SurfaceFormat.RGB32_x;
  const drawn = intersectRegionRect(region, mask.box);
  forEachPixel(drawn, (x, y) => {
    const m = mask.coverage[(y - mask.box.top) * mask.width + (x - mask.box.left)]!;
    if (m === 0) return;
    const i = y * dest.stride + x;
    const v = over(fore.sample(x, y), foreHasAlpha, m, dest.pixels[i]!);
    dest.pixels[i] = keepAlpha ? v : v & 0x00ffffff;
  });
  return [...changed, ...drawn];
}

function glyphDepth(flags: number): number {
  if (flags & StringFlags.RASTER_A1) return 1;
  if (flags & StringFlags.RASTER_A4) return 4;
  if (flags & StringFlags.RASTER_A8) return 8;
  throw new UnsupportedDraw('vector glyphs');
}

/** QXLRasterGlyph: i32 render_pos.x/y, i32 glyph_origin.x/y, u16 width, u16 height, rows. */
function parseGlyphs(data: Buffer, length: number, bpp: number, where: string): Glyph[] {
  const glyphs: Glyph[] = [];
  let pos = 0;
  for (let n = 0; n < length; n++) {
    if (pos + 20 > data.length) throw new Error(`${where}: text string ends inside glyph ${n} of ${length}`);
    const width = data.readUInt16LE(pos + 16);
    const height = data.readUInt16LE(pos + 18);
    const size = Math.ceil((width * bpp) / 8) * height;
    if (pos + 20 + size > data.length)
      throw new Error(`${where}: glyph ${n} needs ${size} bytes past the end of the string`);
    glyphs.push({
      x: data.readInt32LE(pos) + data.readInt32LE(pos + 8),
      y: data.readInt32LE(pos + 4) + data.readInt32LE(pos + 12),
      width,
      height,
      data: data.subarray(pos + 20, pos + 20 + size),
    });
    pos += 20 + size;
  }
  return glyphs;
}

/** canvas_get_str_mask(): coverage 0..255 over the union of the glyph boxes. */
function glyphMask(glyphs: Glyph[], bpp: number): { box: Rect; width: number; coverage: Uint8Array } {
  const box = regionBounds(glyphs.map((g) => ({ top: g.y, left: g.x, bottom: g.y + g.height, right: g.x + g.width })))!;
  const width = box.right - box.left;
  const coverage = new Uint8Array(width * (box.bottom - box.top));
  for (const g of glyphs) {
    const stride = Math.ceil((g.width * bpp) / 8);
    for (let row = 0; row < g.height; row++) {
      const src = (g.height - 1 - row) * stride; // bottom-up, see the file comment
      const out = (g.y - box.top + row) * width + (g.x - box.left);
      for (let i = 0; i < g.width; i++) {
        const v = glyphValue(g.data, src, i, bpp);
        if (v > coverage[out + i]!) coverage[out + i] = v;
      }
    }
  }
  return { box, width, coverage };
}

function glyphValue(data: Buffer, rowStart: number, i: number, bpp: number): number {
  if (bpp === 1) return (data[rowStart + (i >> 3)]! >> (7 - (i & 7))) & 1 ? 255 : 0;
  if (bpp === 4) {
    const byte = data[rowStart + (i >> 1)]!;
    return i % 2 === 0 ? byte & 0xf0 : (byte << 4) & 0xf0;
  }
  return data[rowStart + i]!;
}

/** The fore brush as pixman sees it: solid opaque colour, or the tile translated by -pos from the mask origin. */
function foreSampler(
  op: TextOp,
  box: Rect,
  ctx: RenderContext,
): { sample: (x: number, y: number) => number; hasAlpha: boolean } {
  const brush = op.foreBrush;
  if (brush.kind !== 'pattern') {
    const color = brush.kind === 'solid' ? brush.color : 0;
    return { sample: () => color, hasAlpha: false };
  }
  const tile = resolveImage(brush.image, ctx.surfaces, ctx.where);
  return {
    sample: (x, y) =>
      tile.pixels[
        mod(y - box.top - brush.pos.y, tile.height) * tile.stride + mod(x - box.left - brush.pos.x, tile.width)
      ]!,
    hasAlpha: tile.hasAlpha,
  };
}
