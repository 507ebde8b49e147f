import type { SeamCommand } from '../../seam/index.js';
import { Compositor } from '../demo/compositor.js';
import { drawText } from '../demo/font.js';
import { Layer } from '../demo/layer.js';
import { TASKBAR_H } from '../demo/layout.js';
import { seededRandom } from '../demo/noise.js';
import { createImage, verticalGradient } from '../demo/raster.js';
import { pointerShapes, type PointerKind } from './cursors.js';
import { DocumentWindow } from './editor.js';
import { SpreadsheetWindow } from './sheet.js';
import { between, sentence, type Random } from './text.js';
import { OfficeTaskbar, PopupMenu, type AppWindow } from './widgets.js';

/*
 * The world of a synthetic office session and its clock: a word processor, a spreadsheet, a
 * taskbar, drop-down menus and the pointer, drawn through the demo's compositor (so only damage is
 * emitted). Simulated time advances only through wait(); every command carries the time at which
 * it was emitted. Activities (activities.ts) script what the user does.
 */

export interface TimedCommand {
  timeNs: bigint;
  command: SeamCommand;
}

export type Focus = 'editor' | 'sheet';

const CARET_BLINK_MS = 530;
/** Pointer motion events per second while the mouse moves. */
const MOTION_STEP_MS = 16;
const START_MINUTES = 9 * 60 + 12;

const EDITOR_MENUS = ['File', 'Edit', 'View', 'Insert', 'Format', 'Tools', 'Help'];
const SHEET_MENUS = ['File', 'Edit', 'View', 'Insert', 'Data', 'Help'];
const MENU_ENTRIES: Record<string, readonly string[]> = {
  File: ['New', 'Open...', 'Save', 'Save As...', 'Export as PDF', 'Print...', 'Close'],
  Edit: ['Undo', 'Redo', 'Cut', 'Copy', 'Paste', 'Find...'],
  View: ['Zoom In', 'Zoom Out', 'Page Width', 'Ruler', 'Status Bar'],
  Insert: ['Picture...', 'Chart...', 'Table...', 'Page Break', 'Link...'],
  Format: ['Bold', 'Italic', 'Paragraph...', 'Styles...'],
  Tools: ['Word Count', 'Spelling...', 'Options...'],
  Data: ['Sort...', 'Filter', 'Recalculate', 'Validity...'],
  Help: ['Contents', 'Keyboard Shortcuts', 'About'],
};

export class OfficeSession {
  readonly rnd: Random;
  readonly width: number;
  readonly height: number;
  readonly compositor: Compositor;
  readonly editor: DocumentWindow;
  readonly sheet: SpreadsheetWindow;
  readonly taskbar: OfficeTaskbar;
  private readonly menus = new Map<string, PopupMenu>();
  private readonly queue: SeamCommand[] = [];
  /** Simulated milliseconds since the start. */
  t = 0;
  focus: Focus = 'editor';
  readonly pointer = { x: 0, y: 0, visible: true, kind: 'arrow' as PointerKind };
  openMenu: PopupMenu | undefined;
  private nextBlink = CARET_BLINK_MS;
  private caretOn = true;
  private nextMinute = 60_000;
  private nextNudge: number;

