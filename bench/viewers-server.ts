/** A spiced server in a process of its own (the built CLI), so that its CPU and memory can be read from /proc. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './common.js';

export interface ServerProcess {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** Extra node flags for the server (e.g. --cpu-prof), space-separated. */
const NODE_FLAGS = (process.env.SPICED_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');

/** Starts `spiced serve` on a free loopback port with `args` and resolves once it says it is ready. */
export async function startServerProcess(args: string[]): Promise<ServerProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...NODE_FLAGS,
      CLI,
      'serve',
      '-p',
      String(port),
      '-l',
      '127.0.0.1',
      '--disable-ticketing',
      '--no-sound',
      '--no-web',
      '--log-level',
      'warn',
      '--max-pre-auth-per-address',
      '4096',
      '--max-pre-auth',
      '8192',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes(' ready.')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`spiced exited (${code}) before it was ready: ${out}`)));
  });
  return {
    port,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
