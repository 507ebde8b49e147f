import type { PixelImage } from '../../display/pixels.js';
import { CELL_W, drawText } from '../demo/font.js';
import { renderLandscape } from '../demo/photo.js';
import { createImage, fillRect, hline, mix, strokeRect } from '../demo/raster.js';
import { LINE_H } from './editor.js';
import type { Focus, OfficeSession, TimedCommand } from './office.js';
import { between, pick, sentence } from './text.js';
import { MENU_H } from './widgets.js';

/*
 * What the simulated user does, as generator scripts over an OfficeSession: mostly typing a report
 * (about five characters a second, in bursts, with typos and pauses), thinking, reading back
 * (scrolling), updating the budget sheet, using menus (sometimes inserting a chart or a photo) and
 * pointing at links. Every script advances time only through the session's wait().
 */

type Script = Generator<TimedCommand>;

const ACTIVITIES: ReadonlyArray<[weight: number, run: (s: OfficeSession) => Script]> = [
  [40, typeSentence],
  [14, think],
  [8, readBack],
  [14, editSheet],
  [14, useMenu],
  [6, hoverLink],
];
const TOTAL_WEIGHT = ACTIVITIES.reduce((n, [w]) => n + w, 0);

/** Activities one after another until simulated time passes `endMs`. */
export function* officeActivities(s: OfficeSession, endMs: number): Script {
  while (s.t <= endMs) {
    let r = s.rnd() * TOTAL_WEIGHT;
    const chosen = ACTIVITIES.find(([w]) => (r -= w) < 0) ?? ACTIVITIES[0];
    if (chosen) yield* chosen[1](s);
  }
}

/** Time between two keystrokes: ~175 ms on average (5-6 characters a second), now and then a hesitation. */
function keyDelay(s: OfficeSession): number {
  return 90 + s.rnd() * 170 + (s.rnd() < 0.05 ? 300 + s.rnd() * 500 : 0);
}

function* click(s: OfficeSession): Script {
  yield* s.wait(between(s.rnd, 60, 140));
}

/** Bring the editor to the front of the user's attention: point into the text and click. */
function* focusEditor(s: OfficeSession): Script {
  if (s.focus === 'editor') return;
  const a = s.editor.textArea;
  yield* s.moveTo(between(s.rnd, a.left + 20, a.right - 40), between(s.rnd, a.top + 20, a.bottom - 20));
  yield* click(s);
  s.setFocus('editor');
  yield* s.step();
}

function* typeKey(s: OfficeSession, ch: string): Script {
  yield* s.wait(keyDelay(s));
  if (s.editor.lineFull) s.editor.newLine(s.compositor);
  s.editor.typeChar(s.compositor, ch);
  s.keyTyped();
  yield* s.step();
}

function* typeSentence(s: OfficeSession): Script {
  yield* focusEditor(s);
  s.hidePointer();
  for (const word of sentence(s.rnd)) {
    if (!s.editor.atLineStart) {
      if (s.editor.fits(word)) yield* typeKey(s, ' ');
      else {
        s.editor.newLine(s.compositor);
        yield* s.step();
      }
    }
    for (const ch of word) {
      if (s.rnd() < 0.025) yield* typo(s);
      yield* typeKey(s, ch);
    }
    s.editor.endWord(s.compositor, word);
    yield* s.step();
  }
  yield* s.wait(400 + s.rnd() * 2200);
  if (s.rnd() < 0.2) {
    for (let i = 0; i < 2; i++) {
      yield* s.wait(keyDelay(s));
      s.editor.newLine(s.compositor);
      s.keyTyped();
      yield* s.step();
    }
  }
}

/** A wrong key, a moment to notice, and backspace. */
function* typo(s: OfficeSession): Script {
  yield* typeKey(s, String.fromCharCode(between(s.rnd, 97, 122)));
  yield* s.wait(250 + s.rnd() * 400);
  s.editor.backspace(s.compositor);
  s.keyTyped();
  yield* s.step();
}

function* think(s: OfficeSession): Script {
  if (s.rnd() < 0.3) yield* s.moveTo(s.pointer.x + between(s.rnd, -60, 60), s.pointer.y + between(s.rnd, -40, 40));
  yield* s.wait(between(s.rnd, 2000, 12_000));
}

/** Scroll up with the wheel to reread, sometimes point at a link, sometimes scroll back down. */
function* readBack(s: OfficeSession): Script {
  const top = s.editor.firstVisible;
  if (top === 0) return yield* think(s);
  const a = s.editor.textArea;
  yield* s.moveTo(between(s.rnd, a.left + 40, a.right - 40), between(s.rnd, a.top + 40, a.bottom - 40));
  const notches = between(s.rnd, 1, 4);
  for (let i = 0; i < notches; i++) yield* wheel(s, -3);
  yield* s.wait(between(s.rnd, 1500, 5000));
  if (s.rnd() < 0.4) yield* hoverLink(s);
  if (s.rnd() < 0.5) for (let i = 0; i < notches; i++) yield* wheel(s, 3);
}

