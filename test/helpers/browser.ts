import type { Browser, Page } from 'playwright-core';
import { decodePng } from '../../src/display/png.js';
import type { PixelImage } from '../../src/display/pixels.js';

/** Debian's Chromium, or $CHROMIUM (test/global-tools.ts probes it once per run). */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Debian's Chromium, headless, with the flags this closed network needs (no background traffic). */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-default-apps',
      '--disable-dev-shm-usage',
      ...extraArgs,
    ],
  });
}

/** spice-html5's primary surface canvas. */
export const HTML5_CANVAS = 'canvas#spice_surface_0';
/** spiced's own viewer's canvas. */
export const VIEWER_CANVAS = 'canvas#display';

/** The pixels of a canvas (spice-html5's by default), or undefined when it is not there yet. */
export async function canvasPixels(page: Page, selector = HTML5_CANVAS): Promise<PixelImage | undefined> {
  // A string: this code runs in the page, and the project is compiled without DOM types.
  const data = (await page.evaluate(`(() => {
    const c = document.querySelector(${JSON.stringify(selector)});
    return c ? c.toDataURL('image/png') : null;
  })()`)) as string | null;
  return data ? decodePng(Buffer.from(data.split(',')[1]!, 'base64')) : undefined;
}

/** Poll the canvas until `pred` holds for it (or time out with the last value). */
export async function waitForCanvas(
  page: Page,
  pred: (img: PixelImage) => boolean,
  timeoutMs = 15_000,
  selector = HTML5_CANVAS,
): Promise<PixelImage | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: PixelImage | undefined;
  while (Date.now() < deadline) {
    last = await canvasPixels(page, selector);
    if (last && pred(last)) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  return last;
}
