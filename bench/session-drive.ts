/**
 * What a user does in the session soak, as xdotool commands on remote-viewer's display (so input
 * travels viewer -> SPICE inputs channel -> spiced -> XTEST, as a person's would), plus the few
 * look-ups on the desktop's own display that tell where its windows are.
 */
import { spawn } from 'node:child_process';
import { sleep } from './x11-viewer.js';
import { monoMs } from './x11-server.js';
import type { ViewerMap } from './session-rig.js';

export interface Point {
  x: number;
  y: number;
}

/** Run xdotool on `display`; resolves with its stdout, rejects naming its stderr. */
export function xdo(display: string, args: string[]): Promise<string> {
  return runTool('xdotool', args, display);
}

function runTool(cmd: string, args: string[], display: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, DISPLAY: display }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) return resolve(out);
      reject(new Error(`${cmd} ${args.slice(0, 4).join(' ')}... on ${display}: exit ${code}: ${err.trim()}`));
    });
  });
}

/** A window's inside (without the window manager's frame), in desktop pixels. */
export interface WindowBox {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The first visible window of process `pid` on `display`, once it is mapped. */
export async function waitForWindow(display: string, pid: number, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ids = await xdo(display, ['search', '--onlyvisible', '--pid', String(pid)]).catch(() => '');
    const id = ids
      .trim()
      .split('\n')
      .find((s) => s !== '');
    if (id !== undefined) return id;
    await sleep(250);
  }
  throw new Error(`session soak: no window of process ${pid} on ${display} after ${timeoutMs} ms`);
}

/** Absolute position and size of a window, from xwininfo. */
export async function windowBox(display: string, id: string): Promise<WindowBox> {
  const text = await runTool('xwininfo', ['-id', id], display);
  const field = (name: string): number => {
    const m = new RegExp(`${name}:\\s+(-?\\d+)`).exec(text);
    if (!m) throw new Error(`session soak: xwininfo of ${id} has no "${name}"`);
    return Number(m[1]);
  };
  const [x, y] = [field('Absolute upper-left X'), field('Absolute upper-left Y')];
  return { id, x, y, width: field('Width'), height: field('Height') };
}

/** Drives the desktop through remote-viewer: desktop coordinates in, viewer coordinates out. */
export class Driver {
  constructor(
    readonly viewerDisplay: string,
    private readonly map: ViewerMap,
  ) {}

  private at(p: Point): string[] {
    return [String(p.x + this.map.dx), String(p.y + this.map.dy)];
  }

  async click(p: Point, button = 1): Promise<void> {
    await xdo(this.viewerDisplay, ['mousemove', ...this.at(p), 'click', String(button)]);
  }

  async move(p: Point): Promise<void> {
    await xdo(this.viewerDisplay, ['mousemove', ...this.at(p)]);
  }

  /** Keys by X keysym name (a, Return, ctrl+u, Escape). */
  async key(...keys: string[]): Promise<void> {
    await xdo(this.viewerDisplay, ['key', ...keys]);
  }

  async type(text: string, delayMs = 12): Promise<void> {
    await xdo(this.viewerDisplay, ['type', '--delay', String(delayMs), text]);
  }

  /**
   * Press at `from`, move to `to` in `steps` motions `stepMs` apart (one xdotool chain, so the
   * pace is xdotool's, not process start-up's), release. Returns when the motion ran (monotonic ms).
   */
  async drag(from: Point, to: Point, steps: number, stepMs: number): Promise<{ startMs: number; endMs: number }> {
    const chain = ['mousemove', ...this.at(from), 'mousedown', '1', 'sleep', '0.1'];
    for (let i = 1; i <= steps; i++) {
      const along = (a: number, b: number): number => Math.round(a + ((b - a) * i) / steps);
      const p = { x: along(from.x, to.x), y: along(from.y, to.y) };
      chain.push('mousemove', ...this.at(p), 'sleep', (stepMs / 1000).toFixed(4));
    }
    chain.push('mouseup', '1');
    const launched = monoMs();
    await xdo(this.viewerDisplay, chain);
    const endMs = monoMs();
    // The press and its 100 ms pause come first: the motion starts after them.
    return { startMs: launched + 100, endMs };
  }
}