function* wheel(s: OfficeSession, lines: number): Script {
  yield* s.wait(between(s.rnd, 110, 260));
  s.editor.scrollTo(s.compositor, s.editor.firstVisible + lines);
  yield* s.step();
}

function* hoverLink(s: OfficeSession): Script {
  const link = s.editor.visibleLink();
  if (!link) return yield* s.wait(between(s.rnd, 500, 1500));
  yield* s.moveTo(link.x, link.y);
  yield* s.wait(between(s.rnd, 700, 2200));
  yield* s.moveTo(link.x + between(s.rnd, -80, 80), link.y + between(s.rnd, 30, 90));
}

/** Click a quarter's cell, type a new amount, Enter; maybe a few cells down the column. */
function* editSheet(s: OfficeSession): Script {
  const sheet = s.sheet;
  const maxCol = Math.min(sheet.quarters, sheet.lastCol);
  if (maxCol < 1) return yield* think(s);
  const col = between(s.rnd, 1, maxCol);
  let row = between(s.rnd, 0, sheet.rows - 2);
  const target = sheet.cellCentre(row, col);
  yield* s.moveTo(target.x + between(s.rnd, -10, 10), target.y);
  yield* click(s);
  s.setFocus('sheet');
  sheet.select(s.compositor, row, col);
  yield* s.step();
  const cells = between(s.rnd, 1, 3);
  for (let i = 0; i < cells && row < sheet.rows; i++, row++) {
    yield* s.wait(between(s.rnd, 400, 1500));
    const digits = String(between(s.rnd, 40, 9000) * 10);
    for (const ch of digits) {
      yield* s.wait(keyDelay(s));
      sheet.typeInto(s.compositor, ch);
      yield* s.step();
    }
    yield* s.wait(keyDelay(s));
    sheet.commit(s.compositor);
    yield* s.step();
  }
}

/** Open a menu of one of the windows, run the pointer down it, then pick an entry or dismiss it. */
function* useMenu(s: OfficeSession): Script {
  const which: Focus = s.rnd() < 0.75 ? s.focus : s.focus === 'editor' ? 'sheet' : 'editor';
  const win = s.window(which);
  const insertAt = win.menu.findIndex((m) => m.label === 'Insert');
  const insertPicture = which === 'editor' && insertAt >= 0 && s.rnd() < 0.35;
  const item = insertPicture ? insertAt : between(s.rnd, 0, win.menu.length - 1);
  const r = win.menuRect(item);
  const at = win.screen(r.x + Math.floor(r.w / 2), r.y + Math.floor(MENU_H / 2));
  yield* s.moveTo(at.x, at.y);
  yield* click(s);
  s.setFocus(which);
  const menu = s.menuFor(which, item);
  win.pressMenuItem(s.compositor, item, true);
  menu.open(s.compositor, win.layer.x + r.x, win.layer.y + r.y + MENU_H);
  s.openMenu = menu;
  yield* s.step();
  const last = insertPicture ? between(s.rnd, 0, 1) : between(s.rnd, 0, menu.entries.length - 1);
  for (let i = insertPicture ? 0 : Math.max(0, last - 3); i <= last; i++) {
    const p = menu.entryCentre(i);
    yield* s.moveTo(p.x + between(s.rnd, -20, 40), p.y);
    yield* s.wait(between(s.rnd, 150, 700));
  }
  yield* click(s);
  menu.close(s.compositor);
  win.pressMenuItem(s.compositor, item, false);
  s.openMenu = undefined;
  yield* s.step();
  if (insertPicture) yield* insertImage(s, last === 0 ? 'photo' : 'chart');
}

/** After the (unseen) file dialog: a picture lands in the document. */
function* insertImage(s: OfficeSession, kind: 'photo' | 'chart'): Script {
  yield* s.wait(between(s.rnd, 1500, 4000));
  const maxW = s.editor.cols * CELL_W;
  const image =
    kind === 'photo'
      ? renderLandscape(Math.min(maxW, 176), 6 * LINE_H, between(s.rnd, 1, 1000))
      : chart(s, Math.min(maxW, 240), 7 * LINE_H);
  s.editor.insertPicture(s.compositor, image);
  s.keyTyped();
  yield* s.step();
}

/** A bar chart of the budget rows, in the sheet's style. */
function chart(s: OfficeSession, w: number, h: number): PixelImage {
  const img = createImage(w, h, 0xffffff);
  strokeRect(img, 0, 0, w, h, 0xc9ced8);
  drawText(img, 8, 4, 'Spending by quarter', 0x283042, undefined, { bold: true });
  const bars = 8;
  const base = h - 12;
  const colors = [0x2f7bd8, 0x5fa8e8, 0x8fc5f0, 0xc7e0f6];
  for (let i = 0; i < bars; i++) {
    const value = 0.25 + 0.7 * s.rnd();
    const bh = Math.round((base - 28) * value);
    const bw = Math.floor((w - 24) / bars) - 6;
    fillRect(img, 12 + i * (bw + 6), base - bh, bw, bh, mix(pick(s.rnd, colors), 0xffffff, 0.1));
  }
  hline(img, 8, w - 8, base, 0x6d7589);
  return img;
}
