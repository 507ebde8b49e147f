import { deflateSync } from 'node:zlib';
import type { Point, Rect } from '../../../protocol/geometry.js';
import { DrawType, QxlCmd, WorkerMessage } from './qxl-types.js';

/*
 * Writes "SPICE_REPLAY 1" recordings in the layout red-record-qxl.c produces (see
 * event-stream.ts and the decoders for the field order). Used to build small synthetic
 * recordings for tests and examples; real ones come from spice-server.
 */

export interface BitmapSpec {
  format: number;
  width: number;
  height: number;
  stride: number;
  data: Buffer;
  topDown?: boolean;
  palette?: number[];
  /** Split the data into this many chunks (default 1). */
  chunks?: number;
}

export type ImageSpec = { bitmap: BitmapSpec } | { surfaceId: number } | null;

export interface DrawSpec {
  bbox: Rect;
  surfaceId?: number;
  clip?: Rect[];
  type: number;
  /** Writes the op's fields after "type N". */
  op: (w: RecordingWriter) => void;
}

export class RecordingWriter {
  private readonly parts: Buffer[] = [Buffer.from('SPICE_REPLAY 1\n', 'latin1')];
  private counter = 0;
  private timeNs = 1_000_000_000n;

  event(what: number, type: number, stepNs = 1_000_000n): this {
    this.timeNs += stepNs;
    return this.line(`event ${this.counter++} ${what} ${type} ${this.timeNs}`);
  }

  line(text: string): this {
    this.parts.push(Buffer.from(`${text}\n`, 'latin1'));
    return this;
  }

  blob(name: string, data: Buffer, zlib = false): this {
    if (zlib) {
      const z = deflateSync(data);
      this.parts.push(Buffer.from(`binary 1 ${name} ${data.length}:${z.length}:`, 'latin1'), z, Buffer.from('\n'));
    } else {
      this.parts.push(Buffer.from(`binary 0 ${name} ${data.length}:`, 'latin1'), data, Buffer.from('\n'));
    }
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }

  device(message: number): this {
    return this.event(1, message);
  }

  /** CREATE_PRIMARY_SURFACE with a negative stride (as Xspice does) and optional initial pixels. */
  createPrimary(width: number, height: number, data?: Buffer): this {
    this.event(1, WorkerMessage.CREATE_PRIMARY_SURFACE);
    this.line(`${width} ${height} ${-4 * width} 32`);
    this.line(`0 1 ${data ? 1 : 0} 0`);
    return this.blob('data', data ?? Buffer.alloc(width * height * 4));
  }

  createSurface(id: number, width: number, height: number, format = 32): this {
    this.event(0, QxlCmd.SURFACE).line('surface_cmd').line(`surface_id ${id}`).line('type 0').line('flags 0');
    return this.line(`u.surface_create.format ${format}`)
      .line(`u.surface_create.width ${width}`)
      .line(`u.surface_create.height ${height}`)
      .line(`u.surface_create.stride ${-4 * width}`);
  }

  destroySurface(id: number): this {
    return this.event(0, QxlCmd.SURFACE).line('surface_cmd').line(`surface_id ${id}`).line('type 1').line('flags 0');
  }

  rect(name: string, r: Rect): this {
    return this.line(`rect ${name} ${r.top} ${r.left} ${r.bottom} ${r.right}`);
  }

  draw(spec: DrawSpec): this {
    this.event(0, QxlCmd.DRAW).line('drawable').rect('bbox', spec.bbox);
    if (spec.clip) {
      const rects = Buffer.alloc(16 * spec.clip.length);
      spec.clip.forEach((r, i) =>
        [r.top, r.left, r.bottom, r.right].forEach((v, k) => rects.writeInt32LE(v, 16 * i + 4 * k)),
      );
      this.line('type 1')
        .line(`num_rects ${spec.clip.length}`)
        .line(`data_chunks 0 ${rects.length}`)
        .blob('clip_rects', rects);
    } else {
      this.line('type 0');
    }
    this.line('effect 1')
      .line('mm_time 0')
      .line('self_bitmap 0')
      .rect('self_bitmap_area', { top: 0, left: 0, bottom: 0, right: 0 });
    this.line(`surface_id ${spec.surfaceId ?? 0}`);
    for (let i = 0; i < 3; i++)
      this.line('surfaces_dest -1').rect('surfaces_rects', { top: 0, left: 0, bottom: 0, right: 0 });
    this.line(`type ${spec.type}`);
    spec.op(this);
    return this;
  }

