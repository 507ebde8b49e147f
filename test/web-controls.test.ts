import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { sameRgb } from '../src/display/pixels.js';
import { SpiceServer } from '../src/server/server.js';
import { launchChromium, VIEWER_CANVAS, waitForCanvas } from './helpers/browser.js';
import { PatternSource } from './helpers/pattern-source.js';
import { lacking, skipNote } from './helpers/probes.js';

/*
 * The controls of spiced's own viewer in Debian's headless Chromium: the overlay, mute, fullscreen,
 * scale-to-fit, the keys menu, touch and pointer lock in server mouse mode. Skipped with a message
 * where Chromium is missing.
 */
// The viewer's bundle is there: test/global-build.ts stops the run when dist/ is missing or stale.
const why = lacking('chromium');

async function until(pred: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await pred()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

describe.skipIf(why !== '')(`spiced's web viewer controls in Chromium${skipNote(why)}`, () => {
  let browser: Browser;
  let server: SpiceServer;
  let big: SpiceServer;
  const source = new PatternSource(320, 240);
  const bigSource = new PatternSource(1000, 750);

  beforeAll(async () => {
    server = new SpiceServer({ source, port: 0 });
    big = new SpiceServer({ source: bigSource, port: 0 });
    await Promise.all([server.start(), big.start()]);
    browser = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([server?.stop(), big?.stop()]);
  });

  async function open(query = '', options: Parameters<Browser['newPage']>[0] = {}, on = server): Promise<Page> {
    const page = await browser.newPage(options);
    await page.goto(`http://127.0.0.1:${on.plainPort}/${query}`);
    const shown = await waitForCanvas(page, (img) => sameRgb(img, on.desktop.primary!), 15_000, VIEWER_CANVAS);
    expect(shown).toBeDefined();
    return page;
  }

  const buttons = (): string[] =>
    source.inputs
      .filter((e) => e.kind === 'button')
      .map((e) => (e.kind === 'button' ? `${e.button}${e.down ? '+' : '-'}@${e.x},${e.y}` : ''));

  it('the overlay shows frames/s, bytes/s and the round trip once a second', async () => {
    const page = await open();
    expect(await page.isVisible('#overlay')).toBe(false);
    await page.click('#stats-toggle');
    // Pointer motion gets acknowledged every 4 messages: the round trip is measured on it too.
    const box = (await page.locator(VIEWER_CANVAS).boundingBox())!;
    for (let i = 0; i < 12; i++) await page.mouse.move(box.x + 10 + i * 5, box.y + 10);
    const text = (): Promise<string> => page.textContent('#overlay').then((t) => t ?? '');
    expect(await until(async () => /RTT \d+ ms/.test(await text()), 5000)).toBe(true);
    expect(await text()).toMatch(/^\d+ frames\/s · [\d.]+ (B|KiB|MiB)\/s · RTT \d+ ms$/);
    await page.click('#stats-toggle');
    expect(await page.isVisible('#overlay')).toBe(false);
    await page.close();
  });

  it('the mute button silences the output and says so; a second click brings the sound back', async () => {
    const page = await open();
    const muted = (): Promise<boolean> => page.evaluate('window.spiced.audio.muted') as Promise<boolean>;
    expect(await muted()).toBe(false);
    await page.click('#mute');
    expect(await muted()).toBe(true);
    expect(await page.textContent('#mute')).toBe('Unmute');
    await page.click('#mute');
    expect(await muted()).toBe(false);
    expect(await page.textContent('#mute')).toBe('Mute');
    await page.close();
  });

  it('the fullscreen button puts the screen in fullscreen and takes it out again', async () => {
    const page = await open();
    const full = (): Promise<string | null> =>
      page.evaluate('document.fullscreenElement ? document.fullscreenElement.id : null') as Promise<string | null>;
    await page.click('#fullscreen');
    expect(await until(async () => (await full()) === 'screen', 5000)).toBe(true);
    // The screen fills the window; the bar with the button is outside it (Esc leaves, as everywhere).
    const box = (await page.locator('#screen').boundingBox())!;
    const viewport = page.viewportSize()!;
    expect([box.width, box.height]).toEqual([viewport.width, viewport.height]);
    await page.evaluate('document.exitFullscreen()');
    expect(await until(async () => (await full()) === null, 5000)).toBe(true);
    await page.close();
  });

  it('scale-to-fit shows the whole desktop in a smaller window, and clicks land on the right pixel', async () => {
    const page = await open('?resize=0', { viewport: { width: 640, height: 480 } }, big);
    const canvasBox = async () => (await page.locator(VIEWER_CANVAS).boundingBox())!;
    expect((await canvasBox()).width).toBe(1000); // unscaled: the window shows part of it
    await page.check('#scale');
    const box = await canvasBox();
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(640);
    expect(box.y + box.height).toBeLessThanOrEqual(480);
    expect(Math.abs(box.width / box.height - 1000 / 750)).toBeLessThan(0.02);
    bigSource.inputs.length = 0;
    // The middle of the shown canvas is the middle of the desktop, give or take a scaled pixel.
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    const clicks = (): string[] => bigSource.inputs.flatMap((e) => (e.kind === 'button' ? [`${e.x},${e.y}`] : []));
    expect(await until(() => clicks().length >= 2)).toBe(true);
    const [x, y] = clicks()[0]!.split(',').map(Number) as [number, number];
    expect(Math.abs(x - 500)).toBeLessThanOrEqual(2);
    expect(Math.abs(y - 375)).toBeLessThanOrEqual(2);
    await page.uncheck('#scale');
    expect((await canvasBox()).width).toBe(1000);
    await page.close();
  });

  it('the keys menu sends Ctrl+Alt+Del: pressed in order, released in reverse', async () => {
    const page = await open();
    source.inputs.length = 0;
    await page.selectOption('#keys', { label: 'Ctrl+Alt+Del' });
    const keys = (): string[] =>
      source.inputs
        .filter((e) => e.kind === 'key')
        .map((e) => (e.kind === 'key' ? `${e.down ? '+' : '-'}${e.scancode.toString(16)}` : ''));
    const want = ['+1d', '+38', '+153', '-153', '-38', '-1d'];
    expect(await until(() => keys().length >= want.length)).toBe(true);
    expect(keys()).toEqual(want);
    expect(await page.inputValue('#keys')).toBe(''); // ready for the next choice
    await page.close();
  });

  it('a tap on a touch screen is a left click at the tapped pixel', async () => {
    const page = await open('', { hasTouch: true });
    const box = (await page.locator(VIEWER_CANVAS).boundingBox())!;
    source.inputs.length = 0;
    await page.touchscreen.tap(box.x + 70, box.y + 30);
    expect(await until(() => buttons().length >= 2)).toBe(true);
    expect(buttons()).toEqual(['1+@70,30', '1-@70,30']);
    await page.close();
  });

  it('in server mouse mode a click captures the pointer (pointer lock) and motion goes as relative moves', async () => {
    const page = await open();
    await page.evaluate('window.spiced.session.requestMouseMode(1)'); // SPICE_MOUSE_MODE_SERVER
    expect(await until(async () => (await page.evaluate('window.spiced.session.mouseMode')) === 1, 5000)).toBe(true);
    const box = (await page.locator(VIEWER_CANVAS).boundingBox())!;
    await page.mouse.move(box.x + 100, box.y + 100);
    source.inputs.length = 0;
    await page.mouse.down();
    await page.mouse.up();
    const locked = (): Promise<boolean> =>
      page.evaluate(`document.pointerLockElement === document.querySelector('${VIEWER_CANVAS}')`) as Promise<boolean>;
    expect(await until(locked, 5000)).toBe(true);
    // The capturing click itself is not sent to the desktop.
    expect(buttons()).toEqual([]);
    const pointer = (): { x: number; y: number }[] =>
      source.inputs.flatMap((e) => (e.kind === 'pointer' ? [{ x: e.x, y: e.y }] : []));
    const before = pointer().at(-1);
    await page.mouse.move(box.x + 130, box.y + 120);
    expect(await until(() => pointer().length > 0 && pointer().at(-1) !== before, 5000)).toBe(true);
    // The desktop's own pointer moved by the relative motion (from wherever the server had it).
    const moves = source.inputs.filter((e) => e.kind === 'pointer');
    expect(moves.length).toBeGreaterThan(0);
    await page.evaluate('document.exitPointerLock()');
    await page.close();
  });
});
