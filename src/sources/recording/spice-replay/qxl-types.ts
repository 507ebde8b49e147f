import type { Point, Rect } from '../../../protocol/geometry.js';

/*
 * The QXL command stream as the recording holds it, after decoding. Values and names follow
 * spice-protocol (spice/qxl_dev.h, spice/enums.h). In the recording every guest pointer has
 * already been followed by the recorder: what a QXLPHYSICAL pointed to is written inline (text
 * fields, or blobs for raw memory such as bitmap data, clip rects, paths and strings). So no
 * guest address survives into the file and nothing needs translating through memslots: the
 * ADD_MEMSLOT device message is recorded without its payload.
 */

/** QXLCmdType (event type when what = 0). */
export const QxlCmd = { DRAW: 1, UPDATE: 2, CURSOR: 3, MESSAGE: 4, SURFACE: 5 } as const;

/** RedWorkerMessage (event type when what = 1), from server/red-worker.h. */
export const WorkerMessage = {
  NOP: 0,
  UPDATE: 1,
  WAKEUP: 2,
  OOM: 3,
  READY: 4,
  DISPLAY_CONNECT: 5,
  DISPLAY_DISCONNECT: 6,
  DISPLAY_MIGRATE: 7,
  START: 8,
  STOP: 9,
  CURSOR_CONNECT: 10,
  CURSOR_DISCONNECT: 11,
  CURSOR_MIGRATE: 12,
  SET_COMPRESSION: 13,
  SET_STREAMING_VIDEO: 14,
  SET_MOUSE_MODE: 15,
  ADD_MEMSLOT: 16,
  DEL_MEMSLOT: 17,
  RESET_MEMSLOTS: 18,
  DESTROY_SURFACES: 19,
  CREATE_PRIMARY_SURFACE: 20,
  DESTROY_PRIMARY_SURFACE: 21,
  RESET_CURSOR: 22,
  RESET_IMAGE_CACHE: 23,
  DESTROY_SURFACE_WAIT: 24,
  LOADVM_COMMANDS: 25,
  UPDATE_ASYNC: 26,
  ADD_MEMSLOT_ASYNC: 27,
  DESTROY_SURFACES_ASYNC: 28,
  CREATE_PRIMARY_SURFACE_ASYNC: 29,
  DESTROY_PRIMARY_SURFACE_ASYNC: 30,
  DESTROY_SURFACE_WAIT_ASYNC: 31,
  FLUSH_SURFACES_ASYNC: 32,
  DISPLAY_CHANNEL_CREATE: 33,
  CURSOR_CHANNEL_CREATE: 34,
  MONITORS_CONFIG_ASYNC: 35,
  DRIVER_UNLOAD: 36,
  GL_SCANOUT: 37,
  GL_DRAW_ASYNC: 38,
  SET_VIDEO_CODECS: 39,
  CLOSE_WORKER: 40,
} as const;

export const WORKER_MESSAGE_NAMES: readonly string[] = Object.keys(WorkerMessage);

/** QXL_DRAW_* / QXL_COPY_BITS (QXLDrawable.type). */
export const DrawType = {
  NOP: 0,
  FILL: 1,
  OPAQUE: 2,
  COPY: 3,
  COPY_BITS: 4,
  BLEND: 5,
  BLACKNESS: 6,
  WHITENESS: 7,
  INVERS: 8,
  ROP3: 9,
  STROKE: 10,
  TEXT: 11,
  TRANSPARENT: 12,
  ALPHA_BLEND: 13,
  COMPOSITE: 14,
} as const;

export const ImageType = { BITMAP: 0, QUIC: 1, SURFACE: 104 } as const;

/** SPICE_BITMAP_FMT_* */
export const BitmapFormat = {
  INVALID: 0,
  ONE_BIT_LE: 1,
  ONE_BIT_BE: 2,
  FOUR_BIT_LE: 3,
  FOUR_BIT_BE: 4,
  EIGHT_BIT: 5,
  SIXTEEN_BIT: 6,
  TWENTY_FOUR_BIT: 7,
  THIRTY_TWO_BIT: 8,
  RGBA: 9,
  EIGHT_BIT_A: 10,
} as const;

