import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { makeCertificates } from '../src/server/certs.js';
import { SpiceServer } from '../src/server/server.js';
import { DemoSource } from '../src/sources/demo/demo-source.js';
import { countRgbDifferences, sameRgb } from '../src/display/pixels.js';
import { memoryLogger } from '../src/util/log.js';
import { launchChromium, waitForCanvas } from './helpers/browser.js';
import { lacking, skipNote } from './helpers/probes.js';

/*
 * spice-html5 (Debian's package, served by spiced itself on its SPICE ports) in Debian's headless
 * Chromium, driven by playwright-core. Skipped with a message where either is missing.
 */
const WRONG_TICKET =
  /^ticket from 127\.0\.0\.1 refused: wrong password|^tickets refused in the last .*127\.0\.0\.1: \d+ wrong/;
const why = lacking('chromium', 'spice-html5');

describe.skipIf(why !== '')(`spice-html5 in Chromium against spiced${skipNote(why)}`, () => {
  let browser: Browser;
  const { logger, records } = memoryLogger('info');
  let server: SpiceServer;
  let locked: SpiceServer;

  beforeAll(async () => {
    const tls = await makeCertificates(['127.0.0.1']);
    server = new SpiceServer({ source: new DemoSource({ still: true }), port: 0, tlsPort: 0, tls, log: logger });
    locked = new SpiceServer({
      source: new DemoSource({ still: true, width: 800, height: 600 }),
      port: 0,
      password: 'letmein',
      log: logger,
      auth: { logIntervalMs: 1000 },
    });
    await server.start();
    await locked.start();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await locked?.stop();
  });

  it('over ws: the canvas is pixel-identical to the server framebuffer', async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.plainPort}/spice-html5/`);
    const shown = await waitForCanvas(page, (img) => sameRgb(img, server.desktop.primary!));
    expect(shown && countRgbDifferences(shown, server.desktop.primary!)).toBe(0);
    expect(records.some((r) => /display:0 linked \(session [0-9a-f]+, ws\)/.test(r.message))).toBe(true);
    await page.close();
  });

  it('over wss (the page from the TLS port): pixel-identical too', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`https://127.0.0.1:${server.tlsPort}/spice-html5/`);
    const shown = await waitForCanvas(page, (img) => sameRgb(img, server.desktop.primary!));
    expect(shown && countRgbDifferences(shown, server.desktop.primary!)).toBe(0);
    expect(records.some((r) => /display:0 linked \(session [0-9a-f]+, wss\)/.test(r.message))).toBe(true);
    await context.close();
  });

  it('asks for the password in the page: the right one connects', async () => {
    const page = await browser.newPage();
    page.on('dialog', (d) => void d.accept('letmein'));
    await page.goto(`http://127.0.0.1:${locked.plainPort}/spice-html5/`);
    const shown = await waitForCanvas(page, (img) => sameRgb(img, locked.desktop.primary!));
    expect(shown && countRgbDifferences(shown, locked.desktop.primary!)).toBe(0);
    await page.close();
  });

  it('a wrong password is refused (PERMISSION_DENIED) and nothing is shown', async () => {
    const page = await browser.newPage();
    let prompts = 0;
    page.on('dialog', (d) => {
      prompts++;
      // The page may close while the second prompt is up (the test is done by then): ignore that.
      d.accept(prompts === 1 ? 'wrong' : 'still wrong').catch((err: unknown) => {
        if (!/closed/.test(String(err))) throw err;
      });
    });
    // Refusals are logged at once or, when one was logged within the interval, in its summary line.
    const refusals = (): number => records.filter((r) => WRONG_TICKET.test(r.message)).length;
    const before = refusals();
    await page.goto(`http://127.0.0.1:${locked.plainPort}/spice-html5/`);
    const deadline = Date.now() + 10_000;
    while (prompts < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    // Asked, refused, asked again (spice_auto.html prompts again after every refusal).
    expect(prompts).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < 30 && refusals() === before; i++) await new Promise((r) => setTimeout(r, 100));
    expect(refusals()).toBeGreaterThan(before);
    expect(await page.$('canvas#spice_surface_0')).toBeNull();
    await page.close();
  });

  it('keys typed in the browser page change the demo desktop', async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.plainPort}/spice-html5/`);
    await waitForCanvas(page, (img) => sameRgb(img, server.desktop.primary!));
    const before = Buffer.from(server.desktop.primary!.data);
    await page.click('canvas#spice_surface_0', { position: { x: 300, y: 600 } });
    await page.keyboard.type('hello', { delay: 30 });
    const deadline = Date.now() + 10_000;
    while (server.desktop.primary!.data.equals(before) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(server.desktop.primary!.data.equals(before)).toBe(false);
    const shown = await waitForCanvas(page, (img) => sameRgb(img, server.desktop.primary!));
    expect(shown && countRgbDifferences(shown, server.desktop.primary!)).toBe(0);
    await page.close();
  });
});
