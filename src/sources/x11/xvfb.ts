import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * A private Xvfb for tests and headless serving: claim a free display number, start
 * `Xvfb :N -screen 0 WxHx24 -nolisten tcp -displayfd 3` and wait until it writes N to fd 3 (it
 * does so once it accepts connections), then run an optional command on it.
 *
 * With -displayfd, Xvfb (21.1) creates no /tmp/.X<n>-lock file, so two starters could pick the
 * same number. We therefore write the lock ourselves, atomically (O_EXCL), in the format X servers
 * use (PID right-aligned in 10 characters and a newline): other Xvfb/Xorg instances and other
 * startXvfb calls see the number as taken. stop() ends the command's process group, then Xvfb,
 * waits for both, and removes the lock and, if Xvfb could not (SIGKILL), its socket.
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
  /** Lowest display number to try (default 40). */
  firstDisplay?: number;
  /** How long to wait for Xvfb to get ready (default 10 s). */
  timeoutMs?: number;
}

export interface XvfbHandle {
  /** ":N" */
  readonly display: string;
  readonly displayNumber: number;
  readonly xvfbPid: number;
  readonly commandPid: number | undefined;
  /** The Xauthority file when `auth` was requested. */
  readonly xauthority: string | undefined;
  /** Resolves when Xvfb exits (for whatever reason). */
  readonly exited: Promise<void>;
  /** Resolves with the command's exit code (null when killed by a signal); never, without a command. */
  readonly commandExited: Promise<number | null>;
  stop(): Promise<void>;
}

const ATTEMPTS = 20;
const KILL_GRACE_MS = 3000;

export async function startXvfb(opts: XvfbOptions = {}): Promise<XvfbHandle> {
  const size = opts.size ?? '1280x800';
  if (!/^\d+x\d+$/.test(size)) throw new Error(`bad Xvfb size "${size}" (want WxH)`);
  const failures: string[] = [];
  let n = (opts.firstDisplay ?? 40) - 1;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    n = claimDisplay(n + 1);
    const auth = opts.auth ? writeCookieFile(n) : undefined;
    let xvfb: ChildProcess;
    try {
      xvfb = await launchXvfb(n, size, opts, auth, opts.timeoutMs ?? 10_000);
    } catch (err) {
      if (auth) rmSync(auth.dir, { recursive: true, force: true });
      rmSync(lockPath(n), { force: true });
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('Xvfb is not installed (apt-get install xvfb)');
      // E.g. a server without a lock file of its own listens on this number already.
      failures.push(`:${n}: ${(err as Error).message}`);
      continue;
    }
    writeLock(n, xvfb.pid!, 'w');
    return finishStart(n, xvfb, opts.command, auth);
  }
  throw new Error(`could not start Xvfb (${failures.join('; ')})`);
}

const lockPath = (n: number): string => `/tmp/.X${n}-lock`;
const socketPath = (n: number): string => `/tmp/.X11-unix/X${n}`;

function displayInUse(n: number): boolean {
  return existsSync(lockPath(n)) || existsSync(socketPath(n));
}

/** Take the first number >= `from` whose lock we could create exclusively. */
function claimDisplay(from: number): number {
  for (let n = from; n < from + 1000; n++) {
    if (displayInUse(n)) continue;
    if (writeLock(n, process.pid, 'wx')) return n;
  }
  throw new Error(`no free X display number from ${from}`);
}