  image(spec: ImageSpec): this {
    if (!spec) return this.line('image 0');
    this.line('image 1').line('descriptor.id 1234');
    if ('surfaceId' in spec) {
      return this.line('descriptor.type 104')
        .line('descriptor.flags 0')
        .line('descriptor.width 0')
        .line('descriptor.height 0')
        .line(`surface_image.surface_id ${spec.surfaceId}`);
    }
    const b = spec.bitmap;
    this.line('descriptor.type 0')
      .line('descriptor.flags 0')
      .line(`descriptor.width ${b.width}`)
      .line(`descriptor.height ${b.height}`);
    this.line(`bitmap.format ${b.format}`)
      .line(`bitmap.flags ${b.topDown ? 4 : 0}`)
      .line(`bitmap.x ${b.width}`)
      .line(`bitmap.y ${b.height}`);
    this.line(`bitmap.stride ${b.stride}`).line(`has_palette ${b.palette ? 1 : 0}`);
    if (b.palette) {
      this.line(`qp.num_ents ${b.palette.length}`).line('unique 0');
      for (const e of b.palette) this.line(`ents ${e | 0}`);
    }
    return this.chunks('bitmap.data', b.data, b.chunks ?? 1);
  }

  chunks(name: string, data: Buffer, count: number): this {
    const size = Math.ceil(data.length / count);
    this.line(`data_chunks ${count - 1} ${data.length}`);
    for (let i = 0; i < count; i++) this.blob(name, data.subarray(i * size, Math.min(data.length, (i + 1) * size)));
    return this;
  }

  solidBrush(color: number): this {
    return this.line('type 1').line(`u.color ${color | 0}`);
  }

  noMask(): this {
    return this.line('flags 0').line('point 0 0').line('image 0');
  }

  fill(
    bbox: Rect,
    color: number,
    opts: { ropd?: number; clip?: Rect[]; surfaceId?: number; mask?: (w: RecordingWriter) => void } = {},
  ): this {
    return this.draw({
      bbox,
      clip: opts.clip,
      surfaceId: opts.surfaceId,
      type: DrawType.FILL,
      op: (w) => {
        w.solidBrush(color).line(`rop_descriptor ${opts.ropd ?? 8}`);
        if (opts.mask) opts.mask(w);
        else w.noMask();
      },
    });
  }

  copy(
    bbox: Rect,
    src: ImageSpec,
    srcArea: Rect,
    opts: { ropd?: number; clip?: Rect[]; surfaceId?: number; scaleMode?: number } = {},
  ): this {
    return this.draw({
      bbox,
      clip: opts.clip,
      surfaceId: opts.surfaceId,
      type: DrawType.COPY,
      op: (w) =>
        w
          .image(src)
          .rect('src_area', srcArea)
          .line(`rop_descriptor ${opts.ropd ?? 8}`)
          .line(`scale_mode ${opts.scaleMode ?? 1}`)
          .noMask(),
    });
  }

  copyBits(bbox: Rect, srcPos: Point, clip?: Rect[]): this {
    return this.draw({ bbox, clip, type: DrawType.COPY_BITS, op: (w) => w.line(`point ${srcPos.x} ${srcPos.y}`) });
  }

  cursorSet(
    pos: Point,
    visible: boolean,
    shape: { unique: number; type: number; width: number; height: number; hotX: number; hotY: number; data: Buffer },
  ): this {
    this.event(0, QxlCmd.CURSOR)
      .line('cursor_cmd')
      .line('type 0')
      .line(`point16 ${pos.x} ${pos.y}`)
      .line(`u.set.visible ${visible ? 1 : 0}`);
    this.line(`header.unique ${shape.unique}`)
      .line(`header.type ${shape.type}`)
      .line(`header.width ${shape.width}`)
      .line(`header.height ${shape.height}`);
    this.line(`header.hot_spot_x ${shape.hotX}`)
      .line(`header.hot_spot_y ${shape.hotY}`)
      .line(`data_size ${shape.data.length}`);
    return this.chunks('cursor', shape.data, 1);
  }

  cursorMove(pos: Point): this {
    return this.event(0, QxlCmd.CURSOR).line('cursor_cmd').line('type 1').line(`point16 ${pos.x} ${pos.y}`);
  }

  cursorHide(): this {
    return this.event(0, QxlCmd.CURSOR).line('cursor_cmd').line('type 2');
  }
}
