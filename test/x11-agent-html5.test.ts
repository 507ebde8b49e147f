import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { sameRgb } from '../src/display/pixels.js';
import { SpiceServer } from '../src/server/server.js';
import { XConnection } from '../src/sources/x11/connection.js';
import { getGeometry } from '../src/sources/x11/core.js';
import { X11Source } from '../src/sources/x11/x11-source.js';
import { startXvfb, type XvfbHandle } from '../src/sources/x11/xvfb.js';
import { memoryLogger } from '../src/util/log.js';
import { launchChromium, waitForCanvas } from './helpers/browser.js';
import { lacking, skipNote } from './helpers/probes.js';

/*
 * spice-html5 in Chromium against a resizable X desktop (Xorg with the dummy driver): the page's
 * MONITORS_CONFIG reaches the X server through RandR, and the canvas shows the resized screen.
 */
const why = lacking('chromium', 'spice-html5', 'xterm', 'xorg-dummy');

async function rootSize(display: string): Promise<{ width: number; height: number }> {
  const conn = await XConnection.connect(display, { xauthority: null });
  try {
    const g = await getGeometry(conn, conn.screen.root);
    return { width: g.width, height: g.height };
  } finally {
    conn.close();
  }
}

describe.skipIf(why !== '')(`spice-html5's window size reaches an X desktop${skipNote(why)}`, () => {
  let browser: Browser;
  let xorg: XvfbHandle;
  let server: SpiceServer;
  const { logger, records } = memoryLogger('info');

  beforeAll(async () => {
    xorg = await startXvfb({ server: 'xorg-dummy', size: '640x480', command: ['xterm', '-geometry', '60x10+0+0'] });
    const source = new X11Source({ display: xorg.display, resize: true });
    server = new SpiceServer({ source, port: 0, log: logger });
    await server.start();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await xorg?.stop();
  });

  const asked = (): { width: number; height: number }[] =>
    records
      .map((r) => /asked for (\d+)x(\d+): now/.exec(r.message))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ width: Number(m[1]), height: Number(m[2]) }));

  it('resizes the X screen to the page, then follows a window resize; the canvas shows the new screen', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    try {
      await page.goto(`http://127.0.0.1:${server.plainPort}/spice-html5/`);
      const deadline = Date.now() + 15_000;
      while (asked().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const first = asked().at(-1);
      expect(first, 'a MONITORS_CONFIG from spice-html5').toBeDefined();
      expect(await rootSize(xorg.display)).toEqual(first);
      const before = asked().length;
      await page.setViewportSize({ width: 1200, height: 860 });
      while (asked().length === before && Date.now() < deadline + 15_000) await new Promise((r) => setTimeout(r, 100));
      const second = asked().at(-1)!;
      expect(second.width).toBeGreaterThan(first!.width);
      expect(await rootSize(xorg.display)).toEqual(second);
      const shown = await waitForCanvas(page, (img) => sameRgb(img, server.desktop.primary!));
      expect(shown?.width).toBe(second.width);
      expect(shown?.height).toBe(second.height);
    } finally {
      await page.close();
    }
  });
});
