import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { endSession, startSession, type Session } from './session-processes.js';
import { prepareXorgDummy, sizeNewScreen } from './xorg-dummy.js';

/*
 * A private Xvfb for tests and headless serving. Xvfb picks a free display number itself
 * (`-displayfd 3` without a display: it binds the first free socket from :0 and writes the number
 * to fd 3 once it accepts connections), so two starters can never race for one number; `display`
 * asks for a fixed number instead. Then an optional command runs on it as a session
 * (session-processes.ts).
 *
 * With -displayfd, Xvfb (21.1) writes no /tmp/.X<n>-lock file. We write one (PID right-aligned in
 * 10 characters and a newline, as X servers do) so that tools that probe lock files, such as
 * xvfb-run, see the number as taken. stop() ends the session, then Xvfb, waits for both, and
 * removes the lock and, if Xvfb could not (SIGKILL), its socket.
 */

export interface XvfbOptions {
  /** WxH, default 1280x800. */
  size?: string;
  depth?: 24;
  /** A program (and arguments) to run with DISPLAY set to the new server. */
  command?: string[];
  /** More Xvfb arguments, e.g. ['-extension', 'DAMAGE'] to test without an extension. */
  extraArgs?: string[];
  /** Require MIT-MAGIC-COOKIE-1: write a fresh Xauthority file and start Xvfb with -auth. */
  auth?: boolean;
  /** This display number instead of the first free one Xvfb finds. */
  display?: number;
  /** How long to wait for Xvfb to get ready (default 10 s). */
  timeoutMs?: number;
  /**
   * 'xvfb' (default): a fixed-size screen. 'xorg-dummy': Xorg with the dummy driver, whose screen
   * RandR can resize (xorg-dummy.ts); it starts at `size` like Xvfb.
   */
  server?: 'xvfb' | 'xorg-dummy';
}

export interface XvfbHandle {
  /** ":N" */
  readonly display: string;
  readonly displayNumber: number;
  readonly xvfbPid: number;
  readonly commandPid: number | undefined;
  /** SPICED_SESSION in the environment of every process of the command's session. */
  readonly sessionToken: string | undefined;
  /** The Xauthority file when `auth` was requested. */
  readonly xauthority: string | undefined;
  /** Which X server runs. */
  readonly server: 'xvfb' | 'xorg-dummy';
  /** Resolves when Xvfb exits (for whatever reason). */
  readonly exited: Promise<void>;
  /** Resolves with the command's exit code (null when killed by a signal); never, without a command. */
  readonly commandExited: Promise<number | null>;
  stop(): Promise<void>;
}

const KILL_GRACE_MS = 3000;

export async function startXvfb(opts: XvfbOptions = {}): Promise<XvfbHandle> {
  const size = opts.size ?? '1280x800';
  if (!/^\d+x\d+$/.test(size)) throw new Error(`bad Xvfb size "${size}" (want WxH)`);
  const fixed = opts.display;
  if (fixed !== undefined) claimFixedDisplay(fixed);
  // The cookie's display number is not known yet: the record matches any number until rewritten.
  const auth = opts.auth ? writeCookieFile('') : undefined;
  const xorg = opts.server === 'xorg-dummy' ? prepareXorgDummy() : undefined;
  const serverDir = xorg?.dir;
  const removeDirs = (): void => {
    if (auth) rmSync(auth.dir, { recursive: true, force: true });
    if (serverDir) rmSync(serverDir, { recursive: true, force: true });
  };
  const name = xorg ? 'Xorg' : 'Xvfb';
  let started: { child: ChildProcess; n: number };
  try {
    started = await launchXvfb(fixed, size, opts, auth, opts.timeoutMs ?? 10_000, xorg?.args);
  } catch (err) {
    removeDirs();
    if (fixed !== undefined) rmSync(lockPath(fixed), { force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        `${name} is not installed (apt-get install ${xorg ? 'xserver-xorg-core xserver-xorg-video-dummy' : 'xvfb'})`,
      );
    }
    throw new Error(`could not start ${name}${fixed !== undefined ? ` on :${fixed}` : ''}: ${(err as Error).message}`);
  }
  const { child: xvfb, n } = started;
  writeLock(n, xvfb.pid!, fixed !== undefined ? 'w' : 'wx');
  if (auth) writeCookieFile(String(n), auth);
  const handle = await finishStart(
    n,
    xvfb,
    opts.command,
    auth,
    xorg ? () => sizeNewScreen(`:${n}`, auth?.file, size) : undefined,
  );
  void handle.exited.then(() => {
    if (serverDir) rmSync(serverDir, { recursive: true, force: true });
  });
  return { ...handle, server: xorg ? 'xorg-dummy' : 'xvfb' };
}

/** A fixed display number must be free: no lock file and no socket of another server. */
function claimFixedDisplay(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`bad display number ${n}`);
  if (existsSync(socketPath(n)) || !writeLock(n, process.pid, 'wx')) {
    throw new Error(`display :${n} is in use (${existsSync(lockPath(n)) ? lockPath(n) : socketPath(n)} exists)`);
  }
}

const lockPath = (n: number): string => `/tmp/.X${n}-lock`;
const socketPath = (n: number): string => `/tmp/.X11-unix/X${n}`;

