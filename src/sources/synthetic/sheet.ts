import type { PixelImage } from '../../display/pixels.js';
import type { SceneHost } from '../demo/compositor.js';
import { CELL_W, drawText } from '../demo/font.js';
import type { Box } from '../demo/layout.js';
import { fillRect, hline, strokeRect, vline } from '../demo/raster.js';
import { theme } from '../demo/theme.js';
import { between, formatAmount, type Random } from './text.js';
import { ACCENT, AppWindow } from './widgets.js';

/*
 * The spreadsheet: a budget table (row labels, four quarters, a total column and a total row) under
 * a formula bar. Editing a cell types into it and the formula bar; Enter commits and the totals
 * that depend on it are recalculated, so only the cells whose text changes are redrawn.
 */

const ROW_H = 20;
const HEAD_W = 34;
const LABEL_W = 96;
const NUM_W = 64;
const FORMULA_H = 26;
const GRID = 0xd9dde5;
const HEADER_BG = 0xeef0f4;
const LABELS: readonly string[] = [
  ...['Salaries', 'Rent', 'Travel', 'Software', 'Hardware', 'Training', 'Marketing'],
  ...['Consulting', 'Utilities', 'Insurance', 'Supplies', 'Events', 'Legal', 'Other'],
];
const QUARTERS = ['Q1', 'Q2', 'Q3', 'Q4'];

export class SpreadsheetWindow {
  readonly win: AppWindow;
  /** Data rows (the total row comes after them). */
  readonly rows: number;
  /** Editable columns: the quarters (grid columns 1..4). */
  readonly quarters = QUARTERS.length;
  /** The last grid column that fits in the window (narrow screens hide the rightmost ones). */
  readonly lastCol: number;
  private readonly values: number[][];
  private readonly gx: number;
  private readonly gy: number;
  private readonly formula: Box;
  /** What each cell shows now, so a recalculation redraws only changed cells. */
  private readonly shown = new Map<string, string>();
  private selected: { row: number; col: number } | undefined;
  private editing: string | undefined;

  constructor(box: Box, title: string, menus: readonly string[], rnd: Random) {
    this.win = new AppWindow(box, title, menus);
    const c = this.win.content;
    this.formula = { x: c.x, y: c.y, w: c.w, h: FORMULA_H };
    this.gx = c.x;
    this.gy = c.y + FORMULA_H;
    this.rows = Math.max(3, Math.min(LABELS.length, Math.floor((c.h - FORMULA_H) / ROW_H) - 3));
    let last = this.quarters + 1;
    while (last > 0 && this.colX(last) + NUM_W > c.x + c.w) last--;
    this.lastCol = last;
    this.values = Array.from({ length: this.rows }, () => QUARTERS.map(() => between(rnd, 4, 900) * 10));
    const img = this.win.image;
    fillRect(img, c.x, c.y, c.w, c.h, 0xffffff);
    this.drawFormulaBar(null, '', '');
    this.drawHeaders(img);
    for (let r = 0; r <= this.rows; r++) for (let col = 0; col <= this.lastCol; col++) this.drawCell(null, r, col);
  }

  /** Screen centre of a cell (col 0 = labels, 1..4 quarters, 5 total). */
  cellCentre(row: number, col: number): { x: number; y: number } {
    const b = this.cellBox(row, col);
    return this.win.screen(b.x + Math.floor(b.w / 2), b.y + ROW_H / 2);
  }

  /** Is the screen point on the cell grid (the pointer becomes a cross there)? */
  onGrid(sx: number, sy: number): boolean {
    const lx = sx - this.win.layer.x;
    const ly = sy - this.win.layer.y;
    const right = this.colX(this.lastCol + 1);
    return lx >= this.gx + HEAD_W && lx < right && ly >= this.gy + ROW_H && ly < this.gy + ROW_H * (this.rows + 2);
  }

  select(host: SceneHost, row: number, col: number): void {
    const before = this.selected;
    this.selected = { row, col };
    this.editing = undefined;
    if (before) this.drawCell(host, before.row, before.col, true);
    this.drawCell(host, row, col, true);
    this.drawFormulaBar(host, this.cellName(row, col), this.cellText(row, col));
  }

  /** Type one character into the selected cell (starting an edit replaces its content). */
  typeInto(host: SceneHost, ch: string): void {
    const s = this.selected;
    if (!s) return;
    this.editing = (this.editing ?? '') + ch;
    this.drawCell(host, s.row, s.col, true);
    this.drawFormulaBar(host, this.cellName(s.row, s.col), this.editing);
  }

  /** Enter: store the edit, recalculate, move the selection down. */
  commit(host: SceneHost): void {
    const s = this.selected;
    if (!s || this.editing === undefined) return;
    const v = Number(this.editing.replace(/,/g, ''));
    this.editing = undefined;
    const row = this.values[s.row];
    if (row && Number.isFinite(v) && s.col >= 1 && s.col <= this.quarters) row[s.col - 1] = v;
    this.recalculate(host);
    this.select(host, Math.min(this.rows - 1, s.row + 1), s.col);
  }

  /** Redraw every cell whose text changed (totals after an edit). */
  private recalculate(host: SceneHost): void {
    for (let r = 0; r <= this.rows; r++) {
      for (let col = 1; col <= this.lastCol; col++) {
        if (this.shown.get(`${r},${col}`) !== this.cellText(r, col)) this.drawCell(host, r, col);
      }
    }
  }

  private cellName(row: number, col: number): string {
    return `${String.fromCharCode(65 + col)}${row + 1}`;
  }

