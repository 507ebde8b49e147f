import type { PixelImage } from '../../display/pixels.js';
import type { Rect } from '../../protocol/geometry.js';
import type { SceneHost } from '../demo/compositor.js';
import { CELL_W, drawText } from '../demo/font.js';
import type { Box } from '../demo/layout.js';
import { blit, fillRect, fillRoundRect, hline, shiftArea } from '../demo/raster.js';
import { theme } from '../demo/theme.js';
import { formatAmount, isLink } from './text.js';
import { AppWindow } from './widgets.js';

/*
 * The word processor: a white page of 20-pixel lines inside a window with a toolbar and a status
 * bar. Text is only ever added at the end (as a writer drafting a report does); lines that leave
 * the page scroll up with copyBits, and the user may scroll back to read (and the view jumps back
 * to the caret when typing resumes). Pictures occupy whole lines, so they scroll like text.
 */

export const LINE_H = 20;
const TOOLBAR_H = 30;
const STATUS_H = 22;
const LINK = 0x1a5fb4;
const PAGE_BG = 0xffffff;
const CANVAS = 0xd3d7de;
/** Older lines are forgotten beyond this (memory stays bounded however long the session). */
const MAX_LINES = 4000;

type DocLine = { kind: 'text'; text: string } | { kind: 'picture'; image: PixelImage; slice: number };

export type TextHit = 'text' | 'link' | 'none';

export class DocumentWindow {
  readonly win: AppWindow;
  readonly cols: number;
  readonly rows: number;
  /** Text grid origin (local). */
  private readonly tx: number;
  private readonly ty: number;
  private readonly status: Box;
  private lines: DocLine[] = [{ kind: 'text', text: '' }];
  private top = 0;
  private caretOn = false;
  private words = 0;

  constructor(box: Box, title: string, menus: readonly string[]) {
    this.win = new AppWindow(box, title, menus);
    const c = this.win.content;
    const img = this.win.image;
    drawToolbar(img, c);
    const canvas: Box = { x: c.x, y: c.y + TOOLBAR_H, w: c.w, h: c.h - TOOLBAR_H - STATUS_H };
    fillRect(img, canvas.x, canvas.y, canvas.w, canvas.h, CANVAS);
    const page: Box = { x: canvas.x + 20, y: canvas.y + 10, w: canvas.w - 40, h: canvas.h - 10 };
    fillRect(img, page.x, page.y, page.w, page.h, PAGE_BG);
    this.tx = page.x + 28;
    this.ty = page.y + 14;
    this.cols = Math.max(16, Math.floor((page.w - 56) / CELL_W));
    this.rows = Math.max(4, Math.floor((page.h - 14) / LINE_H));
    this.status = { x: c.x, y: c.y + c.h - STATUS_H, w: c.w, h: STATUS_H };
    fillRect(img, this.status.x, this.status.y, this.status.w, STATUS_H, 0xe6e9ef);
    hline(img, this.status.x, this.status.x + this.status.w - 1, this.status.y, 0xc9ced8);
  }

  /** Screen rect of the visible text area (where the pointer becomes an I-beam). */
  get textArea(): Rect {
    const p = this.win.screen(this.tx, this.ty);
    return { top: p.y, left: p.x, bottom: p.y + this.rows * LINE_H, right: p.x + this.cols * CELL_W };
  }

  get firstVisible(): number {
    return this.top;
  }

  /** The text of the line being typed. */
  private get current(): string {
    const last = this.lines[this.lines.length - 1];
    return last?.kind === 'text' ? last.text : '';
  }

  /** Fill the document silently (the initial picture). */
  preload(paragraphs: readonly string[][]): void {
    for (const words of paragraphs) {
      for (const w of words) this.appendWordQuietly(w);
      this.lines.push({ kind: 'text', text: '' }, { kind: 'text', text: '' });
    }
    this.top = Math.max(0, this.lines.length - this.rows);
    this.redrawAll(null);
    this.drawStatus(null);
  }

  private appendWordQuietly(word: string): void {
    const sep = this.current === '' ? '' : ' ';
    if (this.current.length + sep.length + word.length > this.cols) this.lines.push({ kind: 'text', text: word });
    else this.setCurrent(this.current + sep + word);
    this.words++;
  }

  private setCurrent(text: string): void {
    this.lines[this.lines.length - 1] = { kind: 'text', text };
  }

  /** Will `word` (after a space) still fit on the current line? */
  fits(word: string): boolean {
    const sep = this.current === '' ? 0 : 1;
    return this.current.length + sep + word.length <= this.cols;
  }

  get atLineStart(): boolean {
    return this.current === '';
  }

