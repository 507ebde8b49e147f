import type { Region } from './region.js';
import type { QxlBrush } from './qxl-types.js';
import { resolveImage, type ShadowSurfaces } from './shadow.js';

/* Helpers shared by the renderers (render.ts, render-blend.ts). */

export interface RenderContext {
  readonly surfaces: ShadowSurfaces;
  /** Prefix for error messages ("recording: event N"). */
  readonly where: string;
  /** Called when the result only approximates the client (e.g. interpolated scaling). */
  approximate(kind: string): void;
}

/** Every pixel of the region, row by row. */
export function forEachPixel(region: Region, fn: (x: number, y: number) => void): void {
  for (const r of region) {
    for (let y = r.top; y < r.bottom; y++) for (let x = r.left; x < r.right; x++) fn(x, y);
  }
}

/** The brush as a function of the destination pixel (solid colour, tiled pattern, or 0). */
export function brushSampler(brush: QxlBrush, ctx: RenderContext): (x: number, y: number) => number {
  switch (brush.kind) {
    case 'none':
      return () => 0;
    case 'solid':
      return () => brush.color;
    case 'pattern': {
      const tile = resolveImage(brush.image, ctx.surfaces, ctx.where);
      const { pos } = brush;
      return (x, y) => {
        const tx = mod(x - pos.x, tile.width);
        const ty = mod(y - pos.y, tile.height);
        return tile.pixels[ty * tile.stride + tx]!;
      };
    }
  }
}

export function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
