import { rect, type Rect, makeRect } from '../protocol/geometry.js';
import type { CursorCommand, DisplayCommand, PixelImage } from '../seam/index.js';
import { cropImage } from '../display/pixels.js';
import { CELL_H, CELL_W, drawText } from './demo/font.js';
import { seededRandom } from './demo/noise.js';
import { renderLandscape } from './demo/photo.js';
import { createImage } from './demo/raster.js';
import { pointerShapes } from './synthetic/cursors.js';

/*
 * An everyday desktop session made up for the server to serve to itself before it listens
 * (src/server/rehearsal.ts says why). It draws what window systems draw, in the order and the
 * command shapes the seam's sources hand over: windows framed by fills, text as copies of glyph
 * runs of 1 to 40 cells, output scrolled by copy-bits with the new line drawn under it, windows
 * moved step by step with the uncovered strips filled and what lay beneath blitted in from
 * off-screen surfaces, a photo put up and moved, and the pointer changing shape, moving and
 * hiding. Nothing in it is taken from a recording.
 */

const WIDTH = 1024;
const HEIGHT = 768;
/** Cells of the line glyph runs are cut from. */
const LINE_CELLS = 160;
/**
 * Rounds of typing, output, a window moved and a photo: about 7,000 commands, enough for TurboFan to
 * take the functions every draw runs through (a few thousand calls each) before the first viewer.
 */
const ROUNDS = 40;
/** Off-screen surfaces are numbered down from here, as QXL guests number their pixmaps. */
const OFFSCREEN_TOP = 1023;

type Command = DisplayCommand | CursorCommand;

/** A whole number below `n`, from the demo's seeded generator (the same session every start). */
type Pick = (n: number) => number;

/**
 * A long line of text in the demo desktop's font, printable characters in a made-up order: glyph
 * runs are cut from it. `coloured`: each cell on paper of its own colour, as coloured terminal
 * output is.
 */
function textLine(pick: Pick, coloured: boolean): PixelImage {
  const line = createImage(LINE_CELLS * CELL_W, CELL_H, 0xffffff);
  for (let c = 0; c < LINE_CELLS; c++) {
    const paper = coloured ? (pick(6) * 0x330000) | (pick(6) * 0x3300) | (pick(6) * 0x33) : undefined;
    drawText(line, c * CELL_W, 0, String.fromCharCode(33 + pick(94)), 0x000000, paper);
  }
  return line;
}

/** A run of `cells` glyphs, as an X server hands a line of text over: one fresh image. */
function glyphRun(line: PixelImage, pick: Pick, cells: number): PixelImage {
  return cropImage(line, pick(LINE_CELLS - cells + 1) * CELL_W, 0, cells * CELL_W, CELL_H);
}

interface Window {
  x: number;
  y: number;
  cols: number;
  rows: number;
  /** Text row the next line goes to. */
  row: number;
}

function windowRect(w: Window): Rect {
  return rect(w.x, w.y, w.cols * CELL_W + 4, w.rows * CELL_H + 20);
}

function bodyRect(w: Window): Rect {
  return rect(w.x + 2, w.y + 18, w.cols * CELL_W, w.rows * CELL_H);
}

