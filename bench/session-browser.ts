/**
 * The soak's browser viewer: spice-html5 (served by spiced on its SPICE port) in Debian's headless
 * Chromium through playwright-core, connected for the whole soak like a person's browser tab.
 */
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import type { PixelImage } from '../src/display/pixels.js';
import { decodePng } from '../src/display/png.js';
import { findHtml5Dir } from '../src/server/web.js';
import { CHROMIUM } from './common.js';

export class BrowserViewer {
  private constructor(
    private readonly browser: Browser,
    private readonly page: Page,
  ) {}

  /** Why there can be no browser viewer here (undefined: there can). */
  static unavailable(): string | undefined {
    if (!existsSync(CHROMIUM)) return `no browser viewer: ${CHROMIUM} is missing (apt-get install chromium)`;
    if (findHtml5Dir() === undefined) {
      return 'no browser viewer: spice-html5 is not installed (apt-get install spice-html5)';
    }
    return undefined;
  }

  static async open(port: number): Promise<BrowserViewer> {
    const { chromium } = await import('playwright-core');
    // No background traffic: this machine talks to 127.0.0.1 only.
    const args = ['--no-sandbox', '--disable-gpu', '--no-first-run'];
    args.push('--disable-background-networking', '--disable-component-update');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`http://127.0.0.1:${port}/spice-html5/`);
    return new BrowserViewer(browser, page);
  }

  /** spice-html5's primary surface canvas as it is now, if it is there. */
  async pixels(): Promise<PixelImage | undefined> {
    // A string: this code runs in the page, and the project is compiled without DOM types.
    const url = (await this.page.evaluate(`(() => {
      const c = document.querySelector('canvas#spice_surface_0');
      return c ? c.toDataURL('image/png') : null;
    })()`)) as string | null;
    return url ? decodePng(Buffer.from(url.split(',')[1]!, 'base64')) : undefined;
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}
