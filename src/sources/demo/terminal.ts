import type { Rect } from '../../protocol/geometry.js';
import { drawWindowFrame, windowAlpha } from './chrome.js';
import type { SceneHost } from './compositor.js';
import { CELL_H, CELL_W, drawText } from './font.js';
import { Layer } from './layer.js';
import type { Box } from './layout.js';
import { createImage, fillRect, shiftArea } from './raster.js';
import { plain, promptLine, runShell, type Line } from './shell.js';
import { theme } from './theme.js';

const PROMPT_LEN = promptLine('').reduce((n, s) => n + s.text.length, 0);
/** Commands Up/Down can recall; older ones are forgotten (every viewer can type, forever). */
export const HISTORY_KEPT = 100;
/** Lines kept above the visible rows, so a terminal made taller by a resize shows them again. */
const SCROLLBACK_KEPT = 200;

/** What a terminal carries into its successor when the desktop is laid out at another size. */
export interface TerminalState {
  /** Every line kept above the prompt (scrollback then visible rows), oldest first. */
  lines: readonly Line[];
  input: string;
  history: readonly string[];
  commands: number;
}

/**
 * A terminal panel: a grid of text rows whose bottom row is the prompt. New lines scroll the rows
 * above them up with copyBits (through the SceneHost), so a new line costs one copyBits and one row.
 */
export class TerminalPanel {
  readonly layer: Layer;
  readonly cols: number;
  readonly rows: number;
  /** Text grid origin inside the layer. */
  private readonly gx: number;
  private readonly gy: number;
  /** The rows above the prompt, oldest first (always rows - 1 of them). */
  private lines: Line[];
  /** Lines scrolled off the top, oldest first (at most SCROLLBACK_KEPT). */
  private scrollback: Line[] = [];
  private input = '';
  private caretOn = true;
  private readonly history: string[] = [];
  private historyAt = 0;
  private commands = 0;

  /** `initial`: the lines of a fresh terminal, or the state of the one this replaces. */
  constructor(box: Box, initial: readonly Line[] | TerminalState) {
    const carried = 'input' in initial ? initial : undefined;
    const lines = carried ? carried.lines : (initial as readonly Line[]);
    const img = createImage(box.w, box.h);
    const body = drawWindowFrame(img, { title: 'Terminal - demo@spiced: ~' }, theme.termBg);
    this.cols = Math.max(1, Math.floor((body.w - 12) / CELL_W));
    this.rows = Math.max(2, Math.floor((body.h - 8) / CELL_H));
    this.gx = body.x + 6;
    this.gy = body.y + 4;
    const above = this.rows - 1;
    this.lines = [...Array.from({ length: Math.max(0, above - lines.length) }, (): Line => [])];
    this.append(lines);
    if (carried) {
      // The prompt keeps what fits of the typed line; history and command count go on.
      this.input = carried.input.slice(0, Math.max(0, this.cols - PROMPT_LEN - 1));
      this.history.push(...carried.history.slice(-HISTORY_KEPT));
      this.historyAt = this.history.length;
      this.commands = carried.commands;
    }
    this.layer = new Layer('terminal', img, box.x, box.y, windowAlpha(box.w, box.h));
    this.redrawAll();
  }

  /** The text grid in screen coordinates. */
  get textRect(): Rect {
    const left = this.layer.x + this.gx;
    const top = this.layer.y + this.gy;
    return { top, left, bottom: top + this.rows * CELL_H, right: left + this.cols * CELL_W };
  }

  /** Add a line above the prompt (the log scrolls, the prompt stays). */
  log(host: SceneHost, line: Line): void {
    this.append([line]);
    this.scrollRows(host, this.rows - 1, 1);
    this.drawRow(host, this.rows - 2, line);
  }

  type(host: SceneHost, ch: string): void {
    if (PROMPT_LEN + this.input.length + 1 >= this.cols) return;
    this.input += ch;
    this.drawPrompt(host);
  }

  backspace(host: SceneHost): void {
    if (this.input === '') return;
    this.input = this.input.slice(0, -1);
    this.drawPrompt(host);
  }

  /** Step through earlier commands (dir -1 = older). */
  recall(host: SceneHost, dir: -1 | 1): void {
    const at = Math.max(0, Math.min(this.history.length, this.historyAt + dir));
    if (at === this.historyAt) return;
    this.historyAt = at;
    this.input = this.history[at] ?? '';
    this.drawPrompt(host);
  }

  setCaret(host: SceneHost, on: boolean): void {
    if (on === this.caretOn) return;
    this.caretOn = on;
    this.drawPrompt(host);
  }

