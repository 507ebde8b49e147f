import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CursorCommand, DisplayCommand, DisplaySink } from '../src/seam/index.js';
import { cropImage, pixelAt, sameRgb, type PixelImage } from '../src/display/pixels.js';
import { Surface } from '../src/display/surface.js';
import { rectContains, type Rect } from '../src/protocol/geometry.js';
import { DemoSource } from '../src/sources/demo/demo-source.js';
import { drawText } from '../src/sources/demo/font.js';
import { seededRandom } from '../src/sources/demo/noise.js';
import { createImage } from '../src/sources/demo/raster.js';
import { HISTORY_KEPT } from '../src/sources/demo/terminal.js';
import { paintColors, theme } from '../src/sources/demo/theme.js';
import { until } from './helpers/wait.js';

/** Applies display commands to a Surface, like a viewer would. */
class SurfaceSink implements DisplaySink {
  private current: Surface | undefined;
  readonly commands: DisplayCommand[] = [];
  readonly cursors: CursorCommand[] = [];
  private taken = 0;

  display(cmd: DisplayCommand): void {
    this.commands.push(cmd);
    switch (cmd.kind) {
      case 'surfaceCreate':
        this.current = new Surface(cmd.surfaceId, cmd.width, cmd.height);
        break;
      case 'fill':
        this.surface.fill(cmd.rect, cmd.color);
        break;
      case 'copy':
        this.surface.putImage(cmd.dest, cmd.image, cmd.src);
        break;
      case 'copyBits':
        this.surface.copyBits(cmd.src, cmd.dest);
        break;
      default:
        throw new Error(`unexpected command ${cmd.kind}`);
    }
  }

  cursor(cmd: CursorCommand): void {
    this.cursors.push(cmd);
  }

  get surface(): Surface {
    if (this.current === undefined) throw new Error('no surface yet');
    return this.current;
  }

  /** Commands since the previous take(). */
  take(): DisplayCommand[] {
    const out = this.commands.slice(this.taken);
    this.taken = this.commands.length;
    return out;
  }
}

const W = 1024;
const H = 768;
/** 2024-01-01 09:00:00.250 local time: the fake clock's start. */
const T0 = new Date(2024, 0, 1, 9, 0, 0, 250).getTime();

function startStill(): { demo: DemoSource; sink: SurfaceSink } {
  const demo = new DemoSource({ width: W, height: H, still: true });
  const sink = new SurfaceSink();
  demo.start(sink);
  return { demo, sink };
}

function copyOf(img: PixelImage): PixelImage {
  return cropImage(img, 0, 0, img.width, img.height);
}

/** Bounding box of the pixels whose RGB differs, or undefined. */
function diffBounds(a: PixelImage, b: PixelImage): Rect | undefined {
  let box: Rect | undefined;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const o = y * a.stride + 4 * x;
      const p = y * b.stride + 4 * x;
      if (a.data[o] === b.data[p] && a.data[o + 1] === b.data[p + 1] && a.data[o + 2] === b.data[p + 2]) continue;
      box =
        box === undefined
          ? { top: y, left: x, bottom: y + 1, right: x + 1 }
          : {
              top: Math.min(box.top, y),
              left: Math.min(box.left, x),
              bottom: Math.max(box.bottom, y + 1),
              right: Math.max(box.right, x + 1),
            };
    }
  }
  return box;
}

function distinctColours(img: PixelImage): number {
  const seen = new Set<number>();
  for (let i = 0; i < img.width * img.height; i++) seen.add(img.data.readUInt32LE(i * 4) & 0xffffff);
  return seen.size;
}

/** Does `needle` appear pixel for pixel somewhere inside `area` of `img`? (Both keep X bytes at 0.) */
function containsImage(img: PixelImage, needle: PixelImage, area: Rect): boolean {
  const rowBytes = needle.width * 4;
  const rowMatches = (x: number, y: number, j: number): boolean => {
    const at = (y + j) * img.stride + x * 4;
    return img.data
      .subarray(at, at + rowBytes)
      .equals(needle.data.subarray(j * needle.stride, j * needle.stride + rowBytes));
  };
  for (let y = area.top; y + needle.height <= area.bottom; y++) {
    for (let x = area.left; x + needle.width <= area.right; x++) {
      let j = 0;
      while (j < needle.height && rowMatches(x, y, j)) j++;
      if (j === needle.height) return true;
    }
  }
  return false;
}

