/**
 * Window drag through X11Source: how many updates a second the viewer gets while a window is
 * dragged, against how many the desktop itself draws, and what the server's CPU pays for it.
 *
 * A private Xvfb 1280x800 runs twm and an xterm (bench/x11-drag-scene.ts); the server is a child
 * process (bench/x11-server.ts, so its CPU is its own) with one viewer, the project's SpiceClient,
 * in this process. xdotool drags the xterm's title bar back and forth. Counted, in bursts (events
 * less than BURST_GAP_MS apart are one update):
 *  - desktop updates: DAMAGE events on the root window, seen by our own X client (raw rectangles,
 *    bench/session-desktop.ts, timed by the X server's timestamps);
 *  - viewer updates: display messages that drew something, at the viewer.
 * Each capture configuration gets the same drag on the same desktop.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/x11-drag.js [--seconds 10] [--rate 100] [--cases 3]
 *     [--desktop xfce]   (XFCE with its compositor and the soak's terminal instead of twm and an xterm)
 *
 * Also counted as the session soak counts (bench/session-measure.ts): 1/60 s slots in which
 * something was drawn, per second, on each side; on the desktop's side only drawings that changed
 * pixels (bench/session-changes.ts), every drawing in "paint slots"; --rate 60 drags at the soak's
 * step rate.
 *
 * Skipped (with a message) when Xvfb, twm, xterm or xdotool is missing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startXvfb, type XvfbHandle } from '../src/sources/x11/xvfb.js';
import { startTerminals, stopTerminals, type Terminals } from './session-activity.js';
import { windowBox } from './session-drive.js';
import { slotRate } from './session-measure.js';
import { XFCE_SESSION } from './session-rig.js';
import { DesktopWatch } from './session-desktop.js';
import { dragArgs, dragSession, hasWindow, TITLE_BAR } from './x11-drag-scene.js';
import { monoMs, ServerProcess, type ServerConfig } from './x11-server.js';
import { Viewer, sleep } from './x11-viewer.js';

const SIZE = '1280x800';
const BURST_GAP_MS = 3;
const TOOLS = ['Xvfb', 'twm', 'xterm', 'xdotool'];

interface DragCase {
  label: string;
  config: Omit<ServerConfig, 'display'>;
}

const CASES: readonly DragCase[] = [
  { label: 'fixed 33 ms, unpaced (before)', config: { frameIntervalMs: 33, paceByViewers: false } },
  { label: 'up to 60/s, paced, spaced 16.7 ms (burst 1)', config: { frameIntervalMs: undefined, frameBurst: 1 } },
  { label: 'up to 60/s, paced, bursts of 3 (default)', config: { frameIntervalMs: undefined } },
  { label: 'fixed 16.7 ms, unpaced', config: { frameIntervalMs: 1000 / 60, paceByViewers: false } },
];

export interface DragResult {
  label: string;
  seconds: number;
  desktopPerSec: number;
  viewerPerSec: number;
  /** viewer / min(desktop, 60). */
  ratio: number;
  /**
   * The soak's measure (bench/session-measure.ts): 1/60 s slots with something drawn, per second;
   * on the desktop's side only drawings that changed pixels (bench/session-changes.ts), and every
   * drawing in desktopPaintSlotsPerSec.
   */
  desktopSlotsPerSec: number;
  desktopPaintSlotsPerSec: number;
  viewerSlotsPerSec: number;
  /** Longest pause between two viewer updates during the drag. */
  viewerMaxGapMs: number;
  serverCpuPct: number;
  frames: number;
}

/** Counts bursts of events (an update) and the longest pause between bursts; keeps every time for slots. */
class BurstCounter {
  bursts = 0;
  maxGapMs = 0;
  readonly times: number[] = [];
  private last = -Infinity;

  hit(atMs: number): void {
    this.times.push(atMs);
    const gap = atMs - this.last;
    if (gap >= BURST_GAP_MS) {
      if (this.bursts > 0) this.maxGapMs = Math.max(this.maxGapMs, gap);
      this.bursts++;
    }
    this.last = atMs;
  }
}