  /**
   * Enter: run the command, print its output and a fresh prompt. Returns the text `copy` put on
   * the clipboard (the terminal's last line when `copy` has no argument), if it ran.
   */
  submit(host: SceneHost, time: string): string | undefined {
    const command = this.input;
    if (command.trim() !== '') this.history.push(command);
    if (this.history.length > HISTORY_KEPT) this.history.shift();
    this.historyAt = this.history.length;
    const result = runShell(command, time, this.commands++);
    if (result.clear) {
      this.input = '';
      this.clear(host);
      return undefined;
    }
    const copied = result.copy === '' ? this.lastLineText() : result.copy;
    const note = plain(`copied ${copied?.length ?? 0} characters to the clipboard`, theme.termDim);
    const lines = copied === undefined ? result.lines : [note];
    this.commit(host, promptLine(command), lines);
    return copied;
  }

  /** The text of the last non-empty line above the prompt. */
  private lastLineText(): string {
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const text = this.lines[i]!.map((seg) => seg.text).join('');
      if (text.trim() !== '') return text;
    }
    return '';
  }

  /** Lines above the prompt (scrollback included), the typed input and the history: a resized terminal starts from them. */
  get state(): TerminalState {
    const lines = [...this.scrollback, ...this.lines];
    const first = lines.findIndex((line) => line.some((seg) => seg.text !== ''));
    return {
      lines: first < 0 ? [] : lines.slice(first),
      input: this.input,
      history: [...this.history],
      commands: this.commands,
    };
  }

  /** Add lines below the visible ones; those pushed off the top go to the scrollback. */
  private append(lines: readonly Line[]): void {
    const all = [...this.lines, ...lines];
    const off = Math.max(0, all.length - (this.rows - 1));
    if (off > 0) this.scrollback = [...this.scrollback, ...all.slice(0, off)].slice(-SCROLLBACK_KEPT);
    this.lines = all.slice(off);
  }

  /** What fits on the prompt line after the current input. */
  get room(): number {
    return Math.max(0, this.cols - PROMPT_LEN - this.input.length - 1);
  }

  /** Ctrl+C: abandon the input line. */
  cancel(host: SceneHost): void {
    this.historyAt = this.history.length;
    this.commit(host, [...promptLine(this.input), { text: '^C', color: theme.termDim }], []);
  }

  clear(host: SceneHost): void {
    this.lines = Array.from({ length: this.rows - 1 }, (): Line => []);
    this.redrawAll();
    host.invalidate(this.layer, this.gridRect(0, this.rows));
  }

  /** The prompt row becomes history (shown as `done`), `output` follows, then a new empty prompt. */
  private commit(host: SceneHost, done: Line, output: readonly Line[]): void {
    this.input = '';
    // Redraw the finished line first (no caret): its pending damage travels with the scroll.
    this.drawRow(host, this.rows - 1, done);
    this.append([done, ...output]);
    const k = output.length + 1;
    if (k >= this.rows) {
      this.redrawAll();
      host.invalidate(this.layer, this.gridRect(0, this.rows));
      return;
    }
    this.scrollRows(host, this.rows, k);
    output.forEach((line, i) => this.drawRow(host, this.rows - 1 - output.length + i, line));
    this.drawPrompt(host);
  }

  /** Move rows [k, end) up by k rows in the image and on the screen. */
  private scrollRows(host: SceneHost, end: number, k: number): void {
    const area = this.gridRect(0, end);
    shiftArea(
      this.layer.image,
      area.left,
      area.top + k * CELL_H,
      area.right - area.left,
      (end - k) * CELL_H,
      0,
      -k * CELL_H,
    );
    host.scroll(this.layer, area, 0, -k * CELL_H);
  }

  private drawPrompt(host: SceneHost): void {
    const row = this.rows - 1;
    this.drawRow(host, row, promptLine(this.input));
    const col = PROMPT_LEN + this.input.length;
    if (this.caretOn && col < this.cols) {
      fillRect(
        this.layer.image,
        this.gx + col * CELL_W,
        this.gy + row * CELL_H + 2,
        CELL_W,
        CELL_H - 3,
        theme.termCaret,
      );
    }
  }

  private redrawAll(): void {
    const silent: SceneHost = { invalidate: () => undefined, scroll: () => undefined };
    this.lines.forEach((line, i) => this.drawRow(silent, i, line));
    this.drawPrompt(silent);
  }

  /** Local rect of grid rows [from, to). */
  private gridRect(from: number, to: number): Rect {
    return {
      top: this.gy + from * CELL_H,
      left: this.gx,
      bottom: this.gy + to * CELL_H,
      right: this.gx + this.cols * CELL_W,
    };
  }

  private drawRow(host: SceneHost, row: number, line: Line): void {
    const area = this.gridRect(row, row + 1);
    fillRect(this.layer.image, area.left, area.top, area.right - area.left, CELL_H, theme.termBg);
    let col = 0;
    for (const seg of line) {
      const text = seg.text.slice(0, Math.max(0, this.cols - col));
      drawText(this.layer.image, this.gx + col * CELL_W, area.top, text, seg.color);
      col += text.length;
    }
    host.invalidate(this.layer, area);
  }
}