function textImage(text: string, fg: number, bg: number): PixelImage {
  const img = createImage(text.length * 8, 16, bg);
  drawText(img, 0, 0, text, fg, bg);
  return img;
}

/** A stable fingerprint of a command list (images by content). */
function fingerprint(cmds: readonly DisplayCommand[]): string {
  const h = createHash('sha256');
  for (const c of cmds) {
    const { image, ...rest } = c.kind === 'copy' ? c : { ...c, image: undefined };
    h.update(JSON.stringify(rest));
    if (image !== undefined) h.update(image.data);
  }
  return h.digest('hex');
}

function copyPixels(cmds: readonly DisplayCommand[]): number {
  return cmds.reduce((n, c) => n + (c.kind === 'copy' ? c.image.width * c.image.height : 0), 0);
}

/** The viewer holds exactly the source's back buffer, and that is the scene composed from scratch. */
function expectInSync(sink: SurfaceSink, demo: DemoSource): void {
  expect(sameRgb(sink.surface, demo.backBuffer)).toBe(true);
  expect(sameRgb(sink.surface, demo.render())).toBe(true);
}

const SCAN = {
  up: 0x148,
  h: 0x23,
  e: 0x12,
  l: 0x26,
  o: 0x18,
  c: 0x2e,
  i: 0x17,
  space: 0x39,
  enter: 0x1c,
  lshift: 0x2a,
  backspace: 0x0e,
} as const;

function typeKeys(demo: DemoSource, codes: readonly number[]): void {
  for (const scancode of codes) {
    demo.input({ kind: 'key', scancode, down: true });
    demo.input({ kind: 'key', scancode, down: false });
  }
}

