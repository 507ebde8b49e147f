import type { DesktopResize, DisplaySink, DisplaySource, InputEvent } from '../../seam/index.js';
import type { PixelImage } from '../../display/pixels.js';
import type { Rect } from '../../protocol/geometry.js';
import { Desktop } from './background.js';
import { ClockPanel, formatTime, type ClockTime } from './clock.js';
import { Compositor, type WireStats } from './compositor.js';
import { arrowCursor } from './cursor.js';
import { DemoSound } from './sound.js';
import { Keyboard, type KeyAction } from './keymap.js';
import { computeLayout, TITLE_H, type DemoLayout } from './layout.js';
import { valueNoise } from './noise.js';
import { createPhotoPanel } from './photo.js';
import { bootScreen, logLine, plain } from './shell.js';
import { DemoClipboard } from './clipboard.js';
import { theme } from './theme.js';
import { Taskbar } from './taskbar.js';
import { TerminalPanel } from './terminal.js';
import { WelcomeWindow } from './welcome-window.js';

export interface DemoOptions {
  /** Screen size; 1024x768 by default, at least 320x240 (the layout needs that much). */
  width?: number;
  height?: number;
  /** One deterministic frame (10:08:30, fixed positions) that changes only on input. */
  still?: boolean;
  /** Frames per second of the animation timer; 0 means no timer (the caller drives renderFrame). */
  fps?: number;
  /** Milliseconds clock (Date.now by default); the only source of time, for determinism. */
  now?: () => number;
  /** Ticks and key blips on the playback channel (default true; off when sound comes from elsewhere). */
  sound?: boolean;
}

/** What one renderFrame emitted. */
export interface FrameReport {
  commands: number;
  copyPixels: number;
}

const STILL_TIME: ClockTime = { h: 10, m: 8, s: 30 };
const LOG_EVERY_MS = 1400;
const SAMPLE_EVERY_MS = 250;
const CARET_BLINK_MS = 530;
/** After a stall, do not replay more than this many missed log lines or graph samples. */
const MAX_CATCH_UP = 4;
const BUTTON_LEFT = 1;
const BUTTON_RIGHT = 3;
/** Lines of a paste the terminal runs; the rest is summed up in one line. */
const MAX_PASTE_LINES = 8;
/** The layout needs at least 320x240; beyond 8192 a side, a viewer's window is not a screen. */
const MIN_W = 320;
const MIN_H = 240;
const MAX_SIDE = 8192;

function clampSize(width: number, height: number): { width: number; height: number } {
  return { width: Math.max(MIN_W, Math.min(MAX_SIDE, width)), height: Math.max(MIN_H, Math.min(MAX_SIDE, height)) };
}

/** Every part of the desktop at one screen size (rebuilt when a viewer resizes it). */
interface Scene {
  layout: DemoLayout;
  compositor: Compositor;
  desktop: Desktop;
  clock: ClockPanel;
  terminal: TerminalPanel;
  taskbar: Taskbar;
  window: WelcomeWindow;
}

/** How much of the dragged window must stay on screen (so its title bar can be grabbed again). */
const KEEP_VISIBLE = 48;

function localTime(ms: number): ClockTime {
  const d = new Date(ms);
  return { h: d.getHours(), m: d.getMinutes(), s: d.getSeconds() };
}

/** The load graph's k-th sample: a slow wave with some deterministic jitter. */
function loadSample(k: number): number {
  return 0.35 + 0.22 * Math.sin(k * 0.19) + 0.45 * (valueNoise(k * 0.37, 0.5, 5) - 0.5);
}

/**
 * The built-in demo desktop: wallpaper, clock, photo viewer, terminal, a drifting window and a
 * taskbar, drawn through a compositor that sends only damage (fills, small images, copyBits).
 */