  /** No room for another character (a word longer than a line breaks here). */
  get lineFull(): boolean {
    return this.current.length >= this.cols;
  }

  typeChar(host: SceneHost, ch: string): void {
    this.ensureCaretVisible(host);
    this.setCaret(host, false);
    const col = this.current.length;
    this.setCurrent(this.current + ch);
    const { x, y } = this.cell(this.lines.length - 1, col);
    drawText(this.win.image, x, y + 2, ch, theme.bodyText, PAGE_BG);
    host.invalidate(this.win.layer, { top: y, left: x, bottom: y + LINE_H, right: x + CELL_W });
    this.setCaret(host, true);
  }

  backspace(host: SceneHost): void {
    if (this.current === '') return;
    this.setCaret(host, false);
    this.setCurrent(this.current.slice(0, -1));
    const { x, y } = this.cell(this.lines.length - 1, this.current.length);
    fillRect(this.win.image, x, y, CELL_W, LINE_H, PAGE_BG);
    host.invalidate(this.win.layer, { top: y, left: x, bottom: y + LINE_H, right: x + CELL_W });
    this.setCaret(host, true);
  }

  /** A word is complete: count it, and turn it into a link if it looks like one (as editors do). */
  endWord(host: SceneHost, word: string): void {
    this.words++;
    if (isLink(word.replace(/[.,]$/, ''))) this.redrawLine(host, this.lines.length - 1);
    this.drawStatus(host);
  }

  newLine(host: SceneHost): void {
    this.setCaret(host, false);
    this.push(host, { kind: 'text', text: '' });
    this.setCaret(host, true);
  }

  /** A picture on lines of its own, then an empty line for the text that follows. */
  insertPicture(host: SceneHost, image: PixelImage): void {
    this.setCaret(host, false);
    if (this.current !== '') this.push(host, { kind: 'text', text: '' });
    const slices = Math.ceil(image.height / LINE_H);
    this.setCurrentLine(host, { kind: 'picture', image, slice: 0 });
    for (let s = 1; s < slices; s++) this.push(host, { kind: 'picture', image, slice: s });
    this.push(host, { kind: 'text', text: '' });
    this.setCaret(host, true);
  }

  private setCurrentLine(host: SceneHost, line: DocLine): void {
    this.lines[this.lines.length - 1] = line;
    this.redrawLine(host, this.lines.length - 1);
  }

  /** Append a line; the view follows the end of the document. */
  private push(host: SceneHost, line: DocLine): void {
    this.lines.push(line);
    if (this.lines.length > MAX_LINES) {
      const drop = this.lines.length - MAX_LINES;
      this.lines.splice(0, drop);
      this.top = Math.max(0, this.top - drop);
    }
    this.ensureCaretVisible(host);
    this.redrawLine(host, this.lines.length - 1);
  }

  /** Scroll so the last line is on the page (editors jump back to the caret on input). */
  private ensureCaretVisible(host: SceneHost): void {
    const last = this.lines.length - 1;
    if (last >= this.top && last < this.top + this.rows) return;
    this.scrollTo(host, Math.max(0, last - this.rows + 1));
  }

  /** Show line `top` first: moves the rows that stay visible with copyBits, draws the rest. */
  scrollTo(host: SceneHost, top: number): void {
    const target = Math.max(0, Math.min(top, Math.max(0, this.lines.length - 1)));
    const delta = target - this.top;
    if (delta === 0) return;
    const caret = this.caretOn;
    this.setCaret(host, false);
    this.top = target;
    const keep = this.rows - Math.abs(delta);
    if (keep <= 0) {
      this.redrawAll(host);
    } else {
      const area: Rect = {
        top: this.ty,
        left: this.tx,
        bottom: this.ty + this.rows * LINE_H,
        right: this.tx + this.cols * CELL_W,
      };
      const from = delta > 0 ? this.ty + delta * LINE_H : this.ty;
      shiftArea(this.win.image, this.tx, from, this.cols * CELL_W, keep * LINE_H, 0, -delta * LINE_H);
      host.scroll(this.win.layer, area, 0, -delta * LINE_H);
      const exposed = delta > 0 ? [keep, this.rows] : [0, -delta];
      for (let r = exposed[0] as number; r < (exposed[1] as number); r++) this.redrawLine(host, this.top + r);
    }
    this.setCaret(host, caret);
  }

  /** The caret blinks: a 1-pixel bar in the blank first column of the next cell. */
  setCaret(host: SceneHost, on: boolean): void {
    if (on === this.caretOn) return;
    this.caretOn = on;
    const row = this.lines.length - 1;
    if (row < this.top || row >= this.top + this.rows) return;
    const { x, y } = this.cell(row, Math.min(this.current.length, this.cols - 1));
    fillRect(this.win.image, x, y + 2, 1, 16, on ? theme.bodyText : PAGE_BG);
    host.invalidate(this.win.layer, { top: y + 2, left: x, bottom: y + 18, right: x + 1 });
  }

