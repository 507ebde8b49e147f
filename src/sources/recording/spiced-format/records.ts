import type { AudioCommand, CursorCommand, CursorShape, DisplayCommand, SeamCommand } from '../../../seam/index.js';
import type { Point, Rect } from '../../../protocol/geometry.js';
import { ByteCursor, ByteWriter, RecordingFormatError } from './bytes.js';
import { readImage, writeImage, type ImageStorage } from './images.js';

/*
 * One record per seam command. Framing (written by the recorder, parsed by the reader):
 *
 *   Record := tag u8 | dt uvarint | length uvarint | payload[length]
 *     dt: microseconds since the previous record (since 0 for the first one)
 *
 * Field notation below: u = unsigned varint, s = zigzag (signed) varint, u8 / u32le / i16le = fixed.
 *   R (rect)  := top s | left s | height s | width s      (height = bottom - top, width = right - left)
 *   P (point) := x s | y s
 *   I (image) := see images.ts
 * Unknown tags are skipped by their length (a newer minor version may add records).
 */

export const Tag = {
  SurfaceCreate: 0x01,
  SurfaceDestroy: 0x02,
  Fill: 0x03,
  Copy: 0x04,
  BlitSurface: 0x05,
  CopyBits: 0x06,
  CursorSet: 0x10,
  CursorSetAgain: 0x11,
  CursorMove: 0x12,
  CursorHide: 0x13,
  CursorShow: 0x14,
  AudioStart: 0x20,
  AudioFrame: 0x21,
  AudioStop: 0x22,
  /** Written by close(): a recording without it was cut short. */
  End: 0x7f,
} as const;

const COPY_HAS_SRC = 0x01;

function writeRect(w: ByteWriter, r: Rect, what: string): void {
  w.svarint(r.top, `${what}.top`).svarint(r.left, `${what}.left`);
  w.svarint(r.bottom - r.top, `${what} height`).svarint(r.right - r.left, `${what} width`);
}

function readRect(c: ByteCursor): Rect {
  const top = c.svarint('rect top');
  const left = c.svarint('rect left');
  const height = c.svarint('rect height');
  const width = c.svarint('rect width');
  return { top, left, bottom: top + height, right: left + width };
}

function writePoint(w: ByteWriter, p: Point, what: string): void {
  w.svarint(p.x, `${what}.x`).svarint(p.y, `${what}.y`);
}

function readPoint(c: ByteCursor): Point {
  return { x: c.svarint('point x'), y: c.svarint('point y') };
}

/** Turns commands into (tag, payload); remembers which cursor shapes it has already stored. */
export class RecordEncoder {
  private readonly payload = new ByteWriter(4096);
  /** The shape object last stored under each id: the same object again is stored as a reference. */
  private readonly shapes = new Map<number, CursorShape>();

  constructor(private readonly images: ImageStorage = 'raw') {}

  /** The payload view is valid until the next call. */
  encode(cmd: SeamCommand): { tag: number; payload: Buffer } {
    this.payload.reset();
    const tag = this.encodeInto(this.payload, cmd);
    return { tag, payload: this.payload.view() };
  }

  /** `end` record: count u (the number of command records before it). */
  encodeEnd(records: number): { tag: number; payload: Buffer } {
    this.payload.reset();
    this.payload.uvarint(records, 'end record count');
    return { tag: Tag.End, payload: this.payload.view() };
  }

  private encodeInto(w: ByteWriter, cmd: SeamCommand): number {
    switch (cmd.kind) {
      case 'surfaceCreate':
      case 'surfaceDestroy':
      case 'fill':
      case 'copy':
      case 'blitSurface':
      case 'copyBits':
        return this.encodeDisplay(w, cmd);
      case 'cursorSet':
      case 'cursorMove':
      case 'cursorHide':
      case 'cursorShow':
        return this.encodeCursor(w, cmd);
      case 'audioStart':
      case 'audioFrame':
      case 'audioStop':
        return encodeAudio(w, cmd);
      default:
        throw new RangeError(`cannot record command kind ${JSON.stringify((cmd as { kind: unknown }).kind)}`);
    }
  }