function writeLock(n: number, pid: number, flag: 'wx' | 'w'): boolean {
  try {
    writeFileSync(lockPath(n), `${String(pid).padStart(10)}\n`, { flag, mode: 0o644 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

interface CookieFile {
  dir: string;
  file: string;
  cookie: Buffer;
}

/** Write (or, given `into`, rewrite with the same cookie) an Xauthority file for display `number`. */
function writeCookieFile(number: string, into?: CookieFile): CookieFile {
  // Record: family u16 (256 = local), address, display number, auth name, auth data; all
  // lengths u16 big-endian. Xvfb reads the cookie at start (and reset), whatever the number.
  const dir = into?.dir ?? mkdtempSync(join(tmpdir(), 'spiced-xauth-'));
  const file = join(dir, 'Xauthority');
  const cookie = into?.cookie ?? randomBytes(16);
  const field = (b: Buffer): Buffer => Buffer.concat([u16be(b.length), b]);
  const record = Buffer.concat([
    u16be(256),
    field(Buffer.from(hostname(), 'latin1')),
    field(Buffer.from(number, 'latin1')),
    field(Buffer.from('MIT-MAGIC-COOKIE-1', 'latin1')),
    field(cookie),
  ]);
  writeFileSync(file, record, { mode: 0o600 });
  return { dir, file, cookie };
}

function u16be(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

/** Start Xvfb on display `fixed`, or on the first free one; resolves once it accepts connections. */
function launchXvfb(
  fixed: number | undefined,
  size: string,
  opts: XvfbOptions,
  auth: { file: string } | undefined,
  timeoutMs: number,
  xorgArgs: string[] | undefined,
): Promise<{ child: ChildProcess; n: number }> {
  const args = [
    ...(fixed !== undefined ? [`:${fixed}`] : []),
    ...(xorgArgs ?? ['-screen', '0', `${size}x${opts.depth ?? 24}`]),
    ...['-nolisten', 'tcp', '-displayfd', '3'],
    ...(auth ? ['-auth', auth.file] : []),
    ...(opts.extraArgs ?? []),
  ];
  const program = xorgArgs ? 'Xorg' : 'Xvfb';
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let announced = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${program} not ready after ${timeoutMs} ms: ${lastLines(stderr)}`));
    }, timeoutMs);
    const settle = (): void => {
      clearTimeout(timer);
      child.stdio[3]?.removeAllListeners('data');
      child.removeAllListeners('exit');
      child.removeAllListeners('error');
    };
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-4000);
    });
    child.stdio[3]?.on('data', (d: Buffer) => {
      announced += d.toString('latin1');
      if (!announced.includes('\n')) return;
      settle();
      // stderr keeps flowing into the pipe; keep draining it so Xvfb never blocks on a full pipe.
      const n = Number(announced.trim());
      if (/^\d+$/.test(announced.trim()) && (fixed === undefined || n === fixed)) return resolve({ child, n });
      child.kill('SIGKILL');
      const expected = fixed !== undefined ? `, expected ${fixed}` : '';
      reject(new Error(`${program} announced display "${announced.trim()}"${expected}`));
    });
    child.once('error', (err) => {
      settle();
      reject(err);
    });
    child.once('exit', (code, signal) => {
      settle();
      reject(new Error(`${program} exited (${signal ?? `code ${code}`}) before it was ready: ${lastLines(stderr)}`));
    });
  });
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' / ') || 'no output';
}

async function finishStart(
  n: number,
  xvfb: ChildProcess,
  command: string[] | undefined,
  auth: CookieFile | undefined,
  prepareScreen: (() => Promise<void>) | undefined,
): Promise<Omit<XvfbHandle, 'server'>> {
  const display = `:${n}`;
  const xvfbExit = exitOf(xvfb);
  const stopXvfb = async (): Promise<void> => {
    await terminate(xvfb, xvfbExit);
    removeStaleFiles(n, xvfb.pid);
    if (auth) rmSync(auth.dir, { recursive: true, force: true });
  };
  if (prepareScreen) {
    try {
      await prepareScreen();
    } catch (err) {
      await stopXvfb();
      throw new Error(`cannot size the screen of ${display}: ${(err as Error).message}`);
    }
  }
  let session: Session | undefined;
  if (command && command.length > 0) {
    try {
      const env = { ...process.env, DISPLAY: display, ...(auth ? { XAUTHORITY: auth.file } : {}) };
      session = await startSession(command, env);
    } catch (err) {
      await stopXvfb();
      throw new Error(`cannot run ${command[0]} on ${display}: ${(err as Error).message}`);
    }
  }
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (session) await endSession(session);
      await stopXvfb();
    })();
    return stopping;
  };
  return {
    display,
    displayNumber: n,
    xvfbPid: xvfb.pid!,
    commandPid: session?.child.pid,
    sessionToken: session?.token,
    xauthority: auth?.file,
    exited: xvfbExit,
    commandExited: session ? session.exited : new Promise(() => {}),
    stop,
  };
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (!alive(child) || child.pid === undefined) return;
  signal(child.pid, 'SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), delay(KILL_GRACE_MS).then(() => true)]);
  if (timedOut && alive(child)) {
    signal(child.pid, 'SIGKILL');
    await exited;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    // ESRCH: already gone, which is what we want.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** After our Xvfb exited: drop our lock, and its socket when SIGKILL left it behind. */
function removeStaleFiles(n: number, pid: number | undefined): void {
  let owner: number | undefined;
  try {
    owner = Number(readFileSync(lockPath(n), 'latin1').trim());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (owner !== pid) return; // not our lock (any more): leave the number alone
  rmSync(socketPath(n), { force: true });
  unlinkSync(lockPath(n));
}
