import type { PixelImage } from '../../../display/pixels.js';
import { Surface } from '../../../display/surface.js';
import { intersectRect, type Point, type Rect } from '../../../protocol/geometry.js';
import { bitmapToRaster, type Raster } from './bitmap.js';
import { SurfaceFormat, type QxlImage } from './qxl-types.js';

/*
 * The importer's own copy of every surface, kept in step with what the emitted commands do to
 * the server's surfaces: exact commands are applied to these with the same Surface methods the
 * server uses, and ops the seam cannot express are rendered into them and then emitted as a copy
 * of the changed pixels. So the shadow is always what viewers should see.
 *
 * Only rendering reads the pixels, and most recordings render nothing. So the exact ops are not
 * applied as they come: each surface keeps them in order, numbered (a surface's version is the
 * number of ops it has had), and applies them - allocating its pixels first - only when its
 * pixels are read. A blit reads its source at the source's version of that moment: it pins that
 * version, and before the source applies the op that ends it, the reader catches up to its blit
 * (reading exactly that version). Every read goes back in time only, so this terminates, and a
 * version is never needed after it is gone. Bounded backlogs keep the images that deferred copies
 * hold from piling up in long recordings.
 */

/** A reader's deferred blit needs its source at `version`. */
interface Pin {
  readonly version: number;
  readonly reader: ShadowSurface;
  /** The reader's op number of the blit. */
  readonly op: number;
  done: boolean;
}

/** An exact op not applied yet (the Surface method of the same name applies it). */
type Deferred =
  | { readonly kind: 'fill'; readonly rect: Rect; readonly color: number }
  | { readonly kind: 'putImage'; readonly dest: Rect; readonly image: PixelImage }
  | { readonly kind: 'copyBits'; readonly src: Point; readonly dest: Rect }
  | {
      readonly kind: 'blitFrom';
      readonly source: ShadowSurface;
      readonly pin: Pin;
      readonly src: Point;
      readonly dest: Rect;
    };

/** Past either, a surface applies its backlog (memory held by deferred images stays bounded). */
const MAX_DEFERRED_OPS = 4096;
const MAX_DEFERRED_IMAGE_BYTES = 32 << 20;

export class ShadowSurface {
  private pixels: Surface | null = null;
  private pixelRaster: Raster | null = null;
  /** Ops applied to the pixels so far (the version they show). */
  private applied = 0;
  /** Ops not applied yet, from `head` on: op number applied + i is deferred[head + i]. */
  private deferred: Deferred[] = [];
  private head = 0;
  private deferredBytes = 0;
  /** Versions of this surface that readers still have to see, in version order. */
  private pins: Pin[] = [];

  constructor(
    readonly id: number,
    readonly width: number,
    readonly height: number,
    /** SPICE_SURFACE_FMT_* the guest asked for (stored as 32 bits per pixel whatever it is). */
    readonly format: number,
  ) {}

  get bounds(): Rect {
    return { top: 0, left: 0, bottom: this.height, right: this.width };
  }

  /** The part of `r` on the surface (as Surface.clip). */
  clip(r: Rect): Rect {
    return intersectRect(r, this.bounds);
  }

  /** The number of ops so far, applied or not. */
  get version(): number {
    return this.applied + this.deferred.length - this.head;
  }

  /** The pixels, up to date. Only read them; writing goes through the ops or prepareWrite(). */
  get surface(): Surface {
    return this.catchUpTo(this.version);
  }

  /** The same pixels as a Raster. */
  get raster(): Raster {
    const surface = this.catchUpTo(this.version);
    this.pixelRaster ??= {
      width: this.width,
      height: this.height,
      stride: this.width,
      pixels: surface.pixels,
      hasAlpha: this.format === SurfaceFormat.ARGB32,
    };
    return this.pixelRaster;
  }

  /**
   * Before drawing into the pixels directly (rendering): up to date, every reader of the current
   * version served, and the drawing counted as an op of its own.
   */
  prepareWrite(): void {
    this.catchUpTo(this.version);
    this.servePins(this.applied);
    this.applied++;
  }