  /** What lies under a screen point: a link, plain text area, or neither. */
  hit(sx: number, sy: number): TextHit {
    const a = this.textArea;
    if (sx < a.left || sx >= a.right || sy < a.top || sy >= a.bottom) return 'none';
    const line = this.lines[this.top + Math.floor((sy - a.top) / LINE_H)];
    if (line?.kind !== 'text') return 'text';
    const col = Math.floor((sx - a.left) / CELL_W);
    return wordAt(line.text, col).some(isLink) ? 'link' : 'text';
  }

  /** Screen point inside a visible link, if any (the pointer drifts there sometimes). */
  visibleLink(): { x: number; y: number } | undefined {
    for (let r = 0; r < this.rows; r++) {
      const line = this.lines[this.top + r];
      if (line?.kind !== 'text') continue;
      const at = line.text.indexOf('https://');
      if (at < 0) continue;
      const a = this.textArea;
      return { x: a.left + (at + 6) * CELL_W, y: a.top + r * LINE_H + 10 };
    }
    return undefined;
  }

  private cell(line: number, col: number): { x: number; y: number } {
    return { x: this.tx + col * CELL_W, y: this.ty + (line - this.top) * LINE_H };
  }

  private redrawAll(host: SceneHost | null): void {
    for (let r = 0; r < this.rows; r++) this.redrawLine(host, this.top + r);
  }

  /** Draw document line i where it shows (nothing when it is scrolled away). */
  private redrawLine(host: SceneHost | null, i: number): void {
    if (i < this.top || i >= this.top + this.rows) return;
    const { y } = this.cell(i, 0);
    const img = this.win.image;
    fillRect(img, this.tx, y, this.cols * CELL_W, LINE_H, PAGE_BG);
    const line = this.lines[i];
    if (line?.kind === 'picture') {
      blit(img, this.tx, y, line.image, 0, line.slice * LINE_H, line.image.width, LINE_H);
    } else if (line) {
      drawWords(img, this.tx, y, line.text);
    }
    host?.invalidate(this.win.layer, {
      top: y,
      left: this.tx,
      bottom: y + LINE_H,
      right: this.tx + this.cols * CELL_W,
    });
  }

  private drawStatus(host: SceneHost | null): void {
    const s = this.status;
    const page = Math.floor(this.lines.length / 48) + 1;
    const text = `Page ${page}    ${formatAmount(this.words)} words    English (US)`;
    drawText(this.win.image, s.x + 10, s.y + 4, text.padEnd(48), theme.muted, 0xe6e9ef);
    host?.invalidate(this.win.layer, { top: s.y + 4, left: s.x + 10, bottom: s.y + 20, right: s.x + 10 + 48 * CELL_W });
  }
}

/** The word(s) covering column col (one, or none on a space). */
function wordAt(text: string, col: number): string[] {
  if (col >= text.length || text[col] === ' ') return [];
  const start = text.lastIndexOf(' ', col) + 1;
  const end = text.indexOf(' ', col);
  return [text.slice(start, end < 0 ? text.length : end).replace(/[.,]$/, '')];
}

/** A line of text; links blue and underlined. */
function drawWords(img: PixelImage, x: number, y: number, text: string): void {
  let col = 0;
  for (const word of text.split(' ')) {
    const bare = word.replace(/[.,]$/, '');
    const link = isLink(bare);
    drawText(img, x + col * CELL_W, y + 2, word, link ? LINK : theme.bodyText);
    if (link) hline(img, x + col * CELL_W + 1, x + (col + bare.length) * CELL_W - 2, y + 15, LINK);
    col += word.length + 1;
  }
}

/** Toolbar: groups of small icon buttons. */
function drawToolbar(img: PixelImage, c: Box): void {
  fillRect(img, c.x, c.y, c.w, TOOLBAR_H, 0xf2f4f7);
  const colors = [0x5b8bd8, 0x5b8bd8, 0x8a94a6, 0x8a94a6, 0x8a94a6, 0xd8a25b, 0x6cb56c, 0xc46b6b, 0x8a94a6, 0x8a94a6];
  colors.forEach((col, i) => fillRoundRect(img, c.x + 10 + i * 28 + (i > 4 ? 10 : 0), c.y + 6, 18, 18, 3, col));
  hline(img, c.x, c.x + c.w - 1, c.y + TOOLBAR_H - 1, 0xc9ced8);
}