describe('demo desktop: still frame', () => {
  it('starts with surfaceCreate, a few full-screen draws and the cursor', () => {
    const { demo, sink } = startStill();
    const [first, ...rest] = sink.commands;
    expect(first).toEqual({ kind: 'surfaceCreate', surfaceId: 0, width: W, height: H, primary: true });
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.length).toBeLessThanOrEqual(12);
    expect(rest.every((c) => c.kind === 'copy' || c.kind === 'fill')).toBe(true);
    expect(sink.cursors.map((c) => c.kind)).toEqual(['cursorSet']);
    expectInSync(sink, demo);
    demo.stop();
  });

  it('is deterministic and not trivial', () => {
    const a = startStill();
    const b = startStill();
    expect(sameRgb(a.sink.surface, b.sink.surface)).toBe(true);
    expect(fingerprint(a.sink.commands)).toBe(fingerprint(b.sink.commands));
    expect(distinctColours(a.sink.surface)).toBeGreaterThan(2000);
    // The fixed time shows in the taskbar, the prompt in the terminal.
    const bar = { top: H - 30, left: W - 200, bottom: H, right: W };
    expect(containsImage(a.sink.surface, textImage('10:08:30', theme.taskbarText, theme.taskbar), bar)).toBe(true);
    const prompt = textImage('demo@spiced', theme.termGreen, theme.termBg);
    expect(containsImage(a.sink.surface, prompt, a.demo.terminalRect)).toBe(true);
  });

  it('typing changes pixels only inside the terminal, and the text appears', () => {
    const { demo, sink } = startStill();
    const before = copyOf(sink.surface);
    sink.take();
    typeKeys(demo, [SCAN.h, SCAN.e, SCAN.l, SCAN.l, SCAN.o]);
    const changed = diffBounds(before, sink.surface);
    expect(changed).toBeDefined();
    expect(rectContains(demo.terminalRect, changed as Rect)).toBe(true);
    expect(containsImage(sink.surface, textImage('hello', theme.termText, theme.termBg), demo.terminalRect)).toBe(true);
    // Each key is a cell or two of pixels, not a repaint.
    expect(copyPixels(sink.take())).toBeLessThan(5 * 8 * 16 * 3);
    expectInSync(sink, demo);
  });

  it('Up recalls the latest HISTORY_KEPT commands, no older ones (the history is bounded)', () => {
    const { demo, sink } = startStill();
    typeKeys(demo, [SCAN.h, SCAN.e, SCAN.l, SCAN.l, SCAN.o, SCAN.enter]);
    for (let i = 0; i < HISTORY_KEPT; i++) typeKeys(demo, [SCAN.h, SCAN.i, SCAN.enter]);
    typeKeys(
      demo,
      Array.from({ length: HISTORY_KEPT + 1 }, () => SCAN.up),
    );
    const prompt = (text: string): boolean =>
      containsImage(sink.surface, textImage(`$ ${text}`, theme.termText, theme.termBg), demo.terminalRect);
    expect(prompt('hello')).toBe(false);
    expect(prompt('hi')).toBe(true);
    expectInSync(sink, demo);
  });

  it('Shift and Backspace edit the line; Enter scrolls the terminal with copyBits', () => {
    const { demo, sink } = startStill();
    demo.input({ kind: 'key', scancode: SCAN.lshift, down: true });
    typeKeys(demo, [SCAN.h]);
    demo.input({ kind: 'key', scancode: SCAN.lshift, down: false });
    typeKeys(demo, [SCAN.i, SCAN.o, SCAN.backspace]);
    expect(containsImage(sink.surface, textImage('$ Hi', theme.termText, theme.termBg), demo.terminalRect)).toBe(true);
    sink.take();
    typeKeys(demo, [SCAN.enter]);
    const cmds = sink.take();
    expect(cmds.some((c) => c.kind === 'copyBits')).toBe(true);
    expect(
      containsImage(sink.surface, textImage('Hi: command not found', theme.termRed, theme.termBg), demo.terminalRect),
    ).toBe(true);
    expectInSync(sink, demo);
  });

  it('dragging the title bar moves the window (by copyBits)', () => {
    const { demo, sink } = startStill();
    const from = demo.windowRect;
    const inner = cropImage(
      sink.surface,
      from.left + 10,
      from.top + 10,
      from.right - from.left - 20,
      from.bottom - from.top - 20,
    );
    const grab = { x: from.left + 100, y: from.top + 10 };
    sink.take();
    demo.input({ kind: 'button', button: 1, down: true, x: grab.x, y: grab.y, buttons: 1 });
    for (let k = 1; k <= 5; k++) demo.input({ kind: 'pointer', x: grab.x + 20 * k, y: grab.y + 12 * k, buttons: 1 });
    demo.input({ kind: 'button', button: 1, down: false, x: grab.x + 100, y: grab.y + 60, buttons: 0 });
    const to = demo.windowRect;
    expect([to.left - from.left, to.top - from.top]).toEqual([100, 60]);
    expect(sink.take().some((c) => c.kind === 'copyBits')).toBe(true);
    const moved = cropImage(sink.surface, to.left + 10, to.top + 10, inner.width, inner.height);
    expect(sameRgb(moved, inner)).toBe(true);
    expectInSync(sink, demo);
  });

  it('clicking the wallpaper paints there; clicking the window body redraws only the window', () => {
    const { demo, sink } = startStill();
    let before = copyOf(sink.surface);
    const dot = { x: W - 120, y: 330 };
    demo.input({ kind: 'button', button: 1, down: true, ...dot, buttons: 1 });
    demo.input({ kind: 'pointer', x: dot.x + 40, y: dot.y + 10, buttons: 1 });
    demo.input({ kind: 'button', button: 1, down: false, x: dot.x + 40, y: dot.y + 10, buttons: 0 });
    const painted = diffBounds(before, sink.surface) as Rect;
    expect(painted).toBeDefined();
    expect(rectContains({ top: dot.y - 10, left: dot.x - 10, bottom: dot.y + 21, right: dot.x + 51 }, painted)).toBe(
      true,
    );

    before = copyOf(sink.surface);
    const win = demo.windowRect;
    demo.input({ kind: 'button', button: 1, down: true, x: win.left + 40, y: win.top + 80, buttons: 1 });
    demo.input({ kind: 'button', button: 1, down: false, x: win.left + 40, y: win.top + 80, buttons: 0 });
    const toggled = diffBounds(before, sink.surface) as Rect;
    expect(toggled).toBeDefined();
    expect(rectContains(win, toggled)).toBe(true);
    expectInSync(sink, demo);
  });

  it('a terminal made smaller by a resize shows its older lines again when it grows back', () => {
    const { demo, sink } = startStill();
    typeKeys(demo, [SCAN.h, SCAN.i, SCAN.enter, SCAN.e, SCAN.c, SCAN.h, SCAN.o]);
    const rect = demo.terminalRect;
    const full = cropImage(sink.surface, rect.left, rect.top, rect.right - rect.left, rect.bottom - rect.top);
    demo.resize(320, 240);
    demo.resize(W, H);
    expect(demo.terminalRect).toEqual(rect);
    const back = cropImage(sink.surface, rect.left, rect.top, rect.right - rect.left, rect.bottom - rect.top);
    expect(sameRgb(back, full)).toBe(true);
    expectInSync(sink, demo);
  });

  it('has a small grey alpha cursor with the hotspot inside', () => {
    const { sink } = startStill();
    const set = sink.cursors[0];
    if (set?.kind !== 'cursorSet') throw new Error('no cursorSet');
    const { image, hotX, hotY } = set.shape;
    expect(image.width).toBeLessThanOrEqual(64);
    expect(image.height).toBeLessThanOrEqual(64);
    expect(hotX).toBeGreaterThanOrEqual(0);
    expect(hotX).toBeLessThan(image.width);
    expect(hotY).toBeGreaterThanOrEqual(0);
    expect(hotY).toBeLessThan(image.height);
    const alphas = new Set<number>();
    for (let i = 0; i < image.width * image.height; i++) {
      const [b, g, r, a] = image.data.subarray(i * 4, i * 4 + 4);
      alphas.add(a === 0 ? 0 : a === 255 ? 255 : 128);
      expect(r === g && g === b).toBe(true);
    }
    expect([...alphas].sort((x, y) => x - y)).toEqual([0, 128, 255]);
  });
});