  /*
   * 0x01 surfaceCreate  := surfaceId u | width u | height u | primary u8 (0 or 1)
   * 0x02 surfaceDestroy := surfaceId u
   * 0x03 fill           := surfaceId u | rect R | color u32le (0xXXRRGGBB as given)
   * 0x04 copy           := surfaceId u | dest R | flags u8 (bit 0: src present) | [src P] | image I
   * 0x05 blitSurface    := surfaceId u | dest R | srcSurfaceId u | src P
   * 0x06 copyBits       := surfaceId u | src P | dest R
   */
  private encodeDisplay(w: ByteWriter, cmd: DisplayCommand): number {
    w.uvarint(cmd.surfaceId, `${cmd.kind} surfaceId`);
    switch (cmd.kind) {
      case 'surfaceCreate':
        w.uvarint(cmd.width, 'surfaceCreate width')
          .uvarint(cmd.height, 'surfaceCreate height')
          .u8(cmd.primary ? 1 : 0);
        return Tag.SurfaceCreate;
      case 'surfaceDestroy':
        return Tag.SurfaceDestroy;
      case 'fill':
        writeRect(w, cmd.rect, 'fill rect');
        w.u32le(cmd.color);
        return Tag.Fill;
      case 'copy':
        writeRect(w, cmd.dest, 'copy dest');
        w.u8(cmd.src ? COPY_HAS_SRC : 0);
        if (cmd.src) writePoint(w, cmd.src, 'copy src');
        writeImage(w, cmd.image, this.images, 'copy image');
        return Tag.Copy;
      case 'blitSurface':
        writeRect(w, cmd.dest, 'blitSurface dest');
        w.uvarint(cmd.srcSurfaceId, 'blitSurface srcSurfaceId');
        writePoint(w, cmd.src, 'blitSurface src');
        return Tag.BlitSurface;
      case 'copyBits':
        writePoint(w, cmd.src, 'copyBits src');
        writeRect(w, cmd.dest, 'copyBits dest');
        return Tag.CopyBits;
    }
  }

  /*
   * 0x10 cursorSet      := id s | hotX s | hotY s | image I      (a shape not stored before)
   * 0x11 cursorSetAgain := id s                                   (the shape stored last under id)
   * 0x12 cursorMove     := x s | y s
   * 0x13 cursorHide, 0x14 cursorShow := (empty)
   * Cursor images keep their alpha byte (raw, or lz-rgba when images are stored as LZ).
   */
  private encodeCursor(w: ByteWriter, cmd: CursorCommand): number {
    switch (cmd.kind) {
      case 'cursorSet': {
        const { shape } = cmd;
        w.svarint(shape.id, 'cursor shape id');
        if (this.shapes.get(shape.id) === shape) return Tag.CursorSetAgain;
        w.svarint(shape.hotX, 'cursor hotX').svarint(shape.hotY, 'cursor hotY');
        writeImage(w, shape.image, this.images, 'cursor image');
        // Only once it is stored: a shape that failed to encode must not be referred to later.
        this.shapes.set(shape.id, shape);
        return Tag.CursorSet;
      }
      case 'cursorMove':
        w.svarint(cmd.x, 'cursorMove x').svarint(cmd.y, 'cursorMove y');
        return Tag.CursorMove;
      case 'cursorHide':
        return Tag.CursorHide;
      case 'cursorShow':
        return Tag.CursorShow;
    }
  }
}

/*
 * 0x20 audioStart, 0x22 audioStop := (empty)
 * 0x21 audioFrame := count u | count x i16le (interleaved stereo samples, 960 for a 10 ms frame)
 * PCM is stored raw: the gzip body compresses it as well as a separate zlib pass would.
 */
function encodeAudio(w: ByteWriter, cmd: AudioCommand): number {
  switch (cmd.kind) {
    case 'audioStart':
      return Tag.AudioStart;
    case 'audioStop':
      return Tag.AudioStop;
    case 'audioFrame':
      w.uvarint(cmd.pcm.length, 'audioFrame sample count');
      for (const s of cmd.pcm) w.i16le(s);
      return Tag.AudioFrame;
  }
}

/** Turns (tag, payload) back into commands; keeps the cursor shapes seen so far. */
export class RecordDecoder {
  private readonly shapes = new Map<number, CursorShape>();