function xdotool(display: string, args: string[], mayFail = false): string {
  const r = spawnSync('xdotool', args, { env: { ...process.env, DISPLAY: display }, encoding: 'utf8' });
  if (r.status !== 0 && !mayFail) throw new Error(`xdotool ${args.slice(0, 3).join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

async function waitForXterm(display: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (hasWindow(xdotool(display, ['search', '--class', 'xterm'], true))) return;
    await sleep(100);
  }
  throw new Error('x11-drag: the xterm did not appear');
}

/** Run one drag with xdotool; resolves when it ends. */
function drag(display: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, DISPLAY: display };
    const child = spawn('xdotool', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`xdotool drag exited ${code}: ${err.trim()}`));
    });
  });
}

/** A desktop with a window to drag: where it runs and the xdotool arguments of one drag. */
interface DragScene {
  readonly xvfb: XvfbHandle;
  dragArgs(seconds: number, rateHz: number): Promise<string[]>;
  stop(): Promise<void>;
}

/** twm and an xterm running top (bench/x11-drag-scene.ts). */
async function twmScene(): Promise<DragScene> {
  const dir = mkdtempSync(join(tmpdir(), 'spiced-drag-'));
  const xvfb = await startXvfb({ size: SIZE, command: dragSession(dir) });
  try {
    await waitForXterm(xvfb.display);
  } catch (err) {
    await xvfb.stop();
    throw err;
  }
  return {
    xvfb,
    dragArgs: (seconds, rateHz) =>
      Promise.resolve(dragArgs({ from: TITLE_BAR, seconds, rateHz, stepPx: 4, spanPx: 400 })),
    stop: async () => {
      await xvfb.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * XFCE with its compositor, and the soak's terminal (bench/session-activity.ts) dragged as the soak
 * drags it: 90 steps of (260, 200) / 90 px there and back, but by xdotool on the desktop's own
 * display (no remote-viewer, no browser: the server and one measuring viewer only).
 */
async function xfceScene(): Promise<DragScene> {
  const xvfb = await startXvfb({ size: SIZE, command: XFCE_SESSION });
  let terms: Terminals | undefined;
  try {
    await waitForPanel(xvfb.display);
    terms = await startTerminals(xvfb.display);
  } catch (err) {
    stopTerminals(terms);
    await xvfb.stop();
    throw err;
  }
  const dragId = terms.dragId;
  return {
    xvfb,
    dragArgs: async (seconds, rateHz) => {
      const box = await windowBox(xvfb.display, dragId);
      const from = { x: box.x + 100, y: box.y - XFCE_TITLE_ABOVE };
      const args = ['mousemove', String(from.x), String(from.y), 'mousedown', '1'];
      const legs = Math.max(2, 2 * Math.round((seconds * rateHz) / (2 * XFCE_LEG_STEPS)));
      for (let leg = 0; leg < legs; leg++) {
        for (let i = 1; i <= XFCE_LEG_STEPS; i++) {
          const f = leg % 2 === 0 ? i / XFCE_LEG_STEPS : 1 - i / XFCE_LEG_STEPS;
          const x = Math.round(from.x + XFCE_DRAG_BY.x * f);
          const y = Math.round(from.y + XFCE_DRAG_BY.y * f);
          args.push('mousemove', String(x), String(y), 'sleep', (1 / rateHz).toFixed(4));
        }
      }
      return [...args, 'mouseup', '1'];
    },
    stop: async () => {
      stopTerminals(terms);
      await xvfb.stop();
    },
  };
}

const XFCE_LEG_STEPS = 90;
const XFCE_DRAG_BY = { x: 260, y: 200 };
/** The title bar's middle above a window's inside (xfwm4's default theme, as the soak has it). */
const XFCE_TITLE_ABOVE = 12;

async function waitForPanel(display: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if (hasWindow(xdotool(display, ['search', '--onlyvisible', '--class', 'xfce4-panel'], true))) return sleep(3000);
    await sleep(500);
  }
  throw new Error('x11-drag: no xfce4-panel after 60 s (is xfce4 installed?)');
}

async function runCase(scene: DragScene, c: DragCase, seconds: number, rateHz: number): Promise<DragResult> {
  const xvfb = scene.xvfb;
  const server = await ServerProcess.start({ display: xvfb.display, ...c.config });
  const viewer = await Viewer.connect(server.port);
  const desktop = await DesktopWatch.open(xvfb.display);
  try {
    // top redraws every 200 ms: a shorter quiet spell says the first frame is in.
    await viewer.settle(100);
    const seen = new BurstCounter();
    const off = viewer.onDraw((at) => seen.hit(at));
    const before = await server.snapshot();
    const args = await scene.dragArgs(seconds, rateHz);
    await desktop.judgeChanges();
    desktop.take();
    const t0 = monoMs();
    await drag(xvfb.display, args);
    const t1 = monoMs();
    const wallMs = t1 - t0;
    const after = await server.snapshot();
    off();
    desktop.stopJudging();
    const drawn = desktop.take().filter((d) => d.atMs >= t0);
    const desktopCounter = new BurstCounter();
    for (const d of drawn) desktopCounter.hit(d.atMs);
    const changed = drawn.filter((d) => d.changed !== false).map((d) => d.atMs);
    const desktopPerSec = (desktopCounter.bursts * 1000) / wallMs;
    const viewerPerSec = (seen.bursts * 1000) / wallMs;
    if (viewer.errors.length > 0) throw new Error(`x11-drag: the viewer failed: ${viewer.errors[0]}`);
    return {
      label: c.label,
      seconds: wallMs / 1000,
      desktopPerSec,
      viewerPerSec,
      ratio: viewerPerSec / Math.min(desktopPerSec, 60),
      desktopPaintSlotsPerSec: slotsPerSec(desktopCounter.times, t0, t1),
      desktopSlotsPerSec: slotsPerSec(changed, t0, t1),
      viewerSlotsPerSec: slotsPerSec(seen.times, t0, t1),
      viewerMaxGapMs: seen.maxGapMs,
      serverCpuPct: ((after.cpuMs - before.cpuMs) * 100) / (after.atMs - before.atMs),
      frames: after.frames - before.frames,
    };
  } finally {
    desktop.close();
    viewer.close();
    await server.stop();
  }
}

function slotsPerSec(times: readonly number[], fromMs: number, toMs: number): number {
  return slotRate(
    times.map((atMs) => ({ atMs, rect: { top: 0, left: 0, bottom: 1, right: 1 } })),
    fromMs,
    toMs,
  );
}

export async function runDragBench(
  seconds: number,
  rateHz: number,
  only?: readonly number[],
  desktop: 'twm' | 'xfce' = 'twm',
): Promise<DragResult[] | string> {
  const tools = desktop === 'xfce' ? [...TOOLS, 'xfce4-session', 'xfce4-terminal', 'xwininfo'] : TOOLS;
  const lacking = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (lacking.length > 0) {
    return `x11-drag skipped: ${lacking.join(', ')} not installed (apt-get install xvfb twm xterm xdotool)`;
  }
  const scene = desktop === 'xfce' ? await xfceScene() : await twmScene();
  try {
    await sleep(1000);
    const out: DragResult[] = [];
    const cases = only ? CASES.filter((_, i) => only.includes(i + 1)) : CASES;
    for (const c of cases) out.push(await runCase(scene, c, seconds, rateHz));
    return out;
  } finally {
    await scene.stop();
  }
}

export function formatDragResults(results: DragResult[] | string): string {
  if (typeof results === 'string') return results;
  const columns = ['capture', 'desktop updates/s', 'viewer updates/s', 'viewer / min(desktop, 60)'];
  columns.push('paint slots/s desktop', 'slots/s desktop', 'slots/s viewer', 'slot share');
  columns.push('longest viewer gap', 'server CPU', 'server frames/s');
  const row = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  const rows = results.map((r) =>
    row([
      r.label,
      r.desktopPerSec.toFixed(1),
      r.viewerPerSec.toFixed(1),
      `${(r.ratio * 100).toFixed(0)}%`,
      r.desktopPaintSlotsPerSec.toFixed(1),
      r.desktopSlotsPerSec.toFixed(1),
      r.viewerSlotsPerSec.toFixed(1),
      `${((r.viewerSlotsPerSec / r.desktopSlotsPerSec) * 100).toFixed(0)}%`,
      `${r.viewerMaxGapMs.toFixed(0)} ms`,
      `${r.serverCpuPct.toFixed(0)}%`,
      (r.frames / r.seconds).toFixed(1),
    ]),
  );
  return [row(columns), row(columns.map(() => '---')), ...rows].join('\n');
}

interface DragArgs {
  seconds: number;
  rate: number;
  desktop: 'twm' | 'xfce';
  /** Cases to run (1-based rows of CASES), all by default. */
  only?: number[];
}

function parseArgs(argv: readonly string[]): DragArgs {
  const out: DragArgs = { seconds: 10, rate: 100, desktop: 'twm' };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--desktop') {
      const d = argv[i + 1];
      if (d !== 'twm' && d !== 'xfce') throw new Error(`--desktop twm|xfce (got ${d})`);
      out.desktop = d;
      continue;
    }
    if (argv[i] === '--cases') {
      out.only = (argv[i + 1] ?? '').split(',').map(Number);
      continue;
    }
    const value = Number(argv[i + 1]);
    if (!(value > 0))
      throw new Error(
        `usage: x11-drag.js [--seconds N] [--rate HZ] [--cases 1,3] [--desktop twm|xfce] (got ${argv[i]} ${argv[i + 1]})`,
      );
    if (argv[i] === '--seconds') out.seconds = value;
    else if (argv[i] === '--rate') out.rate = value;
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return out;
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  const { seconds, rate, only, desktop } = parseArgs(process.argv.slice(2));
  runDragBench(seconds, rate, only, desktop).then(
    (r) => console.log(formatDragResults(r)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
