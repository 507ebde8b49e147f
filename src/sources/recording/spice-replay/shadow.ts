import { Surface } from '../../../display/surface.js';
import { bitmapToRaster, type Raster } from './bitmap.js';
import { SurfaceFormat, type QxlImage } from './qxl-types.js';

/*
 * The importer's own copy of every surface, kept in step with what the emitted commands do to
 * the server's surfaces: exact commands are applied to these with the same Surface methods the
 * server uses, and ops the seam cannot express are rendered into them and then emitted as a copy
 * of the changed pixels. So the shadow is always what viewers should see.
 */

export interface ShadowSurface {
  readonly surface: Surface;
  /** SPICE_SURFACE_FMT_* the guest asked for (stored as 32 bits per pixel whatever it is). */
  readonly format: number;
  readonly raster: Raster;
}

/** An op the renderer does not reproduce; the translator counts it as skipped with `reason`. */
export class UnsupportedDraw extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'UnsupportedDraw';
  }
}

export class ShadowSurfaces {
  private readonly map = new Map<number, ShadowSurface>();

  create(id: number, width: number, height: number, format: number): ShadowSurface {
    const surface = new Surface(id, width, height);
    const raster: Raster = { width, height, stride: width, pixels: surface.pixels, hasAlpha: format === SurfaceFormat.ARGB32 };
    const shadow = { surface, format, raster };
    this.map.set(id, shadow);
    return shadow;
  }

  destroy(id: number): boolean {
    return this.map.delete(id);
  }

  clear(): void {
    this.map.clear();
  }

  get(id: number): ShadowSurface | undefined {
    return this.map.get(id);
  }

  ids(): number[] {
    return [...this.map.keys()];
  }
}

/**
 * The pixels of an image operand: a converted bitmap, or the live pixels of a surface (SPICE
 * image type SURFACE). `srcHasAlpha` forces an xRGB surface's X byte to be read as alpha (the
 * ALPHA_BLEND flag SRC_SURFACE_HAS_ALPHA).
 */
export function resolveImage(img: QxlImage | null, surfaces: ShadowSurfaces, where: string, srcHasAlpha = false): Raster {
  if (!img) throw new Error(`${where}: the op needs an image but the recording has none`);
  switch (img.kind) {
    case 'bitmap':
      return bitmapToRaster(img, where);
    case 'surface': {
      const s = surfaces.get(img.surfaceId);
      if (!s) throw new Error(`${where}: source surface ${img.surfaceId} does not exist`);
      return srcHasAlpha && !s.raster.hasAlpha ? { ...s.raster, hasAlpha: true } : s.raster;
    }
    case 'quic':
      // QUIC is a compressed image format; Xspice never sends it and it is not decoded here.
      throw new UnsupportedDraw('quic image');
  }
}
