import type { Rect } from '../../../protocol/geometry.js';
import type { FieldCursor } from './field-cursor.js';
import {
  BitmapFlags,
  BrushType,
  ClipType,
  ImageType,
  type QxlBrush,
  type QxlClip,
  type QxlImage,
  type QxlMask,
  type QxlPalette,
  type QxlSource,
} from './qxl-types.js';

/*
 * Decoders for the pieces shared by several records (red-record-qxl.c):
 *
 *   data chunks:  "data_chunks <extra_chunks> <total_size>" then 1 + extra_chunks blobs <prefix>
 *                 (QXLDataChunk lists are flattened by the recorder; the blobs concatenate)
 *   image:        "image 0"  (null pointer), or
 *                 "image 1" "descriptor.id" "descriptor.type" "descriptor.flags"
 *                 "descriptor.width" "descriptor.height" then by type:
 *     BITMAP (0):   "bitmap.format" "bitmap.flags" "bitmap.x" "bitmap.y" "bitmap.stride"
 *                   "has_palette 0|1" [ "qp.num_ents N" "unique U" N x "ents E" ]
 *                   then flags & DIRECT ? blob "image_data_flat" : data chunks "bitmap.data"
 *     SURFACE (104): "surface_image.surface_id"
 *     QUIC (1):     "quic.data_size" then data chunks "quic.data"
 *   brush:        "type 0|1|2" then SOLID: "u.color"; PATTERN: image + "point x y"
 *   qmask:        "flags" "point x y" image
 *   clip:         "type 0|1"; RECTS: "num_rects N" + data chunks "clip_rects" (N x i32 t,l,b,r)
 *
 * Numbers are printed with %d, so u32 values (colours, palette entries) may appear negative;
 * they are normalised with >>> 0.
 */

/** Reads a flattened QXLDataChunk list and checks its declared total size. */
export function readDataChunks(c: FieldCursor, prefix: string): Buffer {
  const [extra, total] = c.ints('data_chunks', 2) as [number, number];
  if (extra < 0) c.fail(`negative chunk count ${extra}`);
  const parts: Buffer[] = [];
  for (let i = 0; i <= extra; i++) parts.push(c.blob(prefix));
  const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  if (data.length !== total) c.fail(`data chunks "${prefix}" hold ${data.length} bytes, header says ${total}`);
  return data;
}

export function readImage(c: FieldCursor): QxlImage | null {
  if (c.int('image') === 0) return null;
  const id = c.bigint('descriptor.id');
  const type = c.int('descriptor.type');
  const flags = c.int('descriptor.flags');
  const width = c.int('descriptor.width');
  const height = c.int('descriptor.height');
  const base = { id, flags, width, height };
  switch (type) {
    case ImageType.BITMAP:
      return readBitmap(c, base);
    case ImageType.SURFACE:
      return { kind: 'surface', ...base, surfaceId: c.int('surface_image.surface_id') };
    case ImageType.QUIC: {
      const size = c.int('quic.data_size');
      const data = readDataChunks(c, 'quic.data');
      if (data.length !== size) c.fail(`quic data is ${data.length} bytes, quic.data_size says ${size}`);
      return { kind: 'quic', ...base, data };
    }
    default:
      return c.fail(`unknown image type ${type} (the recorder writes only BITMAP, QUIC and SURFACE)`);
  }
}

function readBitmap(c: FieldCursor, base: { id: bigint; flags: number; width: number; height: number }): QxlImage {
  const format = c.int('bitmap.format');
  const bitmapFlags = c.int('bitmap.flags');
  const x = c.int('bitmap.x');
  const y = c.int('bitmap.y');
  const stride = c.int('bitmap.stride');
  const palette = c.int('has_palette') ? readPalette(c) : null;
  const data = bitmapFlags & BitmapFlags.DIRECT ? c.blob('image_data_flat') : readDataChunks(c, 'bitmap.data');
  if (x < 0 || y < 0 || stride < 0) c.fail(`bad bitmap geometry ${x}x${y} stride ${stride}`);
  if (data.length < y * stride) c.fail(`bitmap data is ${data.length} bytes, needs ${y} rows of ${stride}`);
  return { kind: 'bitmap', ...base, format, bitmapFlags, x, y, stride, palette, data };
}

function readPalette(c: FieldCursor): QxlPalette {
  const count = c.int('qp.num_ents');
  const unique = c.bigint('unique');
  const ents: number[] = [];
  for (let i = 0; i < count; i++) ents.push(c.int('ents') >>> 0);
  return { unique, ents };
}

export function readBrush(c: FieldCursor): QxlBrush {
  const type = c.int('type');
  switch (type) {
    case BrushType.NONE:
      return { kind: 'none' };
    case BrushType.SOLID:
      return { kind: 'solid', color: c.int('u.color') >>> 0 };
    case BrushType.PATTERN: {
      const image = readImage(c);
      return { kind: 'pattern', image, pos: c.point() };
    }
    default:
      return c.fail(`unknown brush type ${type}`);
  }
}

export function readMask(c: FieldCursor): QxlMask {
  const flags = c.int('flags');
  const pos = c.point();
  return { flags, pos, bitmap: readImage(c) };
}

export function readClip(c: FieldCursor): QxlClip {
  const type = c.int('type');
  if (type === ClipType.NONE) return { kind: 'none' };
  if (type !== ClipType.RECTS) c.fail(`unknown clip type ${type}`);
  const count = c.int('num_rects');
  const data = readDataChunks(c, 'clip_rects');
  if (data.length < count * 16) c.fail(`clip has ${count} rects but only ${data.length} bytes`);
  const rects: Rect[] = [];
  for (let i = 0; i < count; i++) {
    const o = 16 * i;
    rects.push({
      top: data.readInt32LE(o),
      left: data.readInt32LE(o + 4),
      bottom: data.readInt32LE(o + 8),
      right: data.readInt32LE(o + 12),
    });
  }
  return { kind: 'rects', rects };
}

/** image + "rect src_area" */
export function readSource(c: FieldCursor): QxlSource {
  const image = readImage(c);
  return { image, area: c.rect('src_area') };
}
