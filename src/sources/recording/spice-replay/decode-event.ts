import type { EventHeader } from './event-stream.js';
import type { FieldCursor } from './field-cursor.js';
import { readDataChunks } from './decode-common.js';
import { readDrawable } from './decode-draw.js';
import {
  CursorCmdType,
  QxlCmd,
  SurfaceCmdType,
  SurfaceFlags,
  WorkerMessage,
  type QxlCursorCmd,
  type QxlCursorShape,
  type QxlSurfaceCmd,
  type ReplayEvent,
} from './qxl-types.js';

/*
 * Event bodies other than drawables (red-record-qxl.c, red-worker.c):
 *
 *   what=1 (device I/O): no body, except CREATE_PRIMARY_SURFACE(_ASYNC) (20, 29):
 *       "<width> <height> <stride> <format>"  "<position> <mouse_mode> <flags> <type>"
 *       blob "data" (|stride| * height bytes from the lowest address, i.e. bottom row first
 *       when stride < 0; empty when the guest gave no memory)
 *   QXL_CMD_UPDATE:  "update" "rect area" "update_id" "surface_id"
 *   QXL_CMD_MESSAGE: blob "message"
 *   QXL_CMD_SURFACE: "surface_cmd" "surface_id" "type 0|1" "flags"
 *       CREATE: "u.surface_create.format" ".width" ".height" ".stride" [KEEP_DATA: blob "data"]
 *   QXL_CMD_CURSOR:  "cursor_cmd" "type"
 *       SET:   "point16 x y" "u.set.visible" "header.unique" "header.type" "header.width"
 *              "header.height" "header.hot_spot_x" "header.hot_spot_y" "data_size"
 *              data chunks "cursor"
 *       MOVE:  "point16 x y"     HIDE: nothing     TRAIL: "u.trail.length" "u.trail.frequency"
 */

/** The event with this header, its body read by `c`. */
export function decodeEvent(header: EventHeader, c: FieldCursor): ReplayEvent {
  if (header.what !== 0 && header.what !== 1)
    c.fail(`unknown event class what=${header.what} (0 = QXL command, 1 = device I/O)`);
  const body = header.what === 1 ? decodeDevice(c, header.type) : decodeCommand(c, header.type);
  // Object.assign adds the two fields in place; a spread into a new object went through a slow,
  // allocation-heavy path for every event.
  const event: ReplayEvent = Object.assign(body, { counter: header.counter, timeNs: header.timeNs });
  c.end();
  return event;
}

/** The event without its header fields (Omit applied to each member of the union). */
type BodyOf<E> = E extends ReplayEvent ? Omit<E, 'counter' | 'timeNs'> : never;
type EventBody = BodyOf<ReplayEvent>;

function decodeDevice(c: FieldCursor, type: number): EventBody {
  if (type === WorkerMessage.CREATE_PRIMARY_SURFACE || type === WorkerMessage.CREATE_PRIMARY_SURFACE_ASYNC) {
    const [width, height, stride, format] = c.bareInts(4, 'width height stride format') as [
      number,
      number,
      number,
      number,
    ];
    const [position, mouseMode, flags, surfType] = c.bareInts(4, 'position mouse_mode flags type') as [
      number,
      number,
      number,
      number,
    ];
    const data = c.blob('data');
    if (data.length !== 0 && data.length !== Math.abs(stride) * height) {
      c.fail(`primary surface data is ${data.length} bytes, expected ${Math.abs(stride) * height}`);
    }
    return {
      kind: 'createPrimary',
      surface: { width, height, stride, format, position, mouseMode, flags, type: surfType, data },
    };
  }
  if (type > WorkerMessage.CLOSE_WORKER) c.fail(`unknown device message ${type}`);
  return { kind: 'device', message: type };
}

function decodeCommand(c: FieldCursor, type: number): EventBody {
  switch (type) {
    case QxlCmd.DRAW:
      return { kind: 'draw', drawable: readDrawable(c) };
    case QxlCmd.UPDATE: {
      c.keyword('update');
      const area = c.rect('area');
      const updateId = c.int('update_id');
      return { kind: 'update', area, updateId, surfaceId: c.int('surface_id') };
    }
    case QxlCmd.CURSOR:
      return { kind: 'cursor', cmd: readCursorCmd(c) };
    case QxlCmd.MESSAGE:
      return { kind: 'message', text: c.blob('message').toString('latin1') };
    case QxlCmd.SURFACE:
      return { kind: 'surface', cmd: readSurfaceCmd(c) };
    default:
      return c.fail(`unknown QXL command type ${type}`);
  }
}

function readSurfaceCmd(c: FieldCursor): QxlSurfaceCmd {
  c.keyword('surface_cmd');
  const surfaceId = c.int('surface_id');
  const type = c.int('type');
  const flags = c.int('flags');
  if (type === SurfaceCmdType.DESTROY) return { type: 'destroy', surfaceId, flags };
  if (type !== SurfaceCmdType.CREATE) c.fail(`unknown surface command type ${type}`);
  const format = c.int('u.surface_create.format');
  const width = c.int('u.surface_create.width');
  const height = c.int('u.surface_create.height');
  const stride = c.int('u.surface_create.stride');
  let data: Buffer | null = null;
  if (flags & SurfaceFlags.KEEP_DATA) {
    data = c.blob('data');
    if (data.length !== Math.abs(stride) * height)
      c.fail(`surface data is ${data.length} bytes, expected ${Math.abs(stride) * height}`);
  }
  if (width <= 0 || height <= 0) c.fail(`bad surface size ${width}x${height}`);
  return { type: 'create', surfaceId, flags, format, width, height, stride, data };
}

function readCursorCmd(c: FieldCursor): QxlCursorCmd {
  c.keyword('cursor_cmd');
  const type = c.int('type');
  switch (type) {
    case CursorCmdType.SET: {
      const position = c.point('point16');
      const visible = c.int('u.set.visible') !== 0;
      return { type: 'set', position, visible, shape: readCursorShape(c) };
    }
    case CursorCmdType.MOVE:
      return { type: 'move', position: c.point('point16') };
    case CursorCmdType.HIDE:
      return { type: 'hide' };
    case CursorCmdType.TRAIL: {
      const length = c.int('u.trail.length');
      return { type: 'trail', length, frequency: c.int('u.trail.frequency') };
    }
    default:
      return c.fail(`unknown cursor command type ${type}`);
  }
}

function readCursorShape(c: FieldCursor): QxlCursorShape {
  const unique = c.bigint('header.unique');
  const type = c.int('header.type');
  const width = c.int('header.width');
  const height = c.int('header.height');
  const hotX = c.int('header.hot_spot_x');
  const hotY = c.int('header.hot_spot_y');
  // spice-server's replayer ignores data_size and trusts the chunks; so does this decoder (the
  // shape converter checks that the chunks hold enough bytes for the shape).
  c.int('data_size');
  const data = readDataChunks(c, 'cursor');
  return { unique, type, width, height, hotX, hotY, data };
}
