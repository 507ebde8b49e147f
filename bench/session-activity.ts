/**
 * One cycle of the soak's user (about 12 s): a window dragged there and back, keys typed into a
 * terminal one at a time (each a key-to-glyph probe), the terminal scrolling a few thousand lines,
 * the Applications menu and the desktop menu opened and closed. Everything goes through
 * remote-viewer; what happened when is recorded for the minute's figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { type Driver, waitForWindow, windowBox, type Point, type WindowBox } from './session-drive.js';
import { makeRandom, sleep } from './x11-viewer.js';
import { monoMs } from './x11-server.js';

/** A drag as it happened: when the motion ran and whether the window really moved. */
export interface DragRecord {
  startMs: number;
  endMs: number;
  moved: boolean;
}

export interface KeyRecord {
  atMs: number;
}

/** What the cycles of one minute did. */
export interface ActivityLog {
  drags: DragRecord[];
  keys: KeyRecord[];
}

/** The two terminals the user works with, started on the desktop. */
export interface Terminals {
  drag: ChildProcess;
  type: ChildProcess;
  dragId: string;
  typeBox: WindowBox;
}

export interface DragWatch {
  begin(): Promise<void>;
  end(): void;
}

const DRAG_STEPS = 90;
const DRAG_STEP_MS = 1000 / 60;
const DRAG_BY = { x: 260, y: 200 };
/** The title bar's middle height above a window's inside (xfwm4's default theme). */
const TITLE_ABOVE = 12;
const KEYS_PER_CYCLE = 6;
const KEY_GAP_MS = 250;
const KEY_JITTER_MS = 34;
const MENU_OPEN_MS = 700;
/** Empty desktop background for the right-click menu, and the panel's Applications button. */
const DESKTOP_SPOT: Point = { x: 150, y: 700 };
const APPLICATIONS: Point = { x: 50, y: 12 };

function startTerminal(display: string, args: string[]): ChildProcess {
  // Its own process group: stopTerminals() ends it and its shell by the group's id.
  const env = { ...process.env, DISPLAY: display };
  return spawn('xfce4-terminal', ['--disable-server', ...args], { env, stdio: 'ignore', detached: true });
}

export async function startTerminals(display: string): Promise<Terminals> {
  const banner = 'echo soak: this window is dragged; exec sleep 1000000';
  const drag = startTerminal(display, ['--geometry', '60x12+40+80', '-x', 'sh', '-c', banner]);
  const type = startTerminal(display, ['--geometry', '70x16+500+330']);
  const dragId = await waitForWindow(display, drag.pid!, 30_000);
  const typeId = await waitForWindow(display, type.pid!, 30_000);
  await sleep(1000); // let the shell print its prompt
  return { drag, type, dragId, typeBox: await windowBox(display, typeId) };
}

export function stopTerminals(t: Terminals | undefined): void {
  for (const c of [t?.drag, t?.type]) {
    if (c?.pid === undefined || c.exitCode !== null) continue;
    try {
      process.kill(-c.pid, 'SIGTERM');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}

export class User {
  private readonly random = makeRandom(18);
  private there = false;

  constructor(
    private readonly driver: Driver,
    private readonly desktopDisplay: string,
    private readonly terms: Terminals,
    /** Told when a drag begins and ends (the soak judges which drawings changed pixels meanwhile). */
    private readonly dragging: DragWatch = { begin: () => Promise.resolve(), end: () => {} },
  ) {}

  async cycle(log: ActivityLog): Promise<void> {
    log.drags.push(await this.dragOnce());
    log.drags.push(await this.dragOnce());
    await this.typeProbes(log);
    await this.scroll();
    await this.menus();
  }

  /** Drag the drag terminal by its title bar to the other of its two places. */
  private async dragOnce(): Promise<DragRecord> {
    const before = await windowBox(this.desktopDisplay, this.terms.dragId);
    const sign = this.there ? -1 : 1;
    const from = { x: before.x + 100, y: before.y - TITLE_ABOVE };
    const to = { x: from.x + sign * DRAG_BY.x, y: from.y + sign * DRAG_BY.y };
    await this.dragging.begin();
    const { startMs, endMs } = await this.driver.drag(from, to, DRAG_STEPS, DRAG_STEP_MS);
    await sleep(150);
    this.dragging.end();
    const after = await windowBox(this.desktopDisplay, this.terms.dragId);
    const off = (moved: number, wanted: number): boolean => Math.abs(moved - wanted) > 8;
    const moved = !off(after.x - before.x, sign * DRAG_BY.x) && !off(after.y - before.y, sign * DRAG_BY.y);
    if (moved) this.there = !this.there;
    return { startMs, endMs, moved };
  }

  private typeBoxCentre(): Point {
    const b = this.terms.typeBox;
    return { x: b.x + (b.width >> 1), y: b.y + (b.height >> 1) };
  }

  /** Single keys, spaced so that each glyph is its own update; the line is cleared after. */
  private async typeProbes(log: ActivityLog): Promise<void> {
    await this.driver.click(this.typeBoxCentre());
    await sleep(200);
    for (let i = 0; i < KEYS_PER_CYCLE; i++) {
      const letter = String.fromCharCode(97 + Math.floor(this.random() * 26));
      const atMs = monoMs();
      await this.driver.key(letter);
      log.keys.push({ atMs });
      await sleep(KEY_GAP_MS + this.random() * KEY_JITTER_MS);
    }
    await this.driver.key('ctrl+u');
  }

  /** A few thousand lines through the terminal as fast as it prints them. */
  private async scroll(): Promise<void> {
    await this.driver.type('seq 1 4000\n');
    await sleep(2500);
    await this.driver.type('clear\n');
    await sleep(300);
  }

  private async menus(): Promise<void> {
    await this.driver.click(APPLICATIONS);
    await sleep(MENU_OPEN_MS);
    await this.driver.move({ x: APPLICATIONS.x + 40, y: APPLICATIONS.y + 60 });
    await sleep(300);
    await this.driver.key('Escape');
    await sleep(300);
    await this.driver.click(DESKTOP_SPOT, 3);
    await sleep(MENU_OPEN_MS);
    await this.driver.key('Escape');
    await sleep(300);
  }
}