  constructor(width: number, height: number, seed: number) {
    this.width = width;
    this.height = height;
    this.rnd = seededRandom(seed);
    this.compositor = new Compositor(width, height, (cmd) => this.queue.push(cmd));
    const deskH = height - TASKBAR_H;
    const editorW = Math.round(width * 0.5);
    this.editor = new DocumentWindow(
      { x: 16, y: 14, w: editorW, h: deskH - 28 },
      'Quarterly report.odt - Writer',
      EDITOR_MENUS,
    );
    const sheetX = 16 + editorW + 12;
    this.sheet = new SpreadsheetWindow(
      { x: sheetX, y: 14, w: width - sheetX - 16, h: Math.min(deskH - 28, 430) },
      'Budget 2025.ods - Sheets',
      SHEET_MENUS,
      this.rnd,
    );
    this.taskbar = new OfficeTaskbar({ x: 0, y: deskH, w: width, h: TASKBAR_H }, [
      'Quarterly report - Writer',
      'Budget 2025 - Sheets',
    ]);
    this.compositor.add(wallpaper(width, deskH));
    this.compositor.add(this.editor.win.layer);
    this.compositor.add(this.sheet.win.layer);
    this.compositor.add(this.taskbar.layer);
    this.nextNudge = between(this.rnd, 6000, 15000);
    this.pointer.x = Math.round(width * 0.4);
    this.pointer.y = Math.round(height * 0.5);
  }

  /** The first picture: surface, pointer, the whole screen. */
  *begin(): Generator<TimedCommand> {
    this.queue.push({ kind: 'surfaceCreate', surfaceId: 0, width: this.width, height: this.height, primary: true });
    this.editor.preload([sentence(this.rnd), sentence(this.rnd).concat(sentence(this.rnd)), sentence(this.rnd)]);
    this.editor.win.setActive(this.compositor, true);
    this.taskbar.setActive(this.compositor, 0);
    this.taskbar.setTime(this.compositor, clockText(0));
    this.compositor.repaintAll();
    this.queue.push(
      { kind: 'cursorSet', shape: pointerShapes().arrow },
      { kind: 'cursorMove', x: this.pointer.x, y: this.pointer.y },
    );
    yield* this.step();
  }

  /** Emit pending damage (and queued cursor commands) at the current time. */
  *step(): Generator<TimedCommand> {
    this.compositor.flush();
    if (this.queue.length === 0) return;
    const timeNs = BigInt(Math.round(this.t * 1000)) * 1000n;
    const batch = this.queue.splice(0);
    for (const command of batch) yield { timeNs, command };
  }

  /** Let `ms` pass; the caret blinks, the clock ticks and linked cells refresh meanwhile. */
  *wait(ms: number): Generator<TimedCommand> {
    const until = this.t + Math.max(0, ms);
    // Blinking was paused (menu open, other window focused): resume from now, not from then.
    if (this.nextBlink < this.t) this.nextBlink = this.t + CARET_BLINK_MS;
    for (;;) {
      const next = Math.min(this.caretBlinks ? this.nextBlink : Infinity, this.nextMinute, this.nextNudge);
      if (next > until) break;
      this.t = next;
      this.background(next);
      yield* this.step();
    }
    this.t = until;
  }

  private get caretBlinks(): boolean {
    return this.focus === 'editor' && this.openMenu === undefined;
  }

  private background(at: number): void {
    if (this.caretBlinks && at >= this.nextBlink) {
      this.caretOn = !this.caretOn;
      this.editor.setCaret(this.compositor, this.caretOn);
      this.nextBlink += CARET_BLINK_MS;
    }
    if (at >= this.nextMinute) {
      this.taskbar.setTime(this.compositor, clockText(Math.round(at / 60_000)));
      this.nextMinute += 60_000;
    }
    if (at >= this.nextNudge) {
      this.sheet.nudge(this.compositor, this.rnd);
      this.nextNudge += between(this.rnd, 6000, 20000);
    }
  }

  /** A key went down in the editor: the caret stays solid and blinks again after a pause. */
  keyTyped(): void {
    this.caretOn = true;
    this.nextBlink = this.t + CARET_BLINK_MS;
  }

