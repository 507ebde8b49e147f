import { deliverCommand, type CursorShape, type DisplaySink, type SeamCommand } from '../../src/seam/index.js';
import { packedImage, type PixelImage } from '../../src/display/pixels.js';
import type { TimedSeamCommand } from '../../src/sources/recording/index.js';

/* Commands and sinks for the recording tests. */

/** Deterministic pixels; `xByte` fills the fourth byte (0 for plain images, alpha for cursors). */
export function image(
  width: number,
  height: number,
  seed: number,
  xByte: (i: number) => number = () => 0,
  stride = width * 4,
): PixelImage {
  const data = Buffer.alloc(stride * height);
  let s = seed;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const o = y * stride + x * 4;
      // Runs of equal pixels as well as noise, so LZ has matches and literals to encode.
      const v = x % 8 < 4 ? 0x3060 + y : s >>> 8;
      data.writeUIntLE(v & 0xffffff, o, 3);
      data[o + 3] = xByte(y * width + x);
    }
  }
  return { width, height, stride, data };
}

const arrow: CursorShape = { id: 0x5dec0001, hotX: 1, hotY: 2, image: image(24, 24, 7, (i) => (i * 37) & 0xff) };
const pcm = Int16Array.from({ length: 960 }, (_, i) =>
  i === 0 ? -32768 : i === 1 ? 32767 : Math.round(9000 * Math.sin(i / 7)),
);

/** One command of every kind (and the awkward cases: negative coordinates, padding, alpha, repeats). */
export function everyKind(): SeamCommand[] {
  return [
    { kind: 'surfaceCreate', surfaceId: 0, width: 64, height: 48, primary: true },
    { kind: 'surfaceCreate', surfaceId: 3, width: 20, height: 10, primary: false },
    { kind: 'fill', surfaceId: 0, rect: { top: -4, left: -8, bottom: 30, right: 70 }, color: 0x00123456 },
    { kind: 'fill', surfaceId: 3, rect: { top: 0, left: 0, bottom: 10, right: 20 }, color: 0xff00ff00 },
    { kind: 'copy', surfaceId: 0, dest: { top: 2, left: 3, bottom: 18, right: 35 }, image: image(32, 16, 1) },
    {
      kind: 'copy',
      surfaceId: 0,
      dest: { top: 20, left: 0, bottom: 30, right: 10 },
      image: image(16, 12, 2, () => 0, 80),
      src: { x: 4, y: 2 },
    },
    { kind: 'copy', surfaceId: 3, dest: { top: 0, left: 0, bottom: 5, right: 5 }, image: image(5, 5, 3, (i) => i * 9) },
    {
      kind: 'blitSurface',
      surfaceId: 0,
      dest: { top: 30, left: 40, bottom: 40, right: 60 },
      srcSurfaceId: 3,
      src: { x: 0, y: 0 },
    },
    { kind: 'copyBits', surfaceId: 0, src: { x: 0, y: 4 }, dest: { top: 0, left: 0, bottom: 44, right: 64 } },
    { kind: 'cursorSet', shape: arrow },
    { kind: 'cursorMove', x: -3, y: 47 },
    { kind: 'cursorHide' },
    { kind: 'cursorShow' },
    { kind: 'cursorSet', shape: arrow },
    { kind: 'cursorSet', shape: { ...arrow, hotX: 5 } },
    { kind: 'audioStart' },
    { kind: 'audioFrame', pcm },
    { kind: 'audioFrame', pcm: new Int16Array(0) },
    { kind: 'audioStop' },
    { kind: 'surfaceDestroy', surfaceId: 3 },
  ];
}

/** Commands in a comparable form: images as their packed pixel bytes. */
export function normalize(cmd: SeamCommand): unknown {
  const pixels = (img: PixelImage): unknown => ({
    w: img.width,
    h: img.height,
    bytes: packedImage(img).data.toString('hex'),
  });
  switch (cmd.kind) {
    case 'copy':
      return { ...cmd, image: pixels(cmd.image) };
    case 'cursorSet':
      return { ...cmd, shape: { ...cmd.shape, image: pixels(cmd.shape.image) } };
    case 'audioFrame':
      return { kind: cmd.kind, pcm: Array.from(cmd.pcm) };
    default:
      return cmd;
  }
}

export async function readAll(iterable: AsyncIterable<TimedSeamCommand>): Promise<TimedSeamCommand[]> {
  const out: TimedSeamCommand[] = [];
  for await (const c of iterable) out.push(c);
  return out;
}

/** A sink that keeps what it receives. */
export function collectingSink(): DisplaySink & { got: SeamCommand[] } {
  const got: SeamCommand[] = [];
  return { got, display: (c) => got.push(c), cursor: (c) => got.push(c), audio: (c) => got.push(c) };
}

export function sendAll(sink: DisplaySink, commands: readonly SeamCommand[]): void {
  for (const c of commands) deliverCommand(sink, c);
}