/** QXLBitmap.flags (QXLBitmapFlags: DIRECT = data is one flat block instead of a chunk list). */
export const BitmapFlags = { DIRECT: 1, UNSTABLE: 2, TOP_DOWN: 4 } as const;

/** QXLImageDescriptor.flags (QXLImageFlags) */
export const ImageFlags = { CACHE: 1, HIGH_BITS_SET: 2 } as const;

/** SPICE_SURFACE_FMT_* */
export const SurfaceFormat = { A1: 1, A8: 8, RGB16_555: 16, RGB32_x: 32, RGB16_565: 80, ARGB32: 96 } as const;

export const BrushType = { NONE: 0, SOLID: 1, PATTERN: 2 } as const;
export const ClipType = { NONE: 0, RECTS: 1 } as const;
export const MaskFlags = { INVERS: 1 } as const;
export const ScaleMode = { INTERPOLATE: 0, NEAREST: 1 } as const;
export const AlphaFlags = { DEST_HAS_ALPHA: 1, SRC_SURFACE_HAS_ALPHA: 2 } as const;
export const StringFlags = { RASTER_A1: 1, RASTER_A4: 2, RASTER_A8: 4, RASTER_TOP_DOWN: 8 } as const;
export const SurfaceCmdType = { CREATE: 0, DESTROY: 1 } as const;
export const SurfaceFlags = { KEEP_DATA: 1 } as const;
export const CursorCmdType = { SET: 0, MOVE: 1, HIDE: 2, TRAIL: 3 } as const;
/** SPICE_CURSOR_TYPE_* */
export const CursorType = { ALPHA: 0, MONO: 1, COLOR4: 2, COLOR8: 3, COLOR16: 4, COLOR24: 5, COLOR32: 6 } as const;

export interface QxlPalette {
  readonly unique: bigint;
  /** 0x00RRGGBB (as u32) per entry. */
  readonly ents: readonly number[];
}

interface ImageBase {
  readonly id: bigint;
  /** SpiceImageDescriptor.flags */
  readonly flags: number;
  readonly width: number;
  readonly height: number;
}

export interface QxlBitmapImage extends ImageBase {
  readonly kind: 'bitmap';
  readonly format: number;
  /** QXLBitmap.flags (TOP_DOWN ...) */
  readonly bitmapFlags: number;
  readonly x: number;
  readonly y: number;
  readonly stride: number;
  readonly palette: QxlPalette | null;
  /** All rows, chunks joined: y * stride bytes. */
  readonly data: Buffer;
}

export interface QxlSurfaceImage extends ImageBase {
  readonly kind: 'surface';
  readonly surfaceId: number;
}

export interface QxlQuicImage extends ImageBase {
  readonly kind: 'quic';
  readonly data: Buffer;
}

export type QxlImage = QxlBitmapImage | QxlSurfaceImage | QxlQuicImage;

export type QxlBrush =
  | { readonly kind: 'none' }
  | { readonly kind: 'solid'; readonly color: number }
  | { readonly kind: 'pattern'; readonly image: QxlImage | null; readonly pos: Point };

export interface QxlMask {
  readonly flags: number;
  readonly pos: Point;
  readonly bitmap: QxlImage | null;
}

export type QxlClip = { readonly kind: 'none' } | { readonly kind: 'rects'; readonly rects: readonly Rect[] };

/** An image source with the area of it that is used. */
export interface QxlSource {
  readonly image: QxlImage | null;
  readonly area: Rect;
}