  /** Glide the pointer to (x, y) like a hand on a mouse: eased, slightly curved, ~60 events/s. */
  *moveTo(x: number, y: number): Generator<TimedCommand> {
    const from = { x: this.pointer.x, y: this.pointer.y };
    const dist = Math.hypot(x - from.x, y - from.y);
    if (dist < 1) return;
    if (!this.pointer.visible) {
      this.pointer.visible = true;
      this.queue.push({ kind: 'cursorShow' });
    }
    const duration = Math.min(1100, 180 + dist * 0.9);
    const steps = Math.max(2, Math.round(duration / MOTION_STEP_MS));
    const bow = (this.rnd() - 0.5) * Math.min(80, dist * 0.2);
    for (let i = 1; i <= steps; i++) {
      const s = i / steps;
      const e = s * s * (3 - 2 * s);
      const arc = Math.sin(Math.PI * s) * bow;
      const nx = Math.round(from.x + (x - from.x) * e - ((y - from.y) / dist) * arc);
      const ny = Math.round(from.y + (y - from.y) * e + ((x - from.x) / dist) * arc);
      yield* this.wait(MOTION_STEP_MS);
      this.pointerAt(Math.max(0, Math.min(this.width - 1, nx)), Math.max(0, Math.min(this.height - 1, ny)));
      yield* this.step();
    }
  }

  private pointerAt(x: number, y: number): void {
    if (x === this.pointer.x && y === this.pointer.y) return;
    this.pointer.x = x;
    this.pointer.y = y;
    this.queue.push({ kind: 'cursorMove', x, y });
    const kind = this.pointerKindAt(x, y);
    if (kind !== this.pointer.kind) {
      this.pointer.kind = kind;
      this.queue.push({ kind: 'cursorSet', shape: pointerShapes()[kind] });
    }
    const menu = this.openMenu;
    if (menu) menu.highlight(this.compositor, menu.entryAt(x, y));
  }

  private pointerKindAt(x: number, y: number): PointerKind {
    if ((this.openMenu?.entryAt(x, y) ?? -1) >= 0) return 'arrow';
    const hit = this.editor.hit(x, y);
    if (hit === 'link') return 'link';
    if (hit === 'text') return 'text';
    return this.sheet.onGrid(x, y) ? 'cell' : 'arrow';
  }

  /** Editors hide the pointer while the user types into them. */
  hidePointer(): void {
    if (!this.pointer.visible) return;
    this.pointer.visible = false;
    this.queue.push({ kind: 'cursorHide' });
  }

  /** Give a window the focus: title bars, taskbar and the editor's caret follow. */
  setFocus(focus: Focus): void {
    if (focus === this.focus) return;
    this.focus = focus;
    this.editor.win.setActive(this.compositor, focus === 'editor');
    this.sheet.win.setActive(this.compositor, focus === 'sheet');
    this.taskbar.setActive(this.compositor, focus === 'editor' ? 0 : 1);
    this.caretOn = focus === 'editor';
    this.editor.setCaret(this.compositor, this.caretOn);
    this.nextBlink = this.t + CARET_BLINK_MS;
  }

  window(which: Focus): AppWindow {
    return which === 'editor' ? this.editor.win : this.sheet.win;
  }

  /** The drop-down of a window's menu bar item (created on first use). */
  menuFor(which: Focus, item: number): PopupMenu {
    const label = (which === 'editor' ? EDITOR_MENUS : SHEET_MENUS)[item] ?? 'Help';
    const key = `${which}:${label}`;
    let menu = this.menus.get(key);
    if (!menu) {
      menu = new PopupMenu(this.compositor, MENU_ENTRIES[label] ?? []);
      this.menus.set(key, menu);
    }
    return menu;
  }
}

function clockText(minutesSinceStart: number): string {
  const m = START_MINUTES + minutesSinceStart;
  return `${String(Math.floor(m / 60) % 24).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

/** A calm gradient with a faint caption: cheap to send, like most office wallpapers. */
function wallpaper(width: number, height: number): Layer {
  const img = createImage(width, height);
  verticalGradient(img, 0, 0, width, height, 0x2b3a55, 0x51708f);
  drawText(img, width - 170, height - 26, 'spiced office', 0x7189a6);
  return new Layer('wallpaper', img, 0, 0);
}
