import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { countRgbDifferences, sameRgb } from '../src/display/pixels.js';
import { makeCertificates } from '../src/server/certs.js';
import { SpiceServer } from '../src/server/server.js';
import { RecordingSource } from '../src/sources/recording/index.js';
import { memoryLogger } from '../src/util/log.js';
import { launchChromium, VIEWER_CANVAS, waitForCanvas } from './helpers/browser.js';
import { lacking, skipNote } from './helpers/probes.js';
import { readImage, startCli, tempDir } from './helpers/tools.js';

/*
 * spiced's web viewer in Chromium against real desktops: an xterm served by `spiced serve --xvfb`
 * (Xorg with the dummy driver where installed, so the desktop takes the page's size; the canvas
 * equals the X screen; keys typed in the page, with a German layout on the X side, and a middle
 * click arrive in the xterm exactly), and a recording played to its end (the canvas equals the
 * server's framebuffer). Skipped with a message where a tool is missing.
 */
// The viewer's bundle is there: test/global-build.ts stops the run when dist/ is missing or stale.
const why = lacking('chromium');
const noXterm = lacking('Xvfb', 'xterm', 'xdotool', 'import', 'setxkbmap', 'xclip');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(why !== '')(`spiced's web viewer on real desktops${skipNote(why)}`, () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('a recording played to its end: the canvas equals the server framebuffer, over ws and over wss', async () => {
    const { logger, records } = memoryLogger('info');
    let ended!: () => void;
    const done = new Promise<void>((r) => (ended = r));
    const server = new SpiceServer({
      source: new RecordingSource('recordings/xterm-scroll.spicerec.xz', { pace: 'asap', onEnd: () => ended() }),
      port: 0,
      tlsPort: 0,
      tls: await makeCertificates(['127.0.0.1']),
      log: logger,
    });
    await server.start();
    const secure = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const plain = await browser.newPage();
      const tls = await secure.newPage();
      await Promise.all([
        plain.goto(`http://127.0.0.1:${server.plainPort}/`),
        tls.goto(`https://127.0.0.1:${server.tlsPort}/`),
      ]);
      await done;
      const truth = server.desktop.primary!;
      for (const page of [plain, tls]) {
        const shown = await waitForCanvas(page, (img) => sameRgb(img, truth), 20_000, VIEWER_CANVAS);
        expect(shown && countRgbDifferences(shown, truth)).toBe(0);
      }
      expect(records.some((r) => /display:0 linked \(session [0-9a-f]+, wss\)/.test(r.message))).toBe(true);
      await plain.close();
    } finally {
      await secure.close();
      await server.stop();
    }
  });

  describe.skipIf(noXterm !== '')(`an xterm on Xvfb${skipNote(noXterm)}`, () => {
    const dir = tempDir('spiced-web-x11-');
    const typed = join(dir, 'typed.txt');
    let cli: Awaited<ReturnType<typeof startCli>>;
    let display: string;
    let page: Page;
    /** A second viewer, over wss from the TLS port. */
    let secure: BrowserContext;
    let tlsPage: Page;
    const x = (cmd: string, args: string[]): string =>
      spawnSync(cmd, args, { env: { ...process.env, DISPLAY: display }, encoding: 'utf8' }).stdout;
    /** xclip stays behind to serve the selection: no pipe of its output may keep spawnSync waiting. */
    const ownPrimary = (text: string): void => {
      spawnSync('xclip', ['-selection', 'primary'], {
        env: { ...process.env, DISPLAY: display },
        input: text,
        stdio: ['pipe', 'ignore', 'ignore'],
        timeout: 5000,
      });
    };
    const root = (): ReturnType<typeof readImage> => {
      const png = join(dir, `root-${Date.now()}.png`);
      x('import', ['-window', 'root', png]);
      return readImage(png);
    };

    beforeAll(async () => {
      cli = await startCli(
        [
          'serve',
          '--xvfb',
          '--size',
          '640x400',
          '--port',
          '0',
          '--tls-port',
          '0',
          '--',
          'sh',
          '-c',
          `exec xterm -geometry 80x20+0+0 -e sh -c 'cat > ${typed}'`,
        ],
        { XDG_STATE_HOME: join(dir, 'state') },
      );
      display = /started (?:Xvfb|Xorg) (:\d+)/.exec(cli.output())![1]!;
      for (let i = 0; i < 50 && !x('xdotool', ['search', '--class', 'xterm']).trim(); i++) await sleep(100);
      // The desktop's layout is German: the page sends physical keys, the desktop makes characters.
      x('setxkbmap', ['de']);
      page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${cli.port}/`);
      secure = await browser.newContext({ ignoreHTTPSErrors: true });
      tlsPage = await secure.newPage();
      await tlsPage.goto(`https://127.0.0.1:${cli.tlsPort}/`);
    });

    afterAll(async () => {
      await page?.close();
      await secure?.close();
      await cli?.stop();
    });

    it('the canvas equals the X screen, pixel for pixel, over ws and over wss', async () => {
      // The screen is read again each time: the pages size the desktop to themselves (Xorg's dummy
      // driver follows) while they connect.
      for (const p of [page, tlsPage]) {
        let truth = root();
        const shown = await waitForCanvas(p, (img) => sameRgb(img, (truth = root())), 20_000, VIEWER_CANVAS);
        expect(shown && countRgbDifferences(shown, truth)).toBe(0);
      }
      expect(cli.output()).toMatch(/display:0 linked \(session [0-9a-f]+, wss\)/);
    });

    it('typing (shifted, AltGr, a dead key, function keys) and a middle click arrive in the xterm exactly', async () => {
      const box = (await page.locator(VIEWER_CANVAS).boundingBox())!;
      // No window manager: keyboard focus follows the pointer, which the page moves over the xterm.
      await page.mouse.move(box.x + 200, box.y + 100);
      await page.mouse.click(box.x + 200, box.y + 100);
      // German layout: Z is y, AltGr+Q is @, Shift+7 is /, the dead circumflex then e is ê.
      for (const key of ['Shift+KeyH', 'KeyZ', 'AltRight+KeyQ', 'Shift+Digit7', 'Backquote', 'KeyE', 'F5', 'Enter'])
        await page.keyboard.press(key);
      ownPrimary('clicked\n');
      await page.mouse.click(box.x + 200, box.y + 100, { button: 'middle' });
      const want = 'Hy@/ê\x1b[15~\nclicked\n';
      for (let i = 0; i < 100 && !(existsSync(typed) && readFileSync(typed, 'utf8') === want); i++) await sleep(100);
      expect(JSON.stringify(readFileSync(typed, 'utf8'))).toBe(JSON.stringify(want));
      await sleep(300);
      const truth = root();
      const shown = await waitForCanvas(page, (img) => sameRgb(img, truth), 20_000, VIEWER_CANVAS);
      expect(shown && countRgbDifferences(shown, truth)).toBe(0);
    });

    it('over wss: more shifted, AltGr and function keys arrive in the xterm exactly', async () => {
      const before = readFileSync(typed, 'utf8');
      const box = (await tlsPage.locator(VIEWER_CANVAS).boundingBox())!;
      await tlsPage.mouse.move(box.x + 200, box.y + 100);
      await tlsPage.mouse.click(box.x + 200, box.y + 100);
      // German layout: Shift+1 !, AltGr+8 [, AltGr+ß \, Shift+ß ?, AltGr+E €, ö, Shift+ä Ä; then
      // F1 and F4 (SS3 sequences), F12 (CSI), Tab.
      const keys = ['Shift+Digit1', 'AltRight+Digit8', 'AltRight+Minus', 'Shift+Minus', 'AltRight+KeyE'];
      keys.push('Semicolon', 'Shift+Quote', 'F1', 'F4', 'F12', 'Tab', 'Enter');
      for (const key of keys) await tlsPage.keyboard.press(key);
      const want = before + '![\\?€öÄ\x1bOP\x1bOS\x1b[24~\t\n';
      for (let i = 0; i < 100 && readFileSync(typed, 'utf8') !== want; i++) await sleep(100);
      expect(JSON.stringify(readFileSync(typed, 'utf8'))).toBe(JSON.stringify(want));
      await sleep(300);
      const truth = root();
      const shown = await waitForCanvas(tlsPage, (img) => sameRgb(img, truth), 20_000, VIEWER_CANVAS);
      expect(shown && countRgbDifferences(shown, truth)).toBe(0);
    });
  });
});