  private cellText(row: number, col: number): string {
    const total = row === this.rows;
    if (col === 0) return total ? 'Total' : (LABELS[row] ?? '');
    const sumRow = (r: number): number => (this.values[r] ?? []).reduce((a, b) => a + b, 0);
    if (col === this.quarters + 1)
      return formatAmount(total ? this.values.reduce((a, _, r) => a + sumRow(r), 0) : sumRow(row));
    return formatAmount(
      total ? this.values.reduce((a, r) => a + (r[col - 1] ?? 0), 0) : (this.values[row]?.[col - 1] ?? 0),
    );
  }

  private colX(col: number): number {
    if (col === 0) return this.gx + HEAD_W;
    return this.gx + HEAD_W + LABEL_W + (col - 1) * NUM_W;
  }

  /** Local box of data cell (row, col); row = this.rows is the total row. */
  private cellBox(row: number, col: number): Box {
    const x = this.colX(col);
    return { x, y: this.gy + ROW_H * (row + 1), w: col === 0 ? LABEL_W : NUM_W, h: ROW_H };
  }

  private drawCell(host: SceneHost | null, row: number, col: number, force = false): void {
    const edited = this.editing !== undefined && this.selected?.row === row && this.selected.col === col;
    const text = edited && this.editing !== undefined ? this.editing : this.cellText(row, col);
    const key = `${row},${col}`;
    if (!force && host && this.shown.get(key) === text) return;
    this.shown.set(key, text);
    const b = this.cellBox(row, col);
    const img = this.win.image;
    const total = row === this.rows || col === this.quarters + 1;
    fillRect(img, b.x, b.y, b.w, b.h, total ? 0xf6f8fb : 0xffffff);
    hline(img, b.x, b.x + b.w - 1, b.y + b.h - 1, GRID);
    vline(img, b.x + b.w - 1, b.y, b.y + b.h - 1, GRID);
    const chars = Math.floor((b.w - 8) / CELL_W);
    const shownText = text.slice(0, chars);
    // Numbers are right-aligned, except while being typed.
    const numeric = col > 0 && !edited;
    const tx = numeric ? b.x + b.w - 4 - shownText.length * CELL_W : b.x + 4;
    drawText(img, tx, b.y + 2, shownText, total ? 0x1d2230 : theme.bodyText, undefined, { bold: total });
    if (this.selected?.row === row && this.selected.col === col) {
      strokeRect(img, b.x, b.y, b.w, b.h, ACCENT);
      strokeRect(img, b.x + 1, b.y + 1, b.w - 2, b.h - 2, ACCENT);
    }
    host?.invalidate(this.win.layer, { top: b.y, left: b.x, bottom: b.y + b.h, right: b.x + b.w });
  }

  private drawHeaders(img: PixelImage): void {
    const y = this.gy;
    const right = this.colX(this.lastCol + 1);
    fillRect(img, this.gx, y, right - this.gx, ROW_H, HEADER_BG);
    const heads = [
      'A',
      ...QUARTERS.map((_, i) => String.fromCharCode(66 + i)),
      String.fromCharCode(66 + QUARTERS.length),
    ];
    heads.slice(0, this.lastCol + 1).forEach((h, col) => {
      const x = this.colX(col);
      const w = col === 0 ? LABEL_W : NUM_W;
      drawText(img, x + Math.floor((w - CELL_W) / 2), y + 2, h, theme.muted);
      vline(img, x + w - 1, y, y + ROW_H - 1, GRID);
    });
    for (let r = 0; r <= this.rows; r++) {
      const ry = y + ROW_H * (r + 1);
      fillRect(img, this.gx, ry, HEAD_W, ROW_H, HEADER_BG);
      const label = String(r + 1);
      drawText(img, this.gx + HEAD_W - 6 - label.length * CELL_W, ry + 2, label, theme.muted);
      hline(img, this.gx, this.gx + HEAD_W - 1, ry + ROW_H - 1, GRID);
    }
    hline(img, this.gx, right - 1, y + ROW_H - 1, 0xb9c0cc);
    vline(img, this.gx + HEAD_W - 1, y, y + ROW_H * (this.rows + 2) - 1, 0xb9c0cc);
  }

  private drawFormulaBar(host: SceneHost | null, name: string, content: string): void {
    const f = this.formula;
    const img = this.win.image;
    fillRect(img, f.x, f.y, f.w, f.h, 0xf2f4f7);
    fillRect(img, f.x + 6, f.y + 4, 54, 18, 0xffffff);
    strokeRect(img, f.x + 6, f.y + 4, 54, 18, GRID);
    drawText(img, f.x + 10, f.y + 5, name, theme.bodyText);
    drawText(img, f.x + 68, f.y + 5, 'fx', theme.muted, undefined, { bold: true });
    fillRect(img, f.x + 90, f.y + 4, f.w - 96, 18, 0xffffff);
    strokeRect(img, f.x + 90, f.y + 4, f.w - 96, 18, GRID);
    drawText(img, f.x + 94, f.y + 5, content.slice(0, Math.floor((f.w - 104) / CELL_W)), theme.bodyText);
    hline(img, f.x, f.x + f.w - 1, f.y + f.h - 1, 0xc9ced8);
    host?.invalidate(this.win.layer, { top: f.y, left: f.x, bottom: f.y + f.h, right: f.x + f.w });
  }

  /** A quiet moment's update: a linked cell refreshes (as sheets with live data do). */
  nudge(host: SceneHost, rnd: Random): void {
    const maxCol = Math.min(this.quarters, this.lastCol);
    if (maxCol < 1) return;
    const r = between(rnd, 0, this.rows - 1);
    const col = between(rnd, 1, maxCol);
    if (this.selected?.row === r && this.selected.col === col) return;
    const row = this.values[r];
    if (row) row[col - 1] = Math.max(0, (row[col - 1] ?? 0) + between(rnd, -40, 40) * 10);
    this.recalculate(host);
  }
}
