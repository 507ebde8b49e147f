import type { Rect } from '../../src/protocol/geometry.js';
import { DrawType, WorkerMessage } from '../../src/sources/recording/spice-replay/qxl-types.js';
import { RecordingWriter } from '../../src/sources/recording/spice-replay/record-writer.js';

/*
 * A small synthetic SPICE_REPLAY recording with every kind of event the importer handles: exact
 * fills, copies (several bitmap formats, chunked data, a clip), surfaces and blits, copy-bits,
 * rendered ops (XOR fill, scaled copy, WHITENESS, INVERS, ROP3), cursor commands and a zlib blob.
 */

function rect(left: number, top: number, right: number, bottom: number): Rect {
  return { top, left, bottom, right };
}

function pixels32(w: number, h: number, f: (x: number, row: number) => number): Buffer {
  const b = Buffer.alloc(w * h * 4);
  for (let r = 0; r < h; r++) for (let x = 0; x < w; x++) b.writeUInt32LE(f(x, r) >>> 0, 4 * (r * w + x));
  return b;
}

/** One recording with every kind of event the importer handles: exact, rendered, skipped, ignored. */
export function kitchenSink(): Buffer {
  const W = 24;
  const H = 16;
  const quad = pixels32(2, 2, (x, row) => [0x110000, 0x220000, 0x330000, 0x440000][row * 2 + x]!);
  const grad = pixels32(5, 3, (x, row) => 0x030201 * (x + 1) + 0x101010 * row);
  const rec = new RecordingWriter()
    .device(WorkerMessage.ADD_MEMSLOT)
    .device(WorkerMessage.START)
    .device(WorkerMessage.RESET_CURSOR)
    .device(WorkerMessage.DESTROY_SURFACES)
    .createPrimary(
      W,
      H,
      pixels32(W, H, (x, row) => 0x010203 * ((x + row) & 7)),
    )
    .fill(rect(2, 3, 10, 8), 0x123456)
    .fill(rect(2, 1, 14, 9), 0xff8000, { clip: [rect(0, 0, 6, 4), rect(4, 2, 12, 6), rect(1, 8, 3, 10)] })
    .fill(rect(4, 4, 12, 10), 0x00ff0f, { ropd: 1 << 6 })
    .copy(
      rect(5, 2, 10, 5),
      { bitmap: { format: 8, width: 5, height: 3, stride: 20, data: grad, chunks: 2 } },
      rect(0, 0, 5, 3),
    )
    .copy(
      rect(0, 0, 2, 1),
      {
        bitmap: {
          format: 7,
          width: 2,
          height: 1,
          stride: 8,
          data: Buffer.from([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0, 0]),
          topDown: true,
        },
      },
      rect(0, 0, 2, 1),
    )
    .copy(
      rect(0, 2, 3, 3),
      {
        bitmap: {
          format: 5,
          width: 3,
          height: 1,
          stride: 4,
          data: Buffer.from([2, 0, 1, 0]),
          topDown: true,
          palette: [0xff0000, 0x00ff00, 0x0000ff],
        },
      },
      rect(0, 0, 3, 1),
    )
    .createSurface(1023, 8, 8)
    .fill(rect(0, 0, 8, 8), 0x00aa00, { surfaceId: 1023 })
    .copy(rect(4, 4, 8, 8), { surfaceId: 1023 }, rect(2, 2, 6, 6))
    .destroySurface(1023)
    .copyBits(rect(0, 0, W, H - 2), { x: 0, y: 2 }, [rect(0, 0, W, 4), rect(0, 4, W, H - 2)])
    .copyBits(rect(3, 0, W, H), { x: 0, y: 0 })
    .copy(
      rect(0, 4, 4, 6),
      { bitmap: { format: 8, width: 2, height: 2, stride: 8, data: quad, topDown: true } },
      rect(0, 0, 2, 2),
      { scaleMode: 1 },
    )
    .draw({ bbox: rect(4, 0, 6, 1), type: DrawType.WHITENESS, op: (w) => w.noMask() })
    .draw({ bbox: rect(4, 0, 5, 1), type: DrawType.INVERS, op: (w) => w.noMask() })
    .draw({
      bbox: rect(2, 2, 6, 6),
      type: DrawType.ROP3,
      op: (w) =>
        w
          .image({
            bitmap: {
              format: 8,
              width: 4,
              height: 4,
              stride: 16,
              data: pixels32(4, 4, (x) => (x < 2 ? 0xffffff : 0)),
              topDown: true,
            },
          })
          .rect('src_area', rect(0, 0, 4, 4))
          .solidBrush(0xabcdef)
          .line('rop3 226')
          .line('scale_mode 1')
          .noMask(),
    })
    .cursorSet({ x: 5, y: 6 }, true, {
      unique: 77,
      type: 1,
      width: 2,
      height: 2,
      hotX: 1,
      hotY: 0,
      data: Buffer.from([0, 0b11000000, 0b01000000, 0b01000000]),
    })
    .cursorMove({ x: 7, y: 8 })
    .cursorHide()
    .device(WorkerMessage.DESTROY_SURFACES);
  rec
    .event(1, WorkerMessage.CREATE_PRIMARY_SURFACE)
    .line(`${W} ${H} ${-4 * W} 32`)
    .line('0 1 1 0');
  rec.blob(
    'data',
    pixels32(W, H, () => 0x445566),
    true,
  );
  return rec.toBuffer();
}
