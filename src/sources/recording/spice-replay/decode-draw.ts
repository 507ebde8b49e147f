import type { FieldCursor } from './field-cursor.js';
import { readBrush, readClip, readDataChunks, readImage, readMask, readSource } from './decode-common.js';
import { DrawType, type QxlDrawOp, type QxlDrawable, type QxlString } from './qxl-types.js';

/*
 * QXL_CMD_DRAW record (red_record_native_drawable / red_record_compat_drawable):
 *
 *   "drawable"
 *   "rect bbox t l b r"  clip  "effect"  "mm_time"
 *   native: "self_bitmap" "rect self_bitmap_area" "surface_id"
 *           3 x ("surfaces_dest id" "rect surfaces_rects ...")
 *   compat: "bitmap_offset" "rect bitmap_area"        (always surface 0)
 *   "type N" then the op:
 *     FILL         brush "rop_descriptor" qmask
 *     OPAQUE       image "rect src_area" brush "rop_descriptor" "scale_mode" qmask
 *     COPY, BLEND  image "rect src_area" "rop_descriptor" "scale_mode" qmask
 *     COPY_BITS    "point x y"                          (source position)
 *     BLACKNESS, WHITENESS, INVERS   qmask
 *     ROP3         image "rect src_area" brush "rop3" "scale_mode" qmask
 *     STROKE       data chunks "path" "attr.flags" [STYLED: "attr.style_nseg" blob "style"]
 *                  brush "fore_mode" "back_mode"
 *     TEXT         "data_size" "length" "flags" data chunks "string" "rect back_area"
 *                  brush (fore) brush (back) "fore_mode" "back_mode"
 *     TRANSPARENT  image "rect src_area" "src_color" "true_color"
 *     ALPHA_BLEND  native: "alpha_flags" "alpha" image "rect src_area"; compat: no alpha_flags
 *     COMPOSITE    "flags" image "src_transform 0|1" [blob "transform"] "mask 0|1" [image]
 *                  "mask_transform 0|1" [blob "transform"] "src_origin x y" "mask_origin x y"
 *
 * spice-server's own replayer assumes native drawables (the compat flag is not recorded); the
 * two layouts differ at the fifth field, so this decoder tells them apart by its key.
 */

const LINE_FLAGS_STYLED = 1 << 3;

export function readDrawable(c: FieldCursor): QxlDrawable {
  c.keyword('drawable');
  const bbox = c.rect('bbox');
  const clip = readClip(c);
  const effect = c.int('effect');
  c.int('mm_time');
  const compat = c.peekKey('bitmap_offset');
  let surfaceId = 0;
  let selfBitmap = 0;
  if (compat) {
    c.int('bitmap_offset');
    c.rect('bitmap_area');
  } else {
    selfBitmap = c.int('self_bitmap');
    c.rect('self_bitmap_area');
    surfaceId = c.int('surface_id');
    for (let i = 0; i < 3; i++) {
      c.int('surfaces_dest');
      c.rect('surfaces_rects');
    }
  }
  const type = c.int('type');
  const op = readDrawOp(c, type, compat);
  return { bbox, clip, effect, surfaceId, selfBitmap, op };
}

function readDrawOp(c: FieldCursor, type: number, compat: boolean): QxlDrawOp {
  switch (type) {
    case DrawType.NOP:
      return { type: 'nop' };
    case DrawType.FILL: {
      const brush = readBrush(c);
      const ropd = c.int('rop_descriptor');
      return { type: 'fill', brush, ropd, mask: readMask(c) };
    }
    case DrawType.OPAQUE: {
      const src = readSource(c);
      const brush = readBrush(c);
      const ropd = c.int('rop_descriptor');
      const scaleMode = c.int('scale_mode');
      return { type: 'opaque', src, brush, ropd, scaleMode, mask: readMask(c) };
    }
    case DrawType.COPY:
    case DrawType.BLEND: {
      const src = readSource(c);
      const ropd = c.int('rop_descriptor');
      const scaleMode = c.int('scale_mode');
      return { type: type === DrawType.COPY ? 'copy' : 'blend', src, ropd, scaleMode, mask: readMask(c) };
    }
    case DrawType.COPY_BITS:
      return { type: 'copyBits', srcPos: c.point() };
    case DrawType.BLACKNESS:
      return { type: 'blackness', mask: readMask(c) };
    case DrawType.WHITENESS:
      return { type: 'whiteness', mask: readMask(c) };
    case DrawType.INVERS:
      return { type: 'invers', mask: readMask(c) };
    case DrawType.ROP3: {
      const src = readSource(c);
      const brush = readBrush(c);
      const rop3 = c.int('rop3') & 0xff;
      const scaleMode = c.int('scale_mode');
      return { type: 'rop3', src, brush, rop3, scaleMode, mask: readMask(c) };
    }
    case DrawType.STROKE:
      return readStroke(c);
    case DrawType.TEXT:
      return readText(c);
    case DrawType.TRANSPARENT: {
      const src = readSource(c);
      const srcColor = c.int('src_color') >>> 0;
      return { type: 'transparent', src, srcColor, trueColor: c.int('true_color') >>> 0 };
    }
    case DrawType.ALPHA_BLEND: {
      const alphaFlags = compat ? 0 : c.int('alpha_flags');
      const alpha = c.int('alpha') & 0xff;
      return { type: 'alphaBlend', alphaFlags, alpha, src: readSource(c) };
    }
    case DrawType.COMPOSITE:
      if (compat) c.fail('COMPOSITE in a compat drawable');
      return readComposite(c);
    default:
      return c.fail(`unknown draw type ${type}`);
  }
}

function readStroke(c: FieldCursor): QxlDrawOp {
  const path = readDataChunks(c, 'path');
  const attrFlags = c.int('attr.flags');
  let style: Buffer | null = null;
  if (attrFlags & LINE_FLAGS_STYLED) {
    c.int('attr.style_nseg');
    style = c.blob('style');
  }
  const brush = readBrush(c);
  const foreMode = c.int('fore_mode');
  return { type: 'stroke', path, attrFlags, style, brush, foreMode, backMode: c.int('back_mode') };
}

function readText(c: FieldCursor): QxlDrawOp {
  const dataSize = c.int('data_size');
  const length = c.int('length');
  const flags = c.int('flags');
  const data = readDataChunks(c, 'string');
  if (data.length !== dataSize) c.fail(`string data is ${data.length} bytes, data_size says ${dataSize}`);
  const str: QxlString = { length, flags, data };
  const backArea = c.rect('back_area');
  const foreBrush = readBrush(c);
  const backBrush = readBrush(c);
  const foreMode = c.int('fore_mode');
  return { type: 'text', str, backArea, foreBrush, backBrush, foreMode, backMode: c.int('back_mode') };
}

function readComposite(c: FieldCursor): QxlDrawOp {
  const flags = c.int('flags') >>> 0;
  const src = readImage(c);
  const srcTransform = c.int('src_transform') ? c.blob('transform') : null;
  const mask = c.int('mask') ? readImage(c) : null;
  const maskTransform = c.int('mask_transform') ? c.blob('transform') : null;
  const srcOrigin = c.point('src_origin');
  const maskOrigin = c.point('mask_origin');
  return { type: 'composite', flags, src, srcTransform, mask, maskTransform, srcOrigin, maskOrigin };
}
