import type { PipeItem } from '../channel/pipe.js';
import { SurfaceFlags, SurfaceFormat } from '../protocol/constants.js';
import { encodeCopyBits, encodeDrawCopy, encodeDrawFill, encodeMonitorsConfig, encodeSurfaceCreate, encodeSurfaceDestroy, type DisplayBase } from '../protocol/display.js';
import type { Point, Rect } from '../protocol/geometry.js';
import type { OutMessage } from '../protocol/message.js';
import { cropImage, type PixelImage } from '../display/pixels.js';
import type { Surface } from '../display/surface.js';
import { encodeWireImage, imageRegion, type ImageCompression } from '../display/wire-image.js';

/** Pipe items of the display channel that draw into a rectangle of the primary surface. */
export interface DrawItem extends PipeItem {
  readonly rect: Rect;
}

export function isDrawItem(item: PipeItem): item is DrawItem {
  return 'rect' in item;
}

function base(rect: Rect): DisplayBase {
  return { surfaceId: 0, box: rect, clip: { type: 'none' } };
}

function rectSize(r: Rect): { w: number; h: number } {
  return { w: r.right - r.left, h: r.bottom - r.top };
}

export function fillItem(rect: Rect, color: number): DrawItem {
  return { rect, weight: 64, marshal: () => encodeDrawFill(base(rect), color) };
}

export function copyBitsItem(rect: Rect, src: Point): DrawItem {
  return { rect, weight: 64, marshal: () => encodeCopyBits(base(rect), src) };
}

/**
 * Encoded images shared by every viewer that sends the same update: the first client to send it
 * encodes, the others reuse the bytes.
 */
export class SharedImage {
  private encoded = new Map<ImageCompression, Buffer[]>();

  constructor(
    private readonly image: PixelImage,
    private readonly src: Point,
    readonly rect: Rect,
  ) {}

  get pixels(): number {
    const { w, h } = rectSize(this.rect);
    return w * h;
  }

  parts(compression: ImageCompression): Buffer[] {
    let parts = this.encoded.get(compression);
    if (!parts) {
      const { w, h } = rectSize(this.rect);
      // spice-html5 ignores src_area and draws the whole image at the box: send exactly the box.
      parts = encodeWireImage(imageRegion(this.image, this.src.x, this.src.y, w, h), compression);
      this.encoded.set(compression, parts);
    }
    return parts;
  }
}

export function copyItem(shared: SharedImage, compression: () => ImageCompression): DrawItem {
  const rect = shared.rect;
  const { w, h } = rectSize(rect);
  return {
    rect,
    weight: shared.pixels * 4,
    marshal: () => encodeDrawCopy(base(rect), { top: 0, left: 0, bottom: h, right: w }, shared.parts(compression())),
  };
}

/** A fresh image of the surface's current pixels in `rect` (captured now, encoded when sent). */
export function snapshotItem(surface: Surface, rect: Rect, compression: () => ImageCompression): DrawItem {
  const { w, h } = rectSize(rect);
  const shared = new SharedImage(cropImage(surface, rect.left, rect.top, w, h), { x: 0, y: 0 }, rect);
  return copyItem(shared, compression);
}

function fixedItem(m: OutMessage): PipeItem {
  return { weight: 0, marshal: () => m };
}

export function surfaceCreateItem(surface: Surface): PipeItem {
  return fixedItem(encodeSurfaceCreate({ surfaceId: 0, width: surface.width, height: surface.height, format: SurfaceFormat.Xrgb32, flags: SurfaceFlags.Primary }));
}

export function surfaceDestroyItem(): PipeItem {
  return fixedItem(encodeSurfaceDestroy(0));
}

export function monitorsConfigItem(surface: Surface): PipeItem {
  return fixedItem(encodeMonitorsConfig([{ id: 0, surfaceId: 0, width: surface.width, height: surface.height, x: 0, y: 0, flags: 0 }], 1));
}