/** The session's commands, in order. */
export function rehearsalSession(): Command[] {
  const random = seededRandom(0x5eed);
  const pick: Pick = (n) => Math.floor(random() * n);
  const plain = textLine(pick, false);
  const coloured = textLine(pick, true);
  const pointers = pointerShapes();
  const out: Command[] = [];
  const fill = (r: Rect, color: number): void => void out.push({ kind: 'fill', surfaceId: 0, rect: r, color });
  const copy = (dest: Rect, image: PixelImage): void => void out.push({ kind: 'copy', surfaceId: 0, dest, image });
  const text = (w: Window, col: number, row: number, cells: number, from = plain): void => {
    const b = bodyRect(w);
    copy(rect(b.left + col * CELL_W, b.top + row * CELL_H, cells * CELL_W, CELL_H), glyphRun(from, pick, cells));
  };
  const frame = (w: Window): void => {
    fill(windowRect(w), 0x404040);
    fill(bodyRect(w), 0xffffff);
    text({ ...w, x: w.x - 2 + 8, y: w.y - 18 + 3 }, 0, 0, 12);
  };
  /** A line of output: the window scrolls once full. */
  const output = (w: Window, cells: number, from: PixelImage): void => {
    const b = bodyRect(w);
    if (w.row === w.rows) {
      out.push({
        kind: 'copyBits',
        surfaceId: 0,
        src: { x: b.left, y: b.top + CELL_H },
        dest: makeRect(b.top, b.left, b.bottom - CELL_H, b.right),
      });
      fill(makeRect(b.bottom - CELL_H, b.left, b.bottom, b.right), 0xffffff);
      w.row--;
    }
    text(w, 0, w.row++, cells, from);
  };
  /** One step of a window move: copy-bits, the uncovered strips refilled and redrawn from off-screen. */
  const move = (w: Window, dx: number, dy: number, offscreen: number): void => {
    const from = windowRect(w);
    w.x += dx;
    w.y += dy;
    const to = windowRect(w);
    out.push({ kind: 'copyBits', surfaceId: 0, src: { x: from.left, y: from.top }, dest: to });
    const strip =
      dx > 0
        ? rect(from.left, from.top, dx, from.bottom - from.top)
        : rect(to.right, from.top, -dx, from.bottom - from.top);
    fill(strip, 0x2f4f6f);
    const h = Math.min(24, strip.bottom - strip.top);
    out.push({ kind: 'surfaceCreate', surfaceId: offscreen, width: 24, height: 24, primary: false });
    out.push({ kind: 'copy', surfaceId: offscreen, dest: rect(0, 0, 24, 24), image: glyphRun(plain, pick, 4) });
    out.push({
      kind: 'blitSurface',
      surfaceId: 0,
      dest: rect(strip.left, strip.top, Math.min(24, strip.right - strip.left), h),
      srcSurfaceId: offscreen,
      src: { x: 0, y: 0 },
    });
    out.push({ kind: 'surfaceDestroy', surfaceId: offscreen });
  };

  out.push({ kind: 'surfaceCreate', surfaceId: 0, width: WIDTH, height: HEIGHT, primary: true });
  fill(rect(0, 0, WIDTH, HEIGHT), 0x2f4f6f);
  const windows: Window[] = [
    { x: 10, y: 10, cols: 80, rows: 24, row: 0 },
    { x: 420, y: 300, cols: 70, rows: 20, row: 0 },
    { x: 560, y: 40, cols: 45, rows: 15, row: 0 },
  ];
  for (const w of windows) frame(w);
  const picture = renderLandscape(200, 150);
  for (let round = 0; round < ROUNDS; round++) {
    for (const w of windows) {
      // Typing: a glyph at a time, then the command's output.
      for (let c = 0; c < 12; c++) text(w, c, Math.min(w.row, w.rows - 1), 1);
      for (let l = 0; l < 8; l++) output(w, 1 + pick(40), l % 3 ? plain : coloured);
    }
    const w = windows[round % windows.length]!;
    const dx = round % 2 ? -6 : 6;
    for (let step = 0; step < 10; step++) move(w, dx, 0, OFFSCREEN_TOP - (step % 4));
    // A photo put up, then dragged a few steps over what is there.
    let p = rect(300 + round * 8, 200 + round * 4, picture.width, picture.height);
    copy(p, round % 3 ? picture : cropImage(picture, 0, 0, picture.width, picture.height));
    for (let step = 0; step < 4; step++) {
      const to = rect(p.left + 4, p.top + 2, picture.width, picture.height);
      out.push({ kind: 'copyBits', surfaceId: 0, src: { x: p.left, y: p.top }, dest: to });
      fill(rect(p.left, p.top, 4, picture.height), 0x2f4f6f);
      fill(rect(p.left, p.top, picture.width, 2), 0x2f4f6f);
      p = to;
    }
    // The pointer changes shape over text and windows, moves, and hides while typing: every kind
    // of cursor command, as the desktop's cursor code runs them all.
    out.push({ kind: 'cursorSet', shape: round % 2 ? pointers.text : pointers.arrow });
    for (let m = 0; m < 20; m++) out.push({ kind: 'cursorMove', x: 100 + m * 20 + round, y: 200 + m * 9 });
    out.push({ kind: 'cursorHide' }, { kind: 'cursorShow' });
  }
  return out;
}
