import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng, encodePng } from '../src/display/png.js';
import { decodePpm } from '../src/display/ppm.js';
import { GtkAgent } from './helpers/gtk-agent.js';
import { lacking, skipNote } from './helpers/probes.js';
import { diffPixels, readImage, startCli } from './helpers/tools.js';

/*
 * The agent end to end on a real X desktop: spice-gtk's main channel (GObject introspection, what
 * remote-viewer uses) against `spiced serve --xvfb`, with xclip inside the X session checking
 * what arrived and offering text and a PNG back, and the desktop resized by the viewer.
 */

const why = lacking('spice-glib', 'xclip', 'import', 'convert', 'xterm', 'xorg-dummy');

const UTF8_TEXT = 1;
const PNG = 2;
const BMP = 3;
const CLIPBOARD = 0;
const PRIMARY = 1;

/** ImageMagick, an encoder and decoder independent of spiced's, between formats through pipes. */
const magick = (from: string, to: string, input: Buffer): Buffer =>
  execFileSync('convert', [`${from}:-`, `${to}:-`], { input, maxBuffer: 64 << 20 });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(why !== '')(`the agent on an X desktop with spice-gtk${skipNote(why)}`, () => {
  const work = mkdtempSync(join(tmpdir(), 'spiced-x11-agent-'));
  const file = (name: string): string => join(work, name);
  let cli: Awaited<ReturnType<typeof startCli>>;
  let display: string;
  let viewer: GtkAgent;

  /** Run a tool on the display; `input` makes it a copy (xclip forks a child that keeps the selection). */
  function x(cmd: string, args: string[], input?: Uint8Array): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const copy = input !== undefined;
      const child = spawn(cmd, args, {
        env: { ...process.env, DISPLAY: display },
        stdio: copy ? ['pipe', 'ignore', 'ignore'] : ['pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      child.stdout?.on('data', (d: Buffer) => out.push(d));
      child.on('error', reject);
      child.on(copy ? 'exit' : 'close', (code) =>
        code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`)),
      );
      child.stdin!.end(input ?? Buffer.alloc(0));
    });
  }

  /** What a desktop application pastes, once `done` says so (the viewer's grab travels first). */
  async function desktopPastesWhen(
    done: (got: Buffer) => boolean,
    target: string,
    selection = 'clipboard',
    timeoutMs = 20_000,
  ): Promise<Buffer> {
    const end = Date.now() + timeoutMs;
    let got: Buffer = Buffer.alloc(0);
    while (Date.now() < end) {
      got = await x('xclip', ['-selection', selection, '-t', target, '-o']).catch(() => Buffer.alloc(0));
      if (done(got)) return got;
      await sleep(100);
    }
    return got;
  }

  const desktopPastes = (expected: Buffer, target = 'UTF8_STRING', timeoutMs = 20_000, selection = 'clipboard') =>
    desktopPastesWhen((got) => got.equals(expected), target, selection, timeoutMs);

  /** Copy on the desktop; the viewer pastes it (as `type`) once the desktop's grab reached it. */
  async function viewerPastes(
    data: Uint8Array,
    target: string,
    type: number,
    name: string,
    selection = CLIPBOARD,
  ): Promise<Buffer> {
    const from = viewer.events.length;
    const xsel = selection === PRIMARY ? 'primary' : 'clipboard';
    await x('xclip', ['-selection', xsel, '-t', target, '-i'], data);
    await viewer.next('grab', (e) => e.selection === selection && (e.types as number[]).includes(type), from);
    const asked = viewer.events.length;
    viewer.send(`request ${selection} ${file(name)} ${type}`);
    await viewer.next('clipboard', () => true, asked, 30_000);
    return readFileSync(file(name));
  }

  async function rootMatchesViewer(name: string): Promise<number> {
    let diff = -1;
    for (let i = 0; i < 20 && diff !== 0; i++) {
      const from = viewer.events.length;
      viewer.send(`shot ${file(`${name}.png`)}`);
      await viewer.next('shot', () => true, from);
      await x('import', ['-window', 'root', file(`${name}-root.png`)]);
      diff = diffPixels(readImage(file(`${name}.png`)), readImage(file(`${name}-root.png`)));
      if (diff !== 0) await sleep(150);
    }
    return diff;
  }

  function png(width: number, height: number): Buffer {
    const data = Buffer.alloc(width * height * 4);
    for (let i = 0; i < data.length; i += 4) data.set([(i * 7) & 0xff, (i >> 6) & 0xff, 0x40, 0xff], i);
    return encodePng({ width, height, stride: width * 4, data });
  }

  function bigText(size: number, seed: number): Buffer {
    const out = Buffer.alloc(size);
    for (let i = 0; i < size; i++) out[i] = i % 100 === 99 ? 0x0a : 0x21 + ((i * seed) % 90);
    return out;
  }

  beforeAll(async () => {
    cli = await startCli([
      'serve',
      '--xvfb',
      '--resize',
      '--size',
      '1024x768',
      '--port',
      '0',
      '--',
      'xterm',
      '-geometry',
      '80x20+10+10',
    ]);
    display = /started Xorg (:\d+)/.exec(cli.output())![1]!;
    viewer = new GtkAgent(`spice://127.0.0.1:${cli.port}`);
    await viewer.next('ready');
  });

  afterAll(async () => {
    await viewer?.close();
    await cli?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('text both ways, as UTF-8 with its line ends', async () => {
    const down = Buffer.from('vom Desktop: grüße\nzweite Zeile\n');
    expect(await viewerPastes(down, 'UTF8_STRING', UTF8_TEXT, 'down.txt')).toEqual(down);
    const up = Buffer.from('from spice-gtk: naïve\nline two\n');
    writeFileSync(file('up.txt'), up);
    viewer.send(`grab 0 ${file('up.txt')}`);
    expect(await desktopPastes(up)).toEqual(up);
  });

  it('a PNG both ways, byte for byte', async () => {
    const down = png(120, 80);
    expect((await viewerPastes(down, 'image/png', PNG, 'down.png')).equals(down)).toBe(true);
    const up = png(64, 200);
    writeFileSync(file('up.png'), up);
    viewer.send(`grab 0 ${file('up.png')} ${PNG}`);
    expect((await desktopPastes(up, 'image/png')).equals(up)).toBe(true);
  });

  it('PRIMARY both ways, kept apart from CLIPBOARD', async () => {
    const down = Buffer.from('selected on the desktop: grüße\n');
    expect(await viewerPastes(down, 'UTF8_STRING', UTF8_TEXT, 'primary-down.txt', PRIMARY)).toEqual(down);
    const up = Buffer.from('selected in spice-gtk: naïve');
    writeFileSync(file('primary-up.txt'), up);
    viewer.send(`grab ${PRIMARY} ${file('primary-up.txt')}`);
    expect(await desktopPastes(up, 'UTF8_STRING', 20_000, 'primary')).toEqual(up);
    const clipboard = await x('xclip', ['-selection', 'clipboard', '-o']).catch(() => Buffer.alloc(0));
    expect(clipboard.equals(up)).toBe(false);
  });

  it('a bitmap offered only as BMP by the viewer pastes on the desktop as PNG too', async () => {
    const pngIn = png(90, 60);
    const bmp = magick('png', 'bmp3', pngIn);
    writeFileSync(file('only.bmp'), bmp);
    viewer.send(`grab 0 ${file('only.bmp')} ${BMP}`);
    const targets = await desktopPastesWhen((t) => t.toString().includes('image/png'), 'TARGETS');
    expect(targets.toString().split('\n')).toEqual(expect.arrayContaining(['image/bmp', 'image/png']));
    expect((await desktopPastes(bmp, 'image/bmp')).equals(bmp)).toBe(true);
    const asPng = await desktopPastesWhen((got) => got.length > 0, 'image/png');
    expect(diffPixels(decodePng(asPng), decodePng(pngIn))).toBe(0);
  });

  it('a PNG offered only as PNG by the desktop pastes in the viewer as BMP too', async () => {
    const pngIn = png(70, 44);
    const bmp = await viewerPastes(pngIn, 'image/png', BMP, 'as.bmp');
    expect(bmp.subarray(0, 2).toString('latin1')).toBe('BM');
    expect(diffPixels(decodePpm(magick('bmp', 'ppm', bmp)), decodePng(pngIn))).toBe(0);
  });

  it('5 MiB both ways', async () => {
    const down = bigText(5 << 20, 11);
    expect((await viewerPastes(down, 'UTF8_STRING', UTF8_TEXT, 'big-down.txt')).equals(down)).toBe(true);
    const up = bigText(5 << 20, 17);
    writeFileSync(file('big-up.txt'), up);
    viewer.send(`grab 0 ${file('big-up.txt')}`);
    const got = await desktopPastes(up, 'UTF8_STRING', 40_000);
    expect(got.length).toBe(up.length);
    expect(got.equals(up)).toBe(true);
  });

  it('resizes the desktop from 1024x768 to 1280x800 and back, the viewer equal to the X root window', async () => {
    expect(await rootMatchesViewer('start')).toBe(0);
    const from = viewer.events.length;
    viewer.send('resize 1280 800');
    await viewer.next('primary', (e) => e.width === 1280 && e.height === 800, from);
    expect(readImage(await shotOfRoot('grown')).width).toBe(1280);
    expect(await rootMatchesViewer('grown')).toBe(0);
    const back = viewer.events.length;
    viewer.send('resize 1024 768');
    await viewer.next('primary', (e) => e.width === 1024 && e.height === 768, back);
    expect(await rootMatchesViewer('back')).toBe(0);
  });

  async function shotOfRoot(name: string): Promise<string> {
    await x('import', ['-window', 'root', file(`${name}-check.png`)]);
    return file(`${name}-check.png`);
  }
});