export class DemoSource implements DisplaySource {
  readonly name = 'demo';
  private readonly still: boolean;
  private readonly fps: number;
  private readonly now: () => number;
  private scene: Scene;
  /** The desktop's clipboard (the terminal's `copy` and Ctrl+V), for the agent spiced plays. */
  readonly clipboard = new DemoClipboard();
  /** The desktop re-lays itself out at the viewer's window size. */
  readonly resizer: DesktopResize = { resize: (w, h) => Promise.resolve(this.resize(w, h)) };
  /** The text the latest paste brought, whole (the terminal shows what fits). */
  lastPaste: string | undefined;
  private readonly keyboard = new Keyboard();
  private readonly sound = new DemoSound();
  private readonly soundOn: boolean;
  private shownSecond = -1;
  private sink: DisplaySink | undefined;
  private timer: NodeJS.Timeout | undefined;
  private frame = 0;
  private startedAt = 0;
  private lastTick = 0;
  private logCount = 0;
  private nextLogAt = 0;
  private sampleCount = 0;
  private nextSampleAt = 0;
  private caretEpoch = 0;
  private drag: { offX: number; offY: number; target?: { x: number; y: number } } | undefined;
  private last: FrameReport = { commands: 0, copyPixels: 0 };

  constructor(opts: DemoOptions = {}) {
    this.still = opts.still ?? false;
    this.fps = opts.fps ?? 30;
    this.now = opts.now ?? Date.now;
    this.soundOn = opts.sound ?? true;
    this.scene = this.buildScene(clampSize(opts.width ?? 1024, opts.height ?? 768));
  }

  /**
   * Every part of the desktop laid out for one screen size: fresh, or carrying over what `from`
   * shows (the terminal's lines, input and history, the paint, the window's place and state, the
   * load graph), so a resize loses nothing but the size.
   */
  private buildScene(size: { width: number; height: number }, from?: Scene): Scene {
    const layout = computeLayout(size.width, size.height);
    const compositor = new Compositor(layout.width, layout.height, (cmd) => this.sink?.display(cmd));
    const desktop = new Desktop(layout, from?.desktop.paint);
    const clock = new ClockPanel(layout.clock);
    const photo = createPhotoPanel(layout.photo);
    const terminal = new TerminalPanel(layout.terminal, from ? from.terminal.state : bootScreen());
    const taskbar = new Taskbar(layout.taskbar, ['Terminal', 'Photos', 'Clock', 'Welcome']);
    if (from) {
      const history = from.taskbar.history;
      taskbar.fillGraph((i) => history[i] ?? 0);
    } else {
      this.sampleCount = taskbar.fillGraph(loadSample);
    }
    const carried = from && { state: from.window.state(from.layout.desktop), area: layout.desktop };
    const window = new WelcomeWindow(layout.window, carried);
    for (const layer of [desktop.layer, clock.layer, photo, terminal.layer, taskbar.layer, window.layer]) {
      compositor.add(layer);
    }
    return { layout, compositor, desktop, clock, terminal, taskbar, window };
  }

  get layout(): DemoLayout {
    return this.scene.layout;
  }

  private get compositor(): Compositor {
    return this.scene.compositor;
  }

  private get desktop(): Desktop {
    return this.scene.desktop;
  }

  private get clock(): ClockPanel {
    return this.scene.clock;
  }

  private get terminal(): TerminalPanel {
    return this.scene.terminal;
  }

  private get taskbar(): Taskbar {
    return this.scene.taskbar;
  }

  private get window(): WelcomeWindow {
    return this.scene.window;
  }

  /**
   * Lay the desktop out again at `width` x `height` (clamped to what the layout supports): a new
   * primary surface, every part redrawn at its new place with what it showed (see buildScene). A
   * window drag in progress ends where the window is. Returns the size taken.
   */
  resize(width: number, height: number): { width: number; height: number } {
    const size = clampSize(width, height);
    if (size.width === this.layout.width && size.height === this.layout.height) return size;
    this.applyDrag();
    this.drag = undefined;
    this.desktop.endStroke();
    this.scene = this.buildScene(size, this.scene);
    if (this.sink) this.paintAll(this.sink);
    return size;
  }

  /** A new primary surface of the current size and everything on it. */
  private paintAll(sink: DisplaySink): void {
    const { width, height } = this.layout;
    sink.display({ kind: 'surfaceCreate', surfaceId: 0, width, height, primary: true });
    this.shownSecond = -1;
    this.showTime(this.still ? STILL_TIME : localTime(this.now()));
    this.compositor.repaintAll();
  }

  /** Lock keys as the demo's keyboard sees them (KeyModifier flags). */
  get modifiers(): number {
    return this.keyboard.locks;
  }

  /** The source's own copy of the screen (what a viewer shows after applying every command). */
  get backBuffer(): PixelImage {
    return this.compositor.back;
  }