  /** The command, or undefined for a record that is not a command (end, or a tag from a newer minor version). */
  decode(tag: number, payload: Buffer, where: string): SeamCommand | undefined {
    const c = new ByteCursor(payload, where);
    const cmd = this.decodeFields(tag, c, where);
    if (cmd !== undefined) c.expectEnd();
    return cmd;
  }

  private decodeFields(tag: number, c: ByteCursor, where: string): SeamCommand | undefined {
    switch (tag) {
      case Tag.SurfaceCreate:
        return {
          kind: 'surfaceCreate',
          surfaceId: c.uvarint('surfaceId'),
          width: c.uvarint('width'),
          height: c.uvarint('height'),
          primary: readFlag(c, where),
        };
      case Tag.SurfaceDestroy:
        return { kind: 'surfaceDestroy', surfaceId: c.uvarint('surfaceId') };
      case Tag.Fill:
        return { kind: 'fill', surfaceId: c.uvarint('surfaceId'), rect: readRect(c), color: c.u32le('color') };
      case Tag.Copy:
        return decodeCopy(c, where);
      case Tag.BlitSurface:
        return {
          kind: 'blitSurface',
          surfaceId: c.uvarint('surfaceId'),
          dest: readRect(c),
          srcSurfaceId: c.uvarint('srcSurfaceId'),
          src: readPoint(c),
        };
      case Tag.CopyBits:
        return { kind: 'copyBits', surfaceId: c.uvarint('surfaceId'), src: readPoint(c), dest: readRect(c) };
      case Tag.CursorSet:
      case Tag.CursorSetAgain:
        return { kind: 'cursorSet', shape: this.decodeShape(tag, c, where) };
      case Tag.CursorMove:
        return { kind: 'cursorMove', x: c.svarint('x'), y: c.svarint('y') };
      case Tag.CursorHide:
        return { kind: 'cursorHide' };
      case Tag.CursorShow:
        return { kind: 'cursorShow' };
      case Tag.AudioStart:
        return { kind: 'audioStart' };
      case Tag.AudioStop:
        return { kind: 'audioStop' };
      case Tag.AudioFrame:
        return { kind: 'audioFrame', pcm: decodePcm(c) };
      default:
        return undefined;
    }
  }

  private decodeShape(tag: number, c: ByteCursor, where: string): CursorShape {
    const id = c.svarint('cursor shape id');
    if (tag === Tag.CursorSetAgain) {
      const known = this.shapes.get(id);
      if (!known) throw new RecordingFormatError(`${where}: cursor shape ${id} is referred to before it was stored`);
      return known;
    }
    const hotX = c.svarint('hotX');
    const hotY = c.svarint('hotY');
    const shape: CursorShape = { id, hotX, hotY, image: readImage(c, where) };
    this.shapes.set(id, shape);
    return shape;
  }
}

function readFlag(c: ByteCursor, where: string): boolean {
  const v = c.u8('primary flag');
  if (v > 1) throw new RecordingFormatError(`${where}: primary flag is ${v}, expected 0 or 1`);
  return v === 1;
}

function decodeCopy(c: ByteCursor, where: string): DisplayCommand {
  const surfaceId = c.uvarint('surfaceId');
  const dest = readRect(c);
  const flags = c.u8('copy flags');
  if ((flags & ~COPY_HAS_SRC) !== 0)
    throw new RecordingFormatError(`${where}: unknown copy flags 0x${flags.toString(16)}`);
  const src = (flags & COPY_HAS_SRC) !== 0 ? readPoint(c) : undefined;
  const image = readImage(c, where);
  return src ? { kind: 'copy', surfaceId, dest, image, src } : { kind: 'copy', surfaceId, dest, image };
}

function decodePcm(c: ByteCursor): Int16Array {
  const count = c.uvarint('sample count');
  const bytes = c.bytes(count * 2, 'samples');
  const pcm = new Int16Array(count);
  for (let i = 0; i < count; i++) pcm[i] = bytes.readInt16LE(2 * i);
  return pcm;
}

/** Decode the `end` record's payload: the number of command records the writer wrote. */
export function decodeEnd(payload: Buffer, where: string): number {
  const c = new ByteCursor(payload, where);
  const n = c.uvarint('end record count');
  c.expectEnd();
  return n;
}
