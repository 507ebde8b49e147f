import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CursorCommand, DisplayCommand } from '../src/seam/index.js';
import { countRgbDifferences, pixelAt, sameRgb, type PixelImage } from '../src/display/pixels.js';
import type { Rect } from '../src/protocol/geometry.js';
import {
  CommandPlayer,
  renderFinalFrame,
  SpiceReplayImporter,
  type ImportStats,
} from '../src/sources/recording/spice-replay/index.js';
import { DrawType, QxlCmd, WorkerMessage } from '../src/sources/recording/spice-replay/qxl-types.js';
import { RecordingWriter } from '../src/sources/recording/spice-replay/record-writer.js';
import { decodePng } from '../src/display/png.js';

type Command = DisplayCommand | CursorCommand;

const W = 16;
const H = 12;

function rect(left: number, top: number, right: number, bottom: number): Rect {
  return { top, left, bottom, right };
}

/** The recording's bytes as an async source, cut into small uneven chunks to exercise streaming. */
async function* chunked(buf: Buffer, size = 7): AsyncGenerator<Buffer> {
  for (let i = 0, n = 0; i < buf.length; n++) {
    const step = 1 + ((size + n) % size);
    yield buf.subarray(i, i + step);
    i += step;
  }
}

interface Imported {
  commands: Command[];
  stats: ImportStats;
  frame: PixelImage;
}

async function importRecording(w: RecordingWriter): Promise<Imported> {
  const importer = new SpiceReplayImporter(chunked(w.toBuffer()));
  const player = new CommandPlayer();
  const commands: Command[] = [];
  for await (const { command } of importer.events()) {
    commands.push(command);
    player.apply(command);
  }
  return { commands, stats: importer.stats, frame: player.primary! };
}

function display(cmds: Command[], kind: DisplayCommand['kind']): DisplayCommand[] {
  return cmds.filter((c): c is DisplayCommand => c.kind === kind);
}

/** A recording with the usual Xspice prelude and a W x H primary surface. */
function prelude(): RecordingWriter {
  return new RecordingWriter()
    .device(WorkerMessage.ADD_MEMSLOT)
    .device(WorkerMessage.START)
    .device(WorkerMessage.RESET_CURSOR)
    .device(WorkerMessage.DESTROY_SURFACES)
    .createPrimary(W, H);
}

/** 32BIT pixels for a w x h bitmap, rows in memory order, pixel value f(x, row). */
function pixels32(w: number, h: number, f: (x: number, row: number) => number): Buffer {
  const b = Buffer.alloc(w * h * 4);
  for (let r = 0; r < h; r++) for (let x = 0; x < w; x++) b.writeUInt32LE(f(x, r) >>> 0, 4 * (r * w + x));
  return b;
}