  /**
   * The scene composed from scratch: what the screen must show once pending damage is flushed.
   * Tests compare viewers against it; it also serves for screenshots.
   */
  render(): PixelImage {
    return this.compositor.composeAll();
  }

  /** Totals of everything emitted so far. */
  get stats(): Readonly<WireStats> {
    return this.compositor.stats;
  }

  /** What the latest renderFrame emitted. */
  get lastFrame(): FrameReport {
    return this.last;
  }

  /** Where the terminal's text grid and the welcome window are on the screen. */
  get terminalRect(): Rect {
    return this.terminal.textRect;
  }

  get windowRect(): Rect {
    return this.window.layer.rect;
  }

  start(sink: DisplaySink): void {
    this.stop();
    this.sink = sink;
    const t = this.now();
    this.startedAt = t;
    this.lastTick = t;
    this.caretEpoch = t;
    this.nextLogAt = t + LOG_EVERY_MS;
    this.nextSampleAt = t + SAMPLE_EVERY_MS;
    this.paintAll(sink);
    sink.cursor({ kind: 'cursorSet', shape: arrowCursor() });
    if (!this.still && this.fps > 0) this.timer = setInterval(() => this.renderFrame(), 1000 / this.fps);
    if (this.fps > 0 && this.soundOn) this.sound.start(sink);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.sound.stop();
    this.sink = undefined;
  }

  /** Advance the animation to now() and emit the damage (the timer calls this; tests may too). */
  renderFrame(): void {
    if (this.sink === undefined) return;
    const before = { ...this.compositor.stats };
    const t = this.now();
    const dt = t - this.lastTick;
    this.lastTick = t;
    this.frame++;
    this.applyDrag();
    if (!this.still) this.animate(t, dt);
    this.compositor.flush();
    const after = this.compositor.stats;
    this.last = { commands: after.commands - before.commands, copyPixels: after.copyPixels - before.copyPixels };
  }

  input(ev: InputEvent): void {
    switch (ev.kind) {
      case 'key':
        this.onKey(this.keyboard.key(ev.scancode, ev.down));
        break;
      case 'modifiers':
        this.keyboard.setLocks(ev.modifiers);
        break;
      case 'button':
        if (ev.down) this.onPress(ev.button, ev.x, ev.y);
        else this.onRelease(ev.button);
        break;
      case 'pointer':
        this.onPointer(ev.x, ev.y);
        break;
    }
    // A still desktop has no frames to wait for: show the effect of input at once.
    if (this.still && this.sink !== undefined) {
      this.applyDrag();
      this.compositor.flush();
    }
  }

  private animate(t: number, dt: number): void {
    if (this.drag === undefined) {
      const to = this.window.advance(dt, this.layout.desktop);
      this.compositor.moveLayer(this.window.layer, to.x, to.y);
    }
    this.nextLogAt = this.catchUp(t, this.nextLogAt, LOG_EVERY_MS, () => {
      this.logCount++;
      this.terminal.log(this.compositor, logLine(this.logCount + 8, (t - this.startedAt) / 1000 + 5));
    });
    this.nextSampleAt = this.catchUp(t, this.nextSampleAt, SAMPLE_EVERY_MS, () =>
      this.taskbar.pushSample(this.compositor, loadSample(this.sampleCount++)),
    );
    this.terminal.setCaret(this.compositor, Math.floor((t - this.caretEpoch) / CARET_BLINK_MS) % 2 === 0);
    this.showTime(localTime(t));
  }

  /** Run `action` for each period boundary passed (at most MAX_CATCH_UP); returns the next due time. */
  private catchUp(t: number, due: number, period: number, action: () => void): number {
    let next = due;
    for (let n = 0; t >= next && n < MAX_CATCH_UP; n++) {
      action();
      next += period;
    }
    return t >= next ? t + period : next;
  }

  private showTime(time: ClockTime): void {
    const second = time.h * 3600 + time.m * 60 + time.s;
    if (this.shownSecond !== -1 && second !== this.shownSecond) this.sound.tick();
    this.shownSecond = second;
    this.clock.setTime(this.compositor, time);
    this.taskbar.setStatus(this.compositor, formatTime(time), this.still ? 'still frame' : `frame ${this.frame}`);
  }

