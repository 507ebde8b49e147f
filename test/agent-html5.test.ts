import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { sameRgb } from '../src/display/pixels.js';
import { SpiceServer } from '../src/server/server.js';
import { DemoSource } from '../src/sources/demo/demo-source.js';
import { memoryLogger } from '../src/util/log.js';
import { launchChromium, waitForCanvas } from './helpers/browser.js';
import { lacking, skipNote } from './helpers/probes.js';

/*
 * spice-html5 connects its agent when MAIN_INIT announces one, then sends MONITORS_CONFIG for its
 * window (widths and heights rounded down to multiples of 8, 200 ms after the last resize event).
 */
const why = lacking('chromium', 'spice-html5');

describe.skipIf(why !== '')(`spice-html5's window size reaches the desktop${skipNote(why)}`, () => {
  let browser: Browser;
  const { logger, records } = memoryLogger('info');
  const source = new DemoSource({ still: true, width: 640, height: 480 });
  const server = new SpiceServer({ source, port: 0, log: logger });

  beforeAll(async () => {
    await server.start();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server.stop();
  });

  const asked = (): { width: number; height: number }[] =>
    records
      .map((r) => /asked for (\d+)x(\d+): now/.exec(r.message))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ width: Number(m[1]), height: Number(m[2]) }));

  it('resizes the demo to the page, then follows a window resize; the canvas shows the new desktop', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    try {
      await page.goto(`http://127.0.0.1:${server.plainPort}/spice-html5/`);
      const deadline = Date.now() + 15_000;
      while (asked().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const first = asked().at(-1);
      expect(first, 'a MONITORS_CONFIG from spice-html5').toBeDefined();
      expect(first!.width % 8).toBe(0);
      expect(first!.width).toBeLessThanOrEqual(1000);
      const before = asked().length;
      await page.setViewportSize({ width: 1200, height: 860 });
      while (asked().length === before && Date.now() < deadline + 15_000) await new Promise((r) => setTimeout(r, 100));
      const second = asked().at(-1)!;
      expect(second.width).toBeGreaterThan(first!.width);
      expect(second.height).toBeGreaterThan(first!.height);
      expect(source.layout.width).toBe(second.width);
      expect(source.layout.height).toBe(second.height);
      const shown = await waitForCanvas(page, (img) => sameRgb(img, server.desktop.primary!));
      expect(shown?.width).toBe(second.width);
    } finally {
      await page.close();
    }
  });
});
