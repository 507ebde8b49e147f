import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * A spiced server run as a child process (`node dist/src/cli/main.js serve`), so that a crash is
 * seen as an exit and the fuzzer's own memory does not blur the server's RSS.
 */

/** dist/src/cli/main.js, found from this file whether it runs compiled (dist/bench/fuzz) or from source. */
function cliPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = here.includes(`${join('dist', 'bench')}`) ? join(here, '..', '..', '..') : join(here, '..', '..');
  return join(root, 'dist', 'src', 'cli', 'main.js');
}

import { freePort } from '../common.js';

export { freePort };

/** The password of the fuzzer's second server (and of its replays). */
export const FUZZ_PASSWORD = 'fuzz-secret';

export interface TargetOptions {
  /** Viewers must give this password; undefined serves without one. */
  password?: string;
  /** Extra `serve` arguments (the desktop: --still by default, the cheapest to draw). */
  args?: string[];
}

export interface TargetExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines the server printed: the reason of a crash. */
  output: string;
}

export class ServerTarget {
  port = 0;
  private child: ChildProcess | undefined;
  private output = '';
  private exitListeners: ((e: TargetExit) => void)[] = [];
  /** Exits we did not ask for. */
  readonly crashes: TargetExit[] = [];
  private stopping = false;

  constructor(readonly options: TargetOptions = {}) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The tail of what the server printed (its refusals and warnings). */
  recentOutput(): string {
    return this.output;
  }

  onExit(listener: (e: TargetExit) => void): void {
    this.exitListeners.push(listener);
  }

  async start(): Promise<void> {
    this.port = await freePort();
    this.output = '';
    const args = [
      cliPath(),
      'serve',
      '--port',
      String(this.port),
      '--no-warm-up',
      '--log-level',
      'warn',
      ...(this.options.args ?? ['--still', '--size', '640x400']),
    ];
    const env: NodeJS.ProcessEnv = { ...process.env, SPICE_PASSWORD: this.options.password ?? '' };
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    // If the fuzzer or soak itself dies, its servers must not live on as orphans.
    const orphanGuard = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    process.once('exit', orphanGuard);
    child.once('exit', () => process.off('exit', orphanGuard));
    const keep = (d: Buffer): void => {
      // The tail only: a fuzzer makes the server log a refusal per case.
      this.output = (this.output + d.toString()).slice(-8000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`spiced did not start: ${this.output}`)), 30_000);
      const onData = (): void => {
        if (!/Connect a viewer/.test(this.output)) return;
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`spiced exited with ${code} while starting: ${this.output}`));
      });
    });
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      const e = { code, signal, output: this.output };
      this.crashes.push(e);
      for (const l of this.exitListeners) l(e);
    });
  }

  /** Resident set size in bytes (/proc/PID/status VmRSS), or 0 when not running. */
  rss(): number {
    return this.running ? procRss(this.child!.pid!) : 0;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.stopping = true;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
    this.stopping = false;
  }
}

function procRss(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch (err) {
    // The process is gone between the check and the read: no memory.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}
