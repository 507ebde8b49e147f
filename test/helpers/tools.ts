import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countRgbDifferences, type PixelImage } from '../../src/display/pixels.js';
import { decodePng } from '../../src/display/png.js';
import { decodePpm } from '../../src/display/ppm.js';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export function tempDir(prefix = 'spiced-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function readImage(path: string): PixelImage {
  const data = readFileSync(path);
  return path.endsWith('.png') ? decodePng(data) : decodePpm(data);
}

/** Pixels that differ in RGB (0 = identical); size mismatches count every missing pixel. */
export function diffPixels(a: PixelImage, b: PixelImage): number {
  return countRgbDifferences(a, b);
}

/** A running `spiced` and the ports it listens on, as its viewer line names them. */
export interface RunningCli {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
  /** The plain SPICE port (NaN with --no-plain). */
  port: number;
  /** The TLS port, when --tls-port was given. */
  tlsPort: number | undefined;
}

/**
 * Start `node dist/src/cli/main.js ARGS` and resolve once it prints its viewer line. Pass `--port 0`
 * (and `--tls-port 0`): the kernel picks free ports when spiced listens, and the viewer line says
 * which, so no port is chosen here and raced for by another test worker.
 */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunningCli> {
  // The rehearsal (two seconds or so of CPU at start) speeds a fresh server's first viewer, which
  // these tests do not time; test/server-rehearsal.test.ts covers it.
  // Before `--`: what follows it is the session's command line (`serve --xvfb -- xterm ...`).
  const cut = args.includes('--') ? args.indexOf('--') : args.length;
  const argv =
    args[0] === 'serve' && !args.includes('--rehearsal')
      ? [...args.slice(0, cut), '--no-rehearsal', ...args.slice(cut)]
      : args;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/src/cli/main.js', ...argv], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const stop = (): Promise<void> =>
      new Promise((res) => {
        if (child.exitCode !== null) return res();
        child.once('exit', () => res());
        child.kill('SIGTERM');
      });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`spiced did not start: ${out}`));
    }, 20_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const line = /Connect a viewer:\n\s*(.*)\n/.exec(out)?.[1];
      if (line !== undefined) {
        clearTimeout(timer);
        const port = Number(/spice:\/\/[^:/?]+:(\d+)|[?&]port=(\d+)/.exec(line)?.slice(1).find(Boolean));
        const tls = /tls-port=(\d+)/.exec(line)?.[1];
        resolve({ child, output: () => out, stop, port, tlsPort: tls === undefined ? undefined : Number(tls) });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`spiced exited with ${code}: ${out}`));
    });
  });
}