function writeLock(n: number, pid: number, flag: 'wx' | 'w'): boolean {
  try {
    writeFileSync(lockPath(n), `${String(pid).padStart(10)}\n`, { flag, mode: 0o644 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function writeCookieFile(n: number): { dir: string; file: string } {
  // Record: family u16 (256 = local), address, display number, auth name, auth data; all
  // lengths u16 big-endian.
  const dir = mkdtempSync(join(tmpdir(), 'spiced-xauth-'));
  const file = join(dir, 'Xauthority');
  const field = (b: Buffer): Buffer => Buffer.concat([u16be(b.length), b]);
  const record = Buffer.concat([
    u16be(256),
    field(Buffer.from(hostname(), 'latin1')),
    field(Buffer.from(String(n), 'latin1')),
    field(Buffer.from('MIT-MAGIC-COOKIE-1', 'latin1')),
    field(randomBytes(16)),
  ]);
  writeFileSync(file, record, { mode: 0o600 });
  return { dir, file };
}

function u16be(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

function launchXvfb(n: number, size: string, opts: XvfbOptions, auth: { file: string } | undefined, timeoutMs: number): Promise<ChildProcess> {
  const args = [`:${n}`, '-screen', '0', `${size}x${opts.depth ?? 24}`, '-nolisten', 'tcp', '-displayfd', '3', ...(auth ? ['-auth', auth.file] : []), ...(opts.extraArgs ?? [])];
  return new Promise((resolve, reject) => {
    const child = spawn('Xvfb', args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let announced = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Xvfb not ready after ${timeoutMs} ms: ${lastLines(stderr)}`));
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
      if (announced.trim() === String(n)) resolve(child);
      else reject(new Error(`Xvfb announced display "${announced.trim()}", expected ${n}`));
    });
    child.once('error', (err) => {
      settle();
      reject(err);
    });
    child.once('exit', (code, signal) => {
      settle();
      reject(new Error(`Xvfb exited (${signal ?? `code ${code}`}) before it was ready: ${lastLines(stderr)}`));
    });
  });
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' / ') || 'no output';
}

async function finishStart(n: number, xvfb: ChildProcess, command: string[] | undefined, auth: { dir: string; file: string } | undefined): Promise<XvfbHandle> {
  const display = `:${n}`;
  const xvfbExit = exitOf(xvfb);
  let cmd: ChildProcess | undefined;
  if (command && command.length > 0) {
    const env = { ...process.env, DISPLAY: display, ...(auth ? { XAUTHORITY: auth.file } : {}) };
    // Its own process group, so stop() also ends what the command started (xterm's shell...).
    cmd = spawn(command[0]!, command.slice(1), { env, stdio: 'ignore', detached: true });
  }
  const cmdExit = cmd ? exitOf(cmd) : Promise.resolve();
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (cmd) await terminate(cmd, cmdExit, true);
      await terminate(xvfb, xvfbExit, false);
      removeStaleFiles(n, xvfb.pid);
      if (auth) rmSync(auth.dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  if (cmd) {
    const started = cmd;
    try {
      await new Promise<void>((resolve, reject) => {
        started.once('spawn', resolve);
        started.once('error', reject);
      });
    } catch (err) {
      await stop();
      throw new Error(`cannot run ${command![0]} on ${display}: ${(err as Error).message}`);
    }
  }
  const commandExited: Promise<number | null> = cmd
    ? new Promise((resolve) => (cmd.exitCode !== null ? resolve(cmd.exitCode) : cmd.once('exit', (code) => resolve(code))))
    : new Promise(() => {});
  return { display, displayNumber: n, xvfbPid: xvfb.pid!, commandPid: cmd?.pid, xauthority: auth?.file, exited: xvfbExit, commandExited, stop };
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

async function terminate(child: ChildProcess, exited: Promise<void>, group: boolean): Promise<void> {
  if (!alive(child) || child.pid === undefined) return;
  signal(child.pid, 'SIGTERM', group);
  const timedOut = await Promise.race([exited.then(() => false), delay(KILL_GRACE_MS).then(() => true)]);
  if (timedOut && alive(child)) {
    signal(child.pid, 'SIGKILL', group);
    await exited;
  }
  // The group may still hold processes that ignored SIGTERM after the leader exited.
  if (group) signal(child.pid, 'SIGKILL', true);
}

function signal(pid: number, sig: NodeJS.Signals, group: boolean): void {
  try {
    process.kill(group ? -pid : pid, sig);
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