describe('demo desktop: animation', () => {
  function animated(): { demo: DemoSource; sink: SurfaceSink; advance: (ms: number) => void } {
    let t = T0;
    const demo = new DemoSource({ width: W, height: H, fps: 0, now: () => t });
    const sink = new SurfaceSink();
    demo.start(sink);
    return { demo, sink, advance: (ms) => (t += ms) };
  }

  it('sends only small damage per frame and ends equal to its back buffer', () => {
    const { demo, sink, advance } = animated();
    sink.take();
    const start = demo.windowRect;
    const perFrame: number[] = [];
    for (let f = 0; f < 120; f++) {
      advance(33);
      demo.renderFrame();
      const cmds = sink.take();
      perFrame.push(copyPixels(cmds));
      expect(cmds.every((c) => c.kind !== 'copy' || c.image.width * c.image.height < (W * H) / 10)).toBe(true);
    }
    const mean = perFrame.reduce((a, b) => a + b, 0) / perFrame.length;
    expect(mean).toBeLessThan(W * H * 0.01);
    expect(Math.max(...perFrame)).toBeLessThan(W * H * 0.05);
    expect(demo.windowRect).not.toEqual(start);
    expect(sink.commands.some((c) => c.kind === 'copyBits')).toBe(true);
    expectInSync(sink, demo);
  });

  it('a resize lays every part out again and loses nothing: terminal, paint, window, load graph', () => {
    const { demo, sink, advance } = animated();
    // Two seconds of life: log lines, load samples, the window drifting.
    for (let f = 0; f < 60; f++) {
      advance(33);
      demo.renderFrame();
    }
    typeKeys(demo, [SCAN.h, SCAN.i, SCAN.enter, SCAN.e, SCAN.c, SCAN.h, SCAN.o]);
    const dot = { x: W - 120, y: 330 };
    demo.input({ kind: 'button', button: 1, down: true, ...dot, buttons: 1 });
    demo.input({ kind: 'button', button: 1, down: false, ...dot, buttons: 0 });
    const win = demo.windowRect;
    demo.input({ kind: 'button', button: 1, down: true, x: win.left + 40, y: win.top + 80, buttons: 1 });
    demo.input({ kind: 'button', button: 1, down: false, x: win.left + 40, y: win.top + 80, buttons: 0 });
    demo.renderFrame();
    /** The window's place as a fraction of the room it has to drift in. */
    const place = (): { x: number; y: number } => {
      const r = demo.windowRect;
      const area = demo.layout.desktop;
      return { x: r.left / (area.w - (r.right - r.left)), y: r.top / (area.h - (r.bottom - r.top)) };
    };
    const before = place();
    // The taskbar's right end: load graph, frame counter, time (it keeps its distance from the edge).
    const graphBefore = cropImage(sink.surface, W - 272, H - 30, 272, 30);

    const W2 = 1280;
    const H2 = 800;
    demo.resize(W2, H2);
    expect(sink.surface.width).toBe(W2);
    expectInSync(sink, demo);
    expect(sameRgb(cropImage(sink.surface, W2 - 272, H2 - 30, 272, 30), graphBefore)).toBe(true);
    const term = demo.terminalRect;
    expect(containsImage(sink.surface, textImage('hi: command not found', theme.termRed, theme.termBg), term)).toBe(
      true,
    );
    expect(containsImage(sink.surface, textImage('$ echo', theme.termText, theme.termBg), term)).toBe(true);
    // The paint, scaled to the new size, in the first stroke's colour.
    const at = { x: Math.round((dot.x * W2) / W), y: Math.round((dot.y * H2) / H) };
    expect(pixelAt(sink.surface, at.x, at.y) & 0xffffff).toBe(paintColors[0]);
    // The window is where it was in proportion, and still paused.
    const after = place();
    expect(Math.abs(after.x - before.x)).toBeLessThan(0.01);
    expect(Math.abs(after.y - before.y)).toBeLessThan(0.01);
    const still = demo.windowRect;
    advance(1000);
    demo.renderFrame();
    expect(demo.windowRect).toEqual(still);
    // The command history goes on: Up after clearing the line recalls `hi`.
    typeKeys(demo, [SCAN.backspace, SCAN.backspace, SCAN.backspace, SCAN.backspace, SCAN.up]);
    expect(containsImage(sink.surface, textImage('$ hi', theme.termText, theme.termBg), demo.terminalRect)).toBe(true);
    demo.renderFrame();
    expectInSync(sink, demo);
  });

  it('emits identical commands for the same time sequence and input', () => {
    const run = (): string => {
      const { demo, sink, advance } = animated();
      for (let f = 0; f < 60; f++) {
        advance(f % 7 === 0 ? 50 : 33);
        if (f === 20) typeKeys(demo, [SCAN.h, SCAN.i, SCAN.enter]);
        demo.renderFrame();
      }
      return fingerprint(sink.commands);
    };
    expect(run()).toBe(run());
  });

  it('shows typed keys by the next frame', () => {
    const { demo, sink, advance } = animated();
    advance(33);
    demo.renderFrame();
    typeKeys(demo, [SCAN.h, SCAN.e, SCAN.l, SCAN.l, SCAN.o]);
    advance(33);
    demo.renderFrame();
    expect(containsImage(sink.surface, textImage('hello', theme.termText, theme.termBg), demo.terminalRect)).toBe(true);
    expectInSync(sink, demo);
  });

  it('keeps the viewer equal to its back buffer under seeded random input', () => {
    const rnd = seededRandom(42);
    const pick = (n: number): number => Math.floor(rnd() * n);
    let t = T0;
    const demo = new DemoSource({ width: 800, height: 600, fps: 0, now: () => t });
    const sink = new SurfaceSink();
    demo.start(sink);
    let at = { x: 0, y: 0 };
    const press = (x: number, y: number, button = 1): void => {
      at = { x, y };
      demo.input({ kind: 'button', button, down: true, x, y, buttons: 1 << (button - 1) });
    };
    for (let step = 0; step < 1200; step++) {
      const r = rnd();
      if (r < 0.05) press(demo.windowRect.left + 80 + pick(60), demo.windowRect.top + 8);
      else if (r < 0.09) press(pick(800), pick(600));
      else if (r < 0.1) press(pick(800), pick(600), 3);
      else if (r < 0.28) {
        at = {
          x: Math.max(0, Math.min(799, at.x + pick(300) - 150)),
          y: Math.max(0, Math.min(599, at.y + pick(200) - 100)),
        };
        demo.input({ kind: 'pointer', ...at, buttons: 1 });
      } else if (r < 0.33) demo.input({ kind: 'button', button: 1, down: false, ...at, buttons: 0 });
      else if (r < 0.5)
        typeKeys(demo, [[SCAN.h, SCAN.i, SCAN.space, SCAN.enter, SCAN.backspace, 0x148][pick(6)] ?? SCAN.h]);
      else {
        t += rnd() < 0.05 ? 1500 : 33;
        demo.renderFrame();
        if (step % 10 === 0) expectInSync(sink, demo);
      }
    }
    demo.renderFrame();
    expectInSync(sink, demo);
  });

  it('runs on its own timer until stopped', async () => {
    const demo = new DemoSource({ width: 640, height: 480, fps: 50 });
    const sink = new SurfaceSink();
    demo.start(sink);
    await until('a scroll drawn', () => sink.commands.some((c) => c.kind === 'copyBits'), 10_000);
    demo.stop();
    const count = sink.commands.length;
    expect(sink.commands.some((c) => c.kind === 'copyBits')).toBe(true);
    // Four frame times with nothing drawn: a slow machine can only make this pass for lack of time.
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(sink.commands.length).toBe(count);
    expectInSync(sink, demo);
  });
});