  fill(rect: Rect, color: number): void {
    this.defer({ kind: 'fill', rect, color }, 0);
  }

  /** `image` must never change afterwards (it is read when the backlog is applied). */
  putImage(dest: Rect, image: PixelImage): void {
    this.defer({ kind: 'putImage', dest, image }, image.data.length);
  }

  copyBits(src: Point, dest: Rect): void {
    this.defer({ kind: 'copyBits', src, dest }, 0);
  }

  blitFrom(source: ShadowSurface, src: Point, dest: Rect): void {
    if (source === this) {
      this.prepareWrite();
      this.catchUpTo(this.version).blitFrom(this.catchUpTo(this.version), src, dest);
      return;
    }
    const pin: Pin = { version: source.version, reader: this, op: this.version, done: false };
    source.pins.push(pin);
    this.defer({ kind: 'blitFrom', source, pin, src, dest }, 0);
  }

  /** The surface is gone: unless a reader still has to see it, its backlog is dropped. */
  discard(): void {
    if (this.pins.some((p) => !p.done)) return;
    for (let i = this.head; i < this.deferred.length; i++) {
      const op = this.deferred[i]!;
      if (op.kind === 'blitFrom') op.pin.done = true;
    }
    this.deferred = [];
    this.head = 0;
    this.deferredBytes = 0;
  }

  private defer(op: Deferred, bytes: number): void {
    this.deferred.push(op);
    this.deferredBytes += bytes;
    if (this.deferred.length - this.head >= MAX_DEFERRED_OPS || this.deferredBytes >= MAX_DEFERRED_IMAGE_BYTES)
      this.catchUpTo(this.version);
  }

  /** Applies ops until the pixels show `version` (a new surface starts cleared, as the server's does). */
  private catchUpTo(version: number): Surface {
    this.pixels ??= new Surface(this.id, this.width, this.height);
    if (version < this.applied)
      throw new Error(`shadow surface ${this.id}: version ${version} is gone (now ${this.applied})`);
    while (this.applied < version) {
      this.servePins(this.applied);
      // Readers only ever ask for versions up to the current one; this is just a guard.
      if (this.applied >= version) break;
      const op = this.deferred[this.head]!;
      this.head++;
      this.apply(this.pixels, op);
      this.applied++;
    }
    if (this.head === this.deferred.length) {
      this.deferred = [];
      this.head = 0;
      this.deferredBytes = 0;
    }
    return this.pixels;
  }

  /** Readers that need `version` catch up to their blit now, before this surface moves on. */
  private servePins(version: number): void {
    const pins = this.pins;
    while (pins.length > 0 && (pins[0]!.done || pins[0]!.version <= version)) {
      const pin = pins[0]!;
      if (!pin.done) {
        if (pin.version < version) throw new Error(`shadow surface ${this.id}: a reader missed version ${pin.version}`);
        pin.reader.catchUpTo(pin.op + 1);
      }
      pins.shift();
    }
  }

  private apply(pixels: Surface, op: Deferred): void {
    switch (op.kind) {
      case 'fill':
        pixels.fill(op.rect, op.color);
        return;
      case 'putImage':
        pixels.putImage(op.dest, op.image);
        return;
      case 'copyBits':
        pixels.copyBits(op.src, op.dest);
        return;
      case 'blitFrom':
        pixels.blitFrom(op.source.catchUpTo(op.pin.version), op.src, op.dest);
        op.pin.done = true;
        return;
    }
  }
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
    this.map.get(id)?.discard();
    const shadow = new ShadowSurface(id, width, height, format);
    this.map.set(id, shadow);
    return shadow;
  }

  destroy(id: number): boolean {
    const shadow = this.map.get(id);
    shadow?.discard();
    return this.map.delete(id);
  }

  clear(): void {
    for (const shadow of this.map.values()) shadow.discard();
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
export function resolveImage(
  img: QxlImage | null,
  surfaces: ShadowSurfaces,
  where: string,
  srcHasAlpha = false,
): Raster {
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
