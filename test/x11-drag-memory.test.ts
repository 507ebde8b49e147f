import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dragArgs, dragSession, hasWindow, TITLE_BAR } from '../bench/x11-drag-scene.js';
import { SpiceClient } from '../src/client/client.js';
import { ChannelType } from '../src/protocol/constants.js';
import { lacking, skipNote } from './helpers/probes.js';
import { startCli, tempDir } from './helpers/tools.js';

/*
 * Issue 18.1: the real `spiced serve --xvfb -- <twm + xterm>` as a child process, a viewer (the
 * project's SpiceClient) connected, and a window dragged with xdotool for 10 s; the server's
 * resident memory must stay bounded (it grew by hundreds of MB while sent draws, and the captured
 * pixels they hold, stayed referenced by the display pipe). Needs Debian's xvfb, twm, xterm and
 * xdotool; skipped with a message otherwise.
 */
const why = lacking('Xvfb', 'twm', 'xterm', 'xdotool');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const DRAG_SECONDS = 10;
const RSS_BOUND_MB = 300;

/** VmRSS of a process in MB, from /proc. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) / 1024;
}

function xdotool(display: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, DISPLAY: display };
    const child = spawn('xdotool', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

describe.skipIf(why !== '')(`a window dragged for ${DRAG_SECONDS} s under spiced serve --xvfb${skipNote(why)}`, () => {
  it(`keeps the server under ${RSS_BOUND_MB} MB resident`, async () => {
    const session = dragSession(tempDir('spiced-drag-'));
    const args = ['serve', '--xvfb', '--size', '1280x800', '--port', '0', '--no-sound'];
    const cli = await startCli([...args, '--', ...session]);
    const port = cli.port;
    const viewer = new SpiceClient({ port, channels: [ChannelType.Display] });
    try {
      const pid = cli.child.pid!;
      const display = /started (?:Xvfb|Xorg) (:\d+)/.exec(cli.output())![1]!;
      const env = { ...process.env, DISPLAY: display };
      const search = (): string =>
        spawnSync('xdotool', ['search', '--class', 'xterm'], { env, encoding: 'utf8' }).stdout;
      for (let i = 0; i < 100 && !hasWindow(search()); i++) await sleep(100);
      expect(hasWindow(search())).toBe(true);
      await viewer.connect();
      await viewer.waitFor(() => viewer.display.marks > 0, 15_000, 'the first frame');
      await sleep(1000); // twm has framed the xterm; top has drawn
      const drawsBefore = viewer.display.draws;
      const rssBefore = rssMb(pid);
      let rssMax = rssBefore;
      const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMb(pid))), 200);
      let dragged: { code: number | null; stderr: string };
      try {
        const plan = { from: TITLE_BAR, seconds: DRAG_SECONDS, rateHz: 60, stepPx: 4, spanPx: 400 };
        dragged = await xdotool(display, dragArgs(plan));
      } finally {
        clearInterval(sampler);
      }
      expect(dragged.code, dragged.stderr).toBe(0);
      rssMax = Math.max(rssMax, rssMb(pid));
      // The drag reached the viewer: many updates, not a still screen.
      expect(viewer.display.draws - drawsBefore).toBeGreaterThan(100);
      expect(viewer.errors).toEqual([]);
      const said = `RSS ${rssBefore.toFixed(0)} MB before the drag, ${rssMax.toFixed(0)} MB at most during it`;
      expect(rssMax, said).toBeLessThan(RSS_BOUND_MB);
    } finally {
      viewer.close();
      await cli.stop();
    }
  }, 90_000);
});