export type QxlDrawOp =
  | { readonly type: 'nop' }
  | { readonly type: 'fill'; readonly brush: QxlBrush; readonly ropd: number; readonly mask: QxlMask }
  | {
      readonly type: 'copy' | 'blend';
      readonly src: QxlSource;
      readonly ropd: number;
      readonly scaleMode: number;
      readonly mask: QxlMask;
    }
  | {
      readonly type: 'opaque';
      readonly src: QxlSource;
      readonly brush: QxlBrush;
      readonly ropd: number;
      readonly scaleMode: number;
      readonly mask: QxlMask;
    }
  | { readonly type: 'copyBits'; readonly srcPos: Point }
  | { readonly type: 'blackness' | 'whiteness' | 'invers'; readonly mask: QxlMask }
  | {
      readonly type: 'rop3';
      readonly src: QxlSource;
      readonly brush: QxlBrush;
      readonly rop3: number;
      readonly scaleMode: number;
      readonly mask: QxlMask;
    }
  | { readonly type: 'transparent'; readonly src: QxlSource; readonly srcColor: number; readonly trueColor: number }
  | { readonly type: 'alphaBlend'; readonly alphaFlags: number; readonly alpha: number; readonly src: QxlSource }
  | {
      readonly type: 'stroke';
      /** QXLPathSeg records: u32 flags, u32 count, count x (i32 x, i32 y) in 28.4 fixed point. */
      readonly path: Buffer;
      readonly attrFlags: number;
      readonly style: Buffer | null;
      readonly brush: QxlBrush;
      readonly foreMode: number;
      readonly backMode: number;
    }
  | {
      readonly type: 'text';
      readonly str: QxlString;
      readonly backArea: Rect;
      readonly foreBrush: QxlBrush;
      readonly backBrush: QxlBrush;
      readonly foreMode: number;
      readonly backMode: number;
    }
  | {
      readonly type: 'composite';
      readonly flags: number;
      readonly src: QxlImage | null;
      readonly srcTransform: Buffer | null;
      readonly mask: QxlImage | null;
      readonly maskTransform: Buffer | null;
      readonly srcOrigin: Point;
      readonly maskOrigin: Point;
    };

export interface QxlString {
  readonly length: number;
  readonly flags: number;
  /** QXLRasterGlyph records: QXLPoint render_pos, QXLPoint glyph_origin, u16 width, u16 height, data. */
  readonly data: Buffer;
}

export interface QxlDrawable {
  readonly bbox: Rect;
  readonly clip: QxlClip;
  readonly effect: number;
  readonly surfaceId: number;
  readonly selfBitmap: number;
  readonly op: QxlDrawOp;
}

export interface QxlCursorShape {
  readonly unique: bigint;
  readonly type: number;
  readonly width: number;
  readonly height: number;
  readonly hotX: number;
  readonly hotY: number;
  readonly data: Buffer;
}

export type QxlCursorCmd =
  | { readonly type: 'set'; readonly position: Point; readonly visible: boolean; readonly shape: QxlCursorShape }
  | { readonly type: 'move'; readonly position: Point }
  | { readonly type: 'hide' }
  | { readonly type: 'trail'; readonly length: number; readonly frequency: number };

export type QxlSurfaceCmd =
  | {
      readonly type: 'create';
      readonly surfaceId: number;
      readonly flags: number;
      readonly format: number;
      readonly width: number;
      readonly height: number;
      readonly stride: number;
      /** Present only with KEEP_DATA: height * |stride| bytes in memory order. */
      readonly data: Buffer | null;
    }
  | { readonly type: 'destroy'; readonly surfaceId: number; readonly flags: number };

export interface PrimarySurfaceCreate {
  readonly width: number;
  readonly height: number;
  readonly stride: number;
  readonly format: number;
  readonly position: number;
  readonly mouseMode: number;
  readonly flags: number;
  readonly type: number;
  /** |stride| * height bytes in memory order (bottom row first when stride < 0); may be empty. */
  readonly data: Buffer;
}

/** One decoded event of the recording. */
export type ReplayEvent = { readonly counter: number; readonly timeNs: bigint } & (
  | { readonly kind: 'draw'; readonly drawable: QxlDrawable }
  | { readonly kind: 'update'; readonly area: Rect; readonly updateId: number; readonly surfaceId: number }
  | { readonly kind: 'cursor'; readonly cmd: QxlCursorCmd }
  | { readonly kind: 'message'; readonly text: string }
  | { readonly kind: 'surface'; readonly cmd: QxlSurfaceCmd }
  | { readonly kind: 'createPrimary'; readonly surface: PrimarySurfaceCreate }
  | { readonly kind: 'device'; readonly message: number }
);
