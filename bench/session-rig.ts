/**
 * The processes of the session soak: `spiced serve --xvfb` running an XFCE session (with
 * `--stats-interval`, whose JSON lines are collected here), remote-viewer in a second Xvfb, and
 * the way desktop coordinates map to that viewer's window (found by moving its pointer and asking
 * the desktop where its pointer went).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { startXvfb, type XvfbHandle } from '../src/sources/x11/xvfb.js';
import type { PeriodicStats } from '../src/server/periodic-stats.js';
import { XConnection } from '../src/sources/x11/connection.js';
import { queryPointer } from '../src/sources/x11/core.js';
import { sleep } from './x11-viewer.js';
import { xdo } from './session-drive.js';

const START_TIMEOUT_MS = 30_000;

export interface ServerOptions {
  size: string;
  statsIntervalMs: number;
  /** The program the desktop runs (default: an XFCE session on its own D-Bus). */
  session: string[];
  /**
   * Let the viewers' windows size the desktop (Xorg with the dummy driver; spice-html5 asks for its
   * page's size). Off: --no-resize, Xvfb at the fixed size, so minutes and runs compare.
   */
  resize?: boolean;
}

export const XFCE_SESSION = ['dbus-launch', '--exit-with-session', 'xfce4-session'];

/** `spiced serve --xvfb` in its own process group, with its stats lines and log collected. */
export class SoakServer {
  readonly stats: PeriodicStats[] = [];
  private logTail = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly display: string,
    readonly port: number,
  ) {}

  static async start(opts: ServerOptions): Promise<SoakServer> {
    const args = ['dist/src/cli/main.js', 'serve', '--xvfb', '--size', opts.size, '-p', '0'];
    args.push(opts.resize ? '--resize' : '--no-resize');
    args.push('--stats-interval', String(opts.statsIntervalMs), '--', ...opts.session);
    // Detached: its own process group, so stop() can end everything it started by the group's id.
    // Node flags for the server (e.g. --trace-gc, --cpu-prof) and a file for its stdout, to look
    // inside a soak without changing the bench: SPICED_SOAK_SERVER_ARGS, SPICED_SOAK_SERVER_STDOUT.
    const nodeArgs = (process.env.SPICED_SOAK_SERVER_ARGS ?? '').split(' ').filter((a) => a !== '');
    const stdoutFile = process.env.SPICED_SOAK_SERVER_STDOUT;
    const stdout = stdoutFile ? openSync(stdoutFile, 'w') : 'ignore';
    const child = spawn(process.execPath, [...nodeArgs, ...args], {
      stdio: ['ignore', stdout, 'pipe'],
      detached: true,
    });
    if (typeof stdout === 'number') closeSync(stdout);
    let buffered = '';
    let display: string | undefined;
    const pending: PeriodicStats[] = [];
    let lines: ((line: string) => void) | undefined;
    child.stderr!.on('data', (d: Buffer) => {
      buffered += d.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) lines?.(line);
    });
    const ready = new Promise<{ display: string; port: number }>((resolve, reject) => {
      const late = (): void => reject(new Error(`session soak: spiced did not start in ${START_TIMEOUT_MS} ms`));
      const timer = setTimeout(late, START_TIMEOUT_MS);
      child.once('exit', (code) => reject(new Error(`session soak: spiced exited (code ${code}) while starting`)));
      lines = (line) => {
        if (line.startsWith('{')) return void pending.push(JSON.parse(line) as PeriodicStats);
        display ??= /started (?:Xvfb|Xorg) (:\d+)/.exec(line)?.[1];
        const port = /serving .* port (\d+)/.exec(line)?.[1];
        if (port !== undefined && display !== undefined) {
          clearTimeout(timer);
          resolve({ display, port: Number(port) });
        }
      };
    });
    try {
      const { display: dpy, port } = await ready;
      const server = new SoakServer(child, dpy, port);
      server.stats.push(...pending);
      lines = (line) => server.onLine(line);
      return server;
    } catch (err) {
      signalGroup(child, 'SIGKILL');
      throw err;
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines spiced logged (for error messages). */
  get log(): string {
    return this.logTail;
  }

  /** SIGTERM (spiced stops Xvfb and the session), then SIGKILL to whatever of the group is left. */
  async stop(): Promise<void> {
    if (this.alive) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
    }
    signalGroup(this.child, 'SIGKILL');
  }

  private onLine(line: string): void {
    if (line.startsWith('{')) this.stats.push(JSON.parse(line) as PeriodicStats);
    else this.logTail = (this.logTail + line + '\n').slice(-4000);
  }
}

function signalGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Where the desktop's (0, 0) is in the viewer's screen (remote-viewer shows it unscaled). */
export interface ViewerMap {
  dx: number;
  dy: number;
}

export interface RemoteViewer {
  xvfb: XvfbHandle;
  map: ViewerMap;
}

/** remote-viewer on a fresh Xvfb, connected, its window found and its offset measured. */
export async function startRemoteViewer(port: number, desktopDisplay: string): Promise<RemoteViewer> {
  const xvfb = await startXvfb({ size: '1400x900', command: ['remote-viewer', `spice://127.0.0.1:${port}`] });
  try {
    return { xvfb, map: await calibrate(xvfb.display, desktopDisplay) };
  } catch (err) {
    await xvfb.stop();
    throw err;
  }
}

/**
 * Move the viewer's pointer to two places and read where the desktop's pointer went each time:
 * once both give the same offset, the pointer follows 1:1 and the offset is the desktop's origin
 * in the viewer's screen (while remote-viewer is still connecting, the desktop pointer stays put
 * and the two offsets differ).
 */
async function calibrate(viewerDisplay: string, desktopDisplay: string): Promise<ViewerMap> {
  const conn = await XConnection.connect(desktopDisplay, { xauthority: null });
  const offsetAt = async (x: number, y: number): Promise<ViewerMap> => {
    await xdo(viewerDisplay, ['mousemove', String(x), String(y)]);
    await sleep(250);
    const at = await queryPointer(conn, conn.screen.root);
    return { dx: x - at.rootX, dy: y - at.rootY };
  };
  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let last = '';
    while (Date.now() < deadline) {
      const a = await offsetAt(300, 300);
      const b = await offsetAt(700, 500);
      if (a.dx === b.dx && a.dy === b.dy) return a;
      last = `${a.dx},${a.dy} and ${b.dx},${b.dy}`;
    }
    throw new Error(`session soak: the desktop pointer does not follow remote-viewer 1:1 (offsets ${last})`);
  } finally {
    conn.close();
  }
}