  private onKey(action: KeyAction | undefined): void {
    if (action === undefined) return;
    this.sound.key();
    const host = this.compositor;
    // Typing keeps the caret solid; it starts blinking again from here.
    this.caretEpoch = this.now();
    this.terminal.setCaret(host, true);
    switch (action.kind) {
      case 'char':
        this.terminal.type(host, action.ch);
        break;
      case 'backspace':
        this.terminal.backspace(host);
        break;
      case 'enter':
        this.submit();
        break;
      case 'historyUp':
        this.terminal.recall(host, -1);
        break;
      case 'historyDown':
        this.terminal.recall(host, 1);
        break;
      case 'control':
        if (action.key === 'c') this.terminal.cancel(host);
        if (action.key === 'l') this.terminal.clear(host);
        if (action.key === 'v') void this.pasteFromClipboard();
        break;
    }
  }

  /** Run the terminal's command line; a `copy` puts its text on the desktop's clipboard. */
  private submit(): void {
    const copied = this.terminal.submit(this.compositor, formatTime(this.still ? STILL_TIME : localTime(this.now())));
    if (copied !== undefined) this.clipboard.copy(copied);
  }

  /** Ctrl+V: the clipboard's text goes to the terminal as if typed; each line break runs a line. */
  private async pasteFromClipboard(): Promise<void> {
    let text: string | undefined;
    try {
      text = await this.clipboard.paste();
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      this.terminal.log(this.compositor, plain(`paste failed: ${why}`, theme.termRed));
      this.flushIfStill();
      return;
    }
    if (text === undefined || this.sink === undefined) return;
    this.lastPaste = text;
    const lines = text.split(/\r?\n/);
    const run = lines.slice(0, MAX_PASTE_LINES);
    run.forEach((line, i) => {
      const visible = line.replace(/[^\x20-\x7e]/g, (c) => (c === '\t' ? ' ' : '?'));
      for (const ch of visible.slice(0, this.terminal.room)) this.terminal.type(this.compositor, ch);
      if (i < lines.length - 1) this.submit();
    });
    if (lines.length > MAX_PASTE_LINES || text.length > 256) {
      const note = `[pasted ${text.length} characters in ${lines.length} lines; the first ${run.length} typed]`;
      this.terminal.log(this.compositor, plain(note, theme.termDim));
    }
    this.flushIfStill();
  }

  private flushIfStill(): void {
    if (this.still && this.sink !== undefined) this.compositor.flush();
  }

  private onPress(button: number, x: number, y: number): void {
    const hit = this.compositor.layerAt(x, y);
    if (button === BUTTON_RIGHT && hit === this.desktop.layer) {
      this.desktop.clear(this.compositor);
      return;
    }
    if (button !== BUTTON_LEFT) return;
    if (this.window.onTitleBar(x, y)) {
      this.drag = { offX: x - this.window.layer.x, offY: y - this.window.layer.y };
    } else if (hit === this.window.layer) {
      this.window.toggle(this.compositor);
    } else if (hit === this.desktop.layer) {
      this.desktop.beginStroke(this.compositor, x, y);
    }
  }

  private onRelease(button: number): void {
    if (button !== BUTTON_LEFT) return;
    if (this.drag !== undefined) {
      this.applyDrag();
      this.window.placedAt(this.window.layer.x, this.window.layer.y);
      this.drag = undefined;
    }
    this.desktop.endStroke();
  }

  private onPointer(x: number, y: number): void {
    if (this.drag !== undefined) {
      const { width } = this.layout;
      const w = this.window.layer.width;
      // Moves are applied once per frame: many pointer events between frames cost one copyBits.
      this.drag.target = {
        x: Math.max(KEEP_VISIBLE - w, Math.min(width - KEEP_VISIBLE, x - this.drag.offX)),
        y: Math.max(0, Math.min(this.layout.desktop.h - TITLE_H, y - this.drag.offY)),
      };
    } else if (this.desktop.painting) {
      this.desktop.strokeTo(this.compositor, x, y);
    }
  }

  private applyDrag(): void {
    const target = this.drag?.target;
    if (this.drag === undefined || target === undefined) return;
    this.compositor.moveLayer(this.window.layer, target.x, target.y);
    this.drag.target = undefined;
  }
}
