import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import { ChannelType } from '../src/protocol/constants.js';
import { lacking, skipNote } from './helpers/probes.js';
import { startCli, tempDir } from './helpers/tools.js';

/*
 * `spiced serve --xvfb` as a process: which display it takes and what becomes of the session's
 * processes. Needs Debian's xvfb and util-linux (setsid); skipped with a message otherwise.
 */
const why = lacking('Xvfb', 'setsid');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** State letter of a process from /proc/PID/stat, or undefined when it is gone. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}
const running = (pid: number): boolean => {
  const s = processState(pid);
  return s !== undefined && s !== 'Z' && s !== 'X';
};

/** Wait for a file of PIDs the session writes, one per line. */
async function pidsFrom(file: string, count: number): Promise<number[]> {
  for (let i = 0; i < 100; i++) {
    const pids = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number) : [];
    if (pids.length >= count) return pids;
    await sleep(50);
  }
  throw new Error(`${file} did not get ${count} PIDs`);
}

/**
 * A session that leaves two processes behind: one in its process group and one that called setsid()
 * (as ssh-agent and gpg-agent do), each writing its PID to `file`; then `last` runs in the
 * foreground (exec).
 */
function leakySession(file: string, last: string): string[] {
  return ['sh', '-c', `sleep 1000 & echo $! >> ${file}; setsid sh -c 'echo $$ >> ${file}; exec sleep 1000' & ${last}`];
}

const displayOf = (output: string): string => /started (?:Xvfb|Xorg) (:\d+)/.exec(output)![1]!;
const portOf = (output: string): number => Number(/spice:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]);

async function firstFrame(port: number): Promise<void> {
  const c = new SpiceClient({ port, channels: [ChannelType.Display] });
  await c.connect();
  try {
    await c.waitFor(() => c.display.primary !== undefined && c.display.marks > 0, 15_000, 'the first frame');
  } finally {
    c.close();
  }
}

function exitOf(cli: Awaited<ReturnType<typeof startCli>>): Promise<number | null> {
  const child = cli.child;
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** `spiced serve --xvfb` with a small screen on a port the kernel picks, and more arguments. */
async function serveXvfb(...more: string[]): Promise<Awaited<ReturnType<typeof startCli>>> {
  return startCli(['serve', '--xvfb', '--size', '320x240', '--port', '0', '--no-sound', ...more]);
}

describe.skipIf(why !== '')(`spiced serve --xvfb: display and session${skipNote(why)}`, () => {
  const dir = tempDir('spiced-x11-session-');

  it('two servers started at once get different displays and both serve', async () => {
    const clis = await Promise.all([serveXvfb(), serveXvfb()]);
    try {
      const displays = clis.map((c) => displayOf(c.output()));
      expect(displays[0]).not.toBe(displays[1]);
      await Promise.all(clis.map((c) => firstFrame(portOf(c.output()))));
    } finally {
      await Promise.all(clis.map((c) => c.stop()));
    }
  });

  it('--display :N is honoured, and refused while :N is in use', async () => {
    let n = 170;
    while (existsSync(`/tmp/.X${n}-lock`) || existsSync(`/tmp/.X11-unix/X${n}`)) n++;
    const cli = await serveXvfb('--display', `:${n}`);
    try {
      expect(displayOf(cli.output())).toBe(`:${n}`);
      expect(existsSync(`/tmp/.X11-unix/X${n}`)).toBe(true);
      await firstFrame(portOf(cli.output()));
      const second = serveXvfb('--display', String(n));
      await expect(second).rejects.toThrow(new RegExp(`display :${n} is in use`));
    } finally {
      await cli.stop();
    }
    expect(existsSync(`/tmp/.X${n}-lock`)).toBe(false);
  });

  it('ends every process of the session when it stops, also those that left the process group', async () => {
    const file = join(dir, 'stopped.pids');
    const cli = await serveXvfb('--', ...leakySession(file, 'exec sleep 1000'));
    const pids = await pidsFrom(file, 2);
    expect(pids.every(running)).toBe(true);
    await cli.stop();
    expect(pids.filter(running)).toEqual([]);
  });

  it("stops with the session command's exit code when it exits, ending what it left behind", async () => {
    const file = join(dir, 'exited.pids');
    const cli = await serveXvfb('--', ...leakySession(file, 'sleep 1; exit 3'));
    const pids = await pidsFrom(file, 2);
    const code = await Promise.race([exitOf(cli), sleep(15_000).then(() => 'still running')]);
    expect(code).toBe(3);
    expect(cli.output()).toMatch(/sh exited with code 3: shutting down/);
    expect(pids.filter(running)).toEqual([]);
  });
});
