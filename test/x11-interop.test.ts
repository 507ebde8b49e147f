import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import { ChannelType } from '../src/protocol/constants.js';
import { lacking, skipNote, SYSTEM_PYTHON } from './helpers/probes.js';
import { diffPixels, readImage, run, startCli, tempDir } from './helpers/tools.js';

/*
 * spiced serving a real X server (Xvfb with xterm and xclock) to real spice-gtk clients, through
 * the CLI: `spiced serve --xvfb -- sh -c '...'`. Needs Debian's xvfb, xterm, x11-apps, xdotool,
 * imagemagick and spice-client-gtk (installed by .ci/run); skipped with a message otherwise.
 */
const why = lacking('Xvfb', 'xterm', 'xclock', 'xdotool', 'import', 'spicy-screenshot');
const SPICE_CLIENT = join(__dirname, 'helpers', 'spice-gtk-client.py');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(why !== '')(`spiced serve --xvfb with real clients${skipNote(why)}`, () => {
  const dir = tempDir('spiced-x11-');
  const typed = join(dir, 'typed.txt');
  let port: number;
  let display: string;
  let cli: Awaited<ReturnType<typeof startCli>>;
  const x = (cmd: string, args: string[]): string =>
    spawnSync(cmd, args, { env: { ...process.env, DISPLAY: display }, encoding: 'utf8' }).stdout;

  beforeAll(async () => {
    // An xterm that writes what is typed into a file, and a clock that changes once a minute.
    const scene = `xclock -geometry 160x160+620+20 & exec xterm -geometry 80x20+0+0 -e sh -c 'cat > ${typed}'`;
    cli = await startCli(['serve', '--xvfb', '--size', '800x600', '--port', '0', '--', 'sh', '-c', scene]);
    port = cli.port;
    display = /started (?:Xvfb|Xorg) (:\d+)/.exec(cli.output())![1]!;
    // No window manager: keyboard focus follows the pointer, so keep it over the xterm.
    for (let i = 0; i < 50 && !x('xdotool', ['search', '--class', 'xterm']).trim(); i++) await sleep(100);
    x('xdotool', ['mousemove', '200', '100']);
    await sleep(1000);
  });

  afterAll(async () => {
    await cli?.stop();
  });

  it('spicy-screenshot equals import -window root of the same display, pixel for pixel', async () => {
    // The clock ticks once a minute: a second attempt covers a tick between the two captures.
    let differing = -1;
    for (let attempt = 0; attempt < 2 && differing !== 0; attempt++) {
      const out = join(dir, `shot-${attempt}.ppm`);
      const r = await run('spicy-screenshot', ['-h', '127.0.0.1', '-p', String(port), '-o', out], {
        timeoutMs: 20_000,
      });
      expect(r.code, r.stderr).toBe(0);
      const root = join(dir, `root-${attempt}.png`);
      x('import', ['-window', 'root', root]);
      differing = diffPixels(readImage(out), readImage(root));
    }
    expect(differing).toBe(0);
  });

  it.skipIf(lacking('spice-glib') !== '')(
    `text typed through a spice-gtk client reaches the xterm${skipNote(lacking('spice-glib'))}`,
    async () => {
      const r = await run(
        SYSTEM_PYTHON,
        [
          SPICE_CLIENT,
          '--uri',
          `spice://127.0.0.1:${port}`,
          '--out',
          join(dir, 'py.png'),
          '--type',
          'hello spice\n',
          '--timeout',
          '20',
        ],
        { timeoutMs: 40_000 },
      );
      expect(r.code, r.stdout + r.stderr).toBe(0);
      for (let i = 0; i < 50 && !(existsSync(typed) && readFileSync(typed, 'utf8').includes('hello spice')); i++)
        await sleep(100);
      expect(readFileSync(typed, 'utf8')).toContain('hello spice\n');
    },
  );

  it('mouse moves through SPICE move the X pointer', async () => {
    const c = new SpiceClient({ port, channels: [ChannelType.Display, ChannelType.Inputs] });
    await c.connect();
    await c.waitFor(() => c.display.marks > 0, 10_000, 'the first frame');
    c.sendInput({ kind: 'mousePosition', x: 321, y: 234, buttons: 0, displayId: 0 });
    let loc = '';
    for (let i = 0; i < 50 && !/x:321 y:234/.test(loc); i++) {
      await sleep(100);
      loc = x('xdotool', ['getmouselocation']);
    }
    expect(loc).toMatch(/x:321 y:234/);
    c.close();
  });
});