describe('spice-replay importer: synthetic recordings', () => {
  it('creates the primary surface and emits FILL as exact fills', async () => {
    const rec = prelude().fill(rect(2, 3, 10, 8), 0x123456);
    const { commands, stats, frame } = await importRecording(rec);
    expect(display(commands, 'surfaceCreate')).toEqual([
      { kind: 'surfaceCreate', surfaceId: 0, width: W, height: H, primary: true },
    ]);
    expect(display(commands, 'fill')).toEqual([
      { kind: 'fill', surfaceId: 0, rect: rect(2, 3, 10, 8), color: 0x123456 },
    ]);
    expect(stats.exact.fill).toBe(1);
    expect(stats.rendered).toEqual({});
    expect(pixelAt(frame, 2, 3) & 0xffffff).toBe(0x123456);
    expect(pixelAt(frame, 10, 3) & 0xffffff).toBe(0);
    expect(stats.ignored.ADD_MEMSLOT).toBe(1);
  });

  it('emits COPY of a bottom-up 32-bit bitmap as a copy with a top-down image', async () => {
    const data = pixels32(4, 3, (x, row) => 0x010000 * row + x); // memory row 0 is the bottom row
    const rec = prelude().copy(
      rect(5, 2, 9, 5),
      { bitmap: { format: 8, width: 4, height: 3, stride: 16, data, chunks: 2 } },
      rect(0, 0, 4, 3),
    );
    const { commands, stats, frame } = await importRecording(rec);
    const copies = display(commands, 'copy');
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatchObject({ kind: 'copy', surfaceId: 0, dest: rect(5, 2, 9, 5) });
    expect(stats.exact.copy).toBe(1);
    expect(pixelAt(frame, 5, 2) & 0xffffff).toBe(0x020000); // top row = last memory row
    expect(pixelAt(frame, 8, 4) & 0xffffff).toBe(0x000003);
  });

  it('converts 24-bit, 16-bit, 8-bit palette and 1-bit bitmaps', async () => {
    const rgb24 = Buffer.from([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0, 0]); // 2 px, stride 8
    const rgb16 = Buffer.from([0x1f, 0x7c]); // x1r5g5b5 0x7c1f: r=31 g=0 b=31
    const pal8 = Buffer.from([2, 0, 1, 0]); // 3 px + pad
    const bits1 = Buffer.from([0b10100000]); // BE: pixels 0 and 2 set
    const rec = prelude()
      .copy(
        rect(0, 0, 2, 1),
        { bitmap: { format: 7, width: 2, height: 1, stride: 8, data: rgb24, topDown: true } },
        rect(0, 0, 2, 1),
      )
      .copy(
        rect(0, 1, 1, 2),
        { bitmap: { format: 6, width: 1, height: 1, stride: 2, data: rgb16, topDown: true } },
        rect(0, 0, 1, 1),
      )
      .copy(
        rect(0, 2, 3, 3),
        {
          bitmap: {
            format: 5,
            width: 3,
            height: 1,
            stride: 4,
            data: pal8,
            topDown: true,
            palette: [0xff0000, 0x00ff00, 0x0000ff],
          },
        },
        rect(0, 0, 3, 1),
      )
      .copy(
        rect(0, 3, 3, 4),
        {
          bitmap: {
            format: 2,
            width: 3,
            height: 1,
            stride: 1,
            data: bits1,
            topDown: true,
            palette: [0x000000, 0xffffff],
          },
        },
        rect(0, 0, 3, 1),
      );
    const { frame } = await importRecording(rec);
    expect([pixelAt(frame, 0, 0), pixelAt(frame, 1, 0)].map((p) => p & 0xffffff)).toEqual([0x332211, 0x665544]);
    expect(pixelAt(frame, 0, 1) & 0xffffff).toBe(0xff00ff);
    expect([0, 1, 2].map((x) => pixelAt(frame, x, 2) & 0xffffff)).toEqual([0x0000ff, 0xff0000, 0x00ff00]);
    expect([0, 1, 2].map((x) => pixelAt(frame, x, 3) & 0xffffff)).toEqual([0xffffff, 0x000000, 0xffffff]);
  });

  it('emits COPY from another surface as blitSurface', async () => {
    const rec = prelude()
      .createSurface(1023, 8, 8)
      .fill(rect(0, 0, 8, 8), 0x00aa00, { surfaceId: 1023 })
      .copy(rect(4, 4, 8, 8), { surfaceId: 1023 }, rect(2, 2, 6, 6))
      .destroySurface(1023);
    const { commands, stats, frame } = await importRecording(rec);
    expect(display(commands, 'blitSurface')).toEqual([
      { kind: 'blitSurface', surfaceId: 0, dest: rect(4, 4, 8, 8), srcSurfaceId: 1023, src: { x: 2, y: 2 } },
    ]);
    expect(display(commands, 'surfaceCreate')[1]).toEqual({
      kind: 'surfaceCreate',
      surfaceId: 1023,
      width: 8,
      height: 8,
      primary: false,
    });
    expect(display(commands, 'surfaceDestroy')).toEqual([{ kind: 'surfaceDestroy', surfaceId: 1023 }]);
    expect(stats.exact.blitSurface).toBe(1);
    expect(pixelAt(frame, 4, 4) & 0xffffff).toBe(0x00aa00);
    expect(pixelAt(frame, 3, 4) & 0xffffff).toBe(0);
  });

  it('splits clip rects into one command per region rect and never draws outside them', async () => {
    const clip = [rect(0, 0, 6, 4), rect(4, 2, 12, 6), rect(1, 8, 3, 10)];
    const rec = prelude().fill(rect(2, 1, 14, 9), 0xff8000, { clip });
    const { commands, frame } = await importRecording(rec);
    const fills = display(commands, 'fill');
    expect(fills.length).toBeGreaterThan(1);
    let painted = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const inBbox = x >= 2 && x < 14 && y >= 1 && y < 9;
        const inClip = clip.some((r) => x >= r.left && x < r.right && y >= r.top && y < r.bottom);
        expect(pixelAt(frame, x, y) & 0xffffff, `pixel ${x},${y}`).toBe(inBbox && inClip ? 0xff8000 : 0);
        if (inBbox && inClip) painted++;
      }
    }
    // The rects do not overlap: together they cover each painted pixel exactly once.
    const area = fills.reduce(
      (n, c) => (c.kind === 'fill' ? n + (c.rect.right - c.rect.left) * (c.rect.bottom - c.rect.top) : n),
      0,
    );
    expect(area).toBe(painted);
  });

  it('moves overlapping COPY_BITS areas in a safe order', async () => {
    // A vertical gradient, then scroll up by 2 rows inside a clip of two stacked rects.
    const rec = prelude();
    for (let y = 0; y < H; y++) rec.fill(rect(0, y, W, y + 1), 0x010101 * (y + 1));
    rec.copyBits(rect(0, 0, W, H - 2), { x: 0, y: 2 }, [rect(0, 0, W, 4), rect(0, 4, W, H - 2)]);
    // And scroll down by 3 columns to the right inside one rect.
    rec.copyBits(rect(3, 0, W, H), { x: 0, y: 0 });
    const { commands, stats, frame } = await importRecording(rec);
    expect(stats.exact.copyBits).toBe(2);
    expect(display(commands, 'copyBits').length).toBeGreaterThanOrEqual(2);
    for (let y = 0; y < H; y++) {
      const rowColor = y < H - 2 ? y + 3 : y + 1;
      for (let x = 0; x < W; x++) expect(pixelAt(frame, x, y) & 0xff, `pixel ${x},${y}`).toBe(rowColor);
    }
  });

  it('renders a FILL with an XOR rop and sends the changed pixels as a copy', async () => {
    const OP_XOR = 1 << 6;
    const rec = prelude()
      .fill(rect(0, 0, 8, 8), 0x0000ff)
      .fill(rect(4, 4, 12, 10), 0x00ff0f, { ropd: OP_XOR });
    const { commands, stats, frame } = await importRecording(rec);
    expect(stats.rendered.fill).toBe(1);
    const last = commands[commands.length - 1]!;
    expect(last).toMatchObject({ kind: 'copy', dest: rect(4, 4, 12, 10) });
    expect(pixelAt(frame, 5, 5) & 0xffffff).toBe(0x00fff0);
    expect(pixelAt(frame, 9, 9) & 0xffffff).toBe(0x00ff0f);
  });

  it('renders ROP3 (source, solid brush, destination) and counts it', async () => {
    const src = pixels32(4, 4, (x) => (x < 2 ? 0xffffff : 0x000000));
    const rec = prelude()
      .fill(rect(0, 0, W, H), 0x0f0f0f)
      .draw({
        bbox: rect(2, 2, 6, 6),
        type: DrawType.ROP3,
        // 0xE2 (DSPDxax): where S is 1 take P, else D -> the brush colour stencilled by the source.
        op: (w) =>
          w
            .image({ bitmap: { format: 8, width: 4, height: 4, stride: 16, data: src, topDown: true } })
            .rect('src_area', rect(0, 0, 4, 4))
            .solidBrush(0xabcdef)
            .line('rop3 226')
            .line('scale_mode 1')
            .noMask(),
      });
    const { stats, frame } = await importRecording(rec);
    expect(stats.rendered.rop3).toBe(1);
    expect(pixelAt(frame, 2, 2) & 0xffffff).toBe(0xabcdef);
    expect(pixelAt(frame, 4, 2) & 0xffffff).toBe(0x0f0f0f);
  });

  it('renders a masked FILL only where the 1-bit mask is set', async () => {
    const mask = Buffer.from([0b10000000, 0, 0b01000000, 0]); // 1BIT_BE 2 rows, stride 2, top-down
    const rec = prelude().fill(rect(0, 0, 4, 2), 0xffffff, {
      mask: (w) =>
        w
          .line('flags 0')
          .line('point 0 0')
          .image({ bitmap: { format: 2, width: 4, height: 2, stride: 2, data: mask, topDown: true } }),
    });
    const { stats, frame } = await importRecording(rec);
    expect(stats.rendered.fill).toBe(1);
    expect([0, 1].map((x) => pixelAt(frame, x, 0) & 0xffffff)).toEqual([0xffffff, 0]);
    expect([0, 1].map((x) => pixelAt(frame, x, 1) & 0xffffff)).toEqual([0, 0xffffff]);
  });

  it('renders scaled copies, INVERS, WHITENESS, TRANSPARENT, ALPHA_BLEND and TEXT', async () => {
    const quad = pixels32(2, 2, (x, row) => [0x110000, 0x220000, 0x330000, 0x440000][row * 2 + x]!);
    const keyed = pixels32(2, 1, (x) => (x === 0 ? 0xff00ff : 0x00ff00));
    const glyph = Buffer.alloc(20 + 2); // one 3x2 A1 glyph, rows stored bottom-up
    [1, 8, 0, 0].forEach((v, i) => glyph.writeInt32LE(v, 4 * i)); // render_pos (1, 8), origin (0, 0)
    glyph.writeUInt16LE(3, 16);
    glyph.writeUInt16LE(2, 18);
    glyph[20] = 0b10100000; // bottom row: pixels 0 and 2
    glyph[21] = 0b01000000; // top row: pixel 1
    const rec = prelude()
      .copy(
        rect(0, 0, 4, 4),
        { bitmap: { format: 8, width: 2, height: 2, stride: 8, data: quad, topDown: true } },
        rect(0, 0, 2, 2),
      )
      .draw({ bbox: rect(4, 0, 6, 1), type: DrawType.WHITENESS, op: (w) => w.noMask() })
      .draw({ bbox: rect(4, 0, 5, 1), type: DrawType.INVERS, op: (w) => w.noMask() })
      .fill(rect(6, 0, 8, 1), 0x0000ff)
      .draw({
        bbox: rect(6, 0, 8, 1),
        type: DrawType.TRANSPARENT,
        op: (w) =>
          w
            .image({ bitmap: { format: 8, width: 2, height: 1, stride: 8, data: keyed, topDown: true } })
            .rect('src_area', rect(0, 0, 2, 1))
            .line(`src_color ${0xff00ff}`)
            .line(`true_color ${0xff00ff}`),
      })
      .fill(rect(8, 0, 9, 1), 0xffffff)
      .draw({
        bbox: rect(8, 0, 9, 1),
        type: DrawType.ALPHA_BLEND,
        op: (w) =>
          w
            .line('alpha_flags 0')
            .line('alpha 128')
            .image({
              bitmap: { format: 8, width: 1, height: 1, stride: 4, data: pixels32(1, 1, () => 0), topDown: true },
            })
            .rect('src_area', rect(0, 0, 1, 1)),
      })
      .draw({
        bbox: rect(0, 6, 6, 10),
        type: DrawType.TEXT,
        op: (w) => {
          w.line(`data_size ${glyph.length}`).line('length 1').line('flags 1').chunks('string', glyph, 1);
          w.rect('back_area', rect(0, 6, 6, 10))
            .solidBrush(0x00ff00)
            .solidBrush(0x000080)
            .line('fore_mode 8')
            .line('back_mode 8');
        },
      });
    rec.copy(
      rect(0, 4, 4, 6),
      { bitmap: { format: 8, width: 2, height: 2, stride: 8, data: quad, topDown: true } },
      rect(0, 0, 2, 2),
      { scaleMode: 1 },
    );
    const { stats, frame } = await importRecording(rec);
    const at = (x: number, y: number): number => pixelAt(frame, x, y) & 0xffffff;
    // 2x nearest upscaling: every source pixel becomes a 2x2 block (rows 0..3).
    expect([at(0, 0), at(1, 1), at(2, 0), at(0, 2), at(3, 3)]).toEqual([
      0x110000, 0x110000, 0x220000, 0x330000, 0x440000,
    ]);
    // The second copy maps 2x2 source pixels onto 4x2: only the columns are doubled.
    expect([at(0, 4), at(1, 4), at(2, 5)]).toEqual([0x110000, 0x110000, 0x440000]);
    expect([at(4, 0), at(5, 0)]).toEqual([0x000000, 0xffffff]);
    expect([at(6, 0), at(7, 0)]).toEqual([0x0000ff, 0x00ff00]);
    expect(at(8, 0)).toBe(0x7f7f7f); // black at alpha 128 over white
    // Glyph box x 1..3, y 8..9: top row has pixel 1, bottom row pixels 0 and 2; the rest is back brush.
    expect([at(0, 6), at(1, 8), at(2, 8), at(3, 8), at(1, 9), at(2, 9), at(3, 9)]).toEqual([
      0x000080, 0x000080, 0x00ff00, 0x000080, 0x00ff00, 0x000080, 0x00ff00,
    ]);
    expect(stats.rendered).toMatchObject({ copy: 2, whiteness: 1, invers: 1, transparent: 1, alphaBlend: 1, text: 1 });
  });

  it('reads a plain (uncompressed) recording file by path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spiced-rec-'));
    try {
      const file = join(dir, 'fill.spicerec');
      writeFileSync(
        file,
        prelude()
          .fill(rect(1, 1, 3, 3), 0x00ff00)
          .toBuffer(),
      );
      const frame = await renderFinalFrame(file);
      expect(pixelAt(frame, 2, 2) & 0xffffff).toBe(0x00ff00);
      expect(pixelAt(frame, 3, 3) & 0xffffff).toBe(0);
      const broken = join(dir, 'broken.spicerec.xz');
      writeFileSync(broken, 'not xz data');
      await expect(renderFinalFrame(broken)).rejects.toThrow(/xz -dc .*broken\.spicerec\.xz failed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turns cursor SET (mono), MOVE and HIDE into cursor commands with alpha pixels', async () => {
    // 2x2 mono cursor: AND rows then XOR rows, 1 byte per row.
    const and = [0b00000000, 0b11000000];
    const xor = [0b01000000, 0b01000000];
    const shape = { unique: 77, type: 1, width: 2, height: 2, hotX: 1, hotY: 0, data: Buffer.from([...and, ...xor]) };
    const rec = prelude().cursorSet({ x: 5, y: 6 }, true, shape).cursorMove({ x: 7, y: 8 }).cursorHide();
    const { commands, stats } = await importRecording(rec);
    const cursor = commands.filter((c) => c.kind.startsWith('cursor'));
    expect(cursor.map((c) => c.kind)).toEqual([
      'cursorHide',
      'cursorSet',
      'cursorMove',
      'cursorShow',
      'cursorMove',
      'cursorHide',
    ]);
    const set = cursor[1]!;
    if (set.kind !== 'cursorSet') throw new Error('expected cursorSet');
    expect(set.shape).toMatchObject({ hotX: 1, hotY: 0 });
    const px = (x: number, y: number): number => set.shape.image.data.readUInt32LE(4 * (y * 2 + x));
    expect([px(0, 0), px(1, 0), px(0, 1), px(1, 1)]).toEqual([0xff000000, 0xffffffff, 0, 0x80000000]);
    expect(cursor[2]).toEqual({ kind: 'cursorMove', x: 5, y: 6 });
    expect(cursor[4]).toEqual({ kind: 'cursorMove', x: 7, y: 8 });
    expect(stats.rendered['cursorSet (converted to alpha)']).toBe(1);
  });

  it('reads zlib blobs and reports timestamps relative to the first event', async () => {
    const rec = new RecordingWriter()
      .event(1, WorkerMessage.CREATE_PRIMARY_SURFACE)
      .line(`${W} ${H} ${-4 * W} 32`)
      .line('0 1 1 0');
    rec.blob(
      'data',
      pixels32(W, H, () => 0x445566),
      true,
    );
    const importer = new SpiceReplayImporter(chunked(rec.toBuffer()));
    const out = [];
    for await (const e of importer.events()) out.push(e);
    expect(out.map((e) => e.command.kind)).toEqual(['surfaceCreate', 'copy']);
    expect(out[0]!.timeNs).toBe(0n);
    const copy = out[1]!.command;
    if (copy.kind !== 'copy') throw new Error('expected copy');
    expect(pixelAt(copy.image, 3, 3) & 0xffffff).toBe(0x445566);
  });

  it('names the event number in errors about malformed records', async () => {
    const rec = prelude().event(0, QxlCmd.DRAW).line('drawable').line('rect bbox 0 0 1 1').line('type 7');
    await expect(importRecording(rec)).rejects.toThrow(/event 5\b.*clip type 7/);
    const truncated = prelude().toBuffer().subarray(0, 200);
    await expect(renderFinalFrame(chunked(truncated))).rejects.toThrow(/event 4: stream ends/);
  });
});

const SHARED = fileURLToPath(new URL('../recordings', import.meta.url));
const recordings = existsSync(SHARED) ? readdirSync(SHARED).filter((f) => f.endsWith('.spicerec.xz')) : [];

describe('spice-replay importer: shared recordings', () => {
  it(`finds the recordings in ${SHARED}`, () => {
    expect(recordings.length, `*.spicerec.xz files in ${SHARED}`).toBeGreaterThan(0);
  });
  for (const file of recordings) {
    it(`${file}: final frame equals the recorded screenshot`, async () => {
      const want = decodePng(readFileSync(join(SHARED, file.replace(/\.spicerec\.xz$/, '.png'))));
      const got = await renderFinalFrame(join(SHARED, file));
      expect(countRgbDifferences(got, want)).toBe(0);
      expect(sameRgb(got, want)).toBe(true);
    });
  }
});
