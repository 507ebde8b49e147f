import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { SpiceServer } from '../src/server/server.js';
import { allocImage, countRgbDifferences, sameRgb, type PixelImage } from '../src/display/pixels.js';
import type { DisplaySink, DisplaySource, InputEvent } from '../src/seam/index.js';
import { renderLandscape } from '../src/sources/demo/photo.js';
import { DEFAULT_VIDEO_OPTIONS } from '../src/video/streams.js';
import { launchChromium, VIEWER_CANVAS, waitForCanvas } from './helpers/browser.js';
import { lacking, skipNote } from './helpers/probes.js';

/*
 * The viewer decodes large images in a worker (src/web/decode-worker.ts): the canvas stays exact,
 * the main thread's decode time stays near nothing for full-screen QUIC photos, a key pressed while
 * a photo decodes is not held behind it, and without a worker the page decodes on its main thread.
 */
const why = lacking('chromium');
const W = 1024;
const H = 768;
/** Photos as QUIC (what viewers on links under 100 Mbit/s get), no sound, the desktop's own size. */
const QUERY = 'lz4=0&audio=off&resize=0';

/** A desktop of full-screen photos drawn on demand; it notes when each input event arrived. */
class PhotoSource implements DisplaySource {
  readonly name = 'photos';
  readonly inputs: { ev: InputEvent; at: number }[] = [];
  private sink: DisplaySink | undefined;

  start(sink: DisplaySink): void {
    this.sink = sink;
    sink.display({ kind: 'surfaceCreate', surfaceId: 0, width: W, height: H, primary: true });
    this.photo(0);
  }

  stop(): void {}

  input(ev: InputEvent): void {
    this.inputs.push({ ev, at: Date.now() });
  }

  fill(rect: { top: number; left: number; bottom: number; right: number }, color: number): void {
    this.sink!.display({ kind: 'fill', surfaceId: 0, rect, color });
  }

  /** Photo `k` (one of three landscapes, a corner of a colour of its own) over the whole screen. */
  photo(k: number): void {
    const img = withCorner(renderLandscape(W, H, 1 + (k % 3)), (k * 0x3a5f17) & 0xffffff);
    this.sink!.display({ kind: 'copy', surfaceId: 0, dest: { top: 0, left: 0, bottom: H, right: W }, image: img });
  }
}

function withCorner(img: PixelImage, colour: number): PixelImage {
  const out = allocImage(img.width, img.height);
  img.data.copy(out.data);
  for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) out.data.writeUInt32LE(colour, (y * img.width + x) * 4);
  return out;
}

interface Counters {
  offloaded: number;
  decoded: number;
  workerMs: number;
  mainMs: number;
  busy: number;
  failure: string | null;
}

async function counters(page: Page): Promise<Counters> {
  return (await page.evaluate(`(() => {
    const s = window.spiced.session;
    const d = s.decoder;
    return {
      offloaded: s.offloaded,
      decoded: d ? d.decoded : 0,
      workerMs: d ? d.workerMs : 0,
      mainMs: s.decodeMs,
      busy: d ? d.busy : 0,
      failure: d ? d.failure ?? null : 'no decoder',
    };
  })()`)) as Counters;
}

describe.skipIf(why !== '')(`the web viewer's decoding worker${skipNote(why)}`, () => {
  let browser: Browser;
  const source = new PhotoSource();
  let server: SpiceServer;
  let photos = 0;

  /** Draw the next photo and wait until the page's canvas equals the server's screen. */
  async function photoShown(page: Page): Promise<void> {
    source.photo(++photos);
    const shown = await waitForCanvas(page, (img) => sameRgb(img, server.desktop.primary!), 20_000, VIEWER_CANVAS);
    expect(shown && countRgbDifferences(shown, server.desktop.primary!)).toBe(0);
  }

  async function open(query = QUERY): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`http://127.0.0.1:${server.plainPort}/?${query}`);
    const shown = await waitForCanvas(page, (img) => sameRgb(img, server.desktop.primary!), 20_000, VIEWER_CANVAS);
    expect(shown && countRgbDifferences(shown, server.desktop.primary!)).toBe(0);
    return page;
  }

  beforeAll(async () => {
    // No video streams: every photo is an image, as the bench's.
    server = new SpiceServer({
      source,
      port: 0,
      audio: false,
      display: { video: { ...DEFAULT_VIDEO_OPTIONS, enabled: false } },
    });
    await server.start();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('QUIC photos are decoded in the worker: the canvas exact, the main thread decodes next to nothing', async () => {
    const page = await open();
    const before = await counters(page);
    for (let i = 0; i < 3; i++) await photoShown(page);
    const after = await counters(page);
    expect(after.failure).toBeNull();
    expect(after.offloaded - before.offloaded).toBeGreaterThanOrEqual(3);
    expect(after.decoded - before.decoded).toBeGreaterThanOrEqual(3);
    const workerMs = after.workerMs - before.workerMs;
    const mainMs = after.mainMs - before.mainMs;
    // QUIC at 1024x768 is tens of ms a photo even on a quiet machine; the main thread's part is a copy.
    expect(workerMs).toBeGreaterThan(30);
    expect(mainMs, `main thread ${mainMs.toFixed(1)} ms, worker ${workerMs.toFixed(1)} ms`).toBeLessThan(workerMs / 4);
    await page.close();
  });

  it('a key pressed while a QUIC photo decodes reaches the server sooner than the decode takes', async () => {
    const page = await open();
    await page.click(VIEWER_CANVAS, { position: { x: 500, y: 400 } });
    const before = await counters(page);
    source.inputs.length = 0;
    source.photo(++photos);
    // The photo's job is in the worker: now the key.
    const deadline = Date.now() + 10_000;
    let decoding = false;
    while (!decoding && Date.now() < deadline) decoding = (await counters(page)).busy > 0;
    expect(decoding, 'the photo never went to the worker').toBe(true);
    const pressed = Date.now();
    await page.keyboard.down('KeyQ');
    while (!source.inputs.some((i) => i.ev.kind === 'key') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 1));
    const arrived = source.inputs.find((i) => i.ev.kind === 'key')?.at;
    await page.keyboard.up('KeyQ');
    const shown = await waitForCanvas(page, (img) => sameRgb(img, server.desktop.primary!), 20_000, VIEWER_CANVAS);
    expect(shown && countRgbDifferences(shown, server.desktop.primary!)).toBe(0);
    const after = await counters(page);
    const decodeMs = (after.workerMs - before.workerMs) / Math.max(1, after.decoded - before.decoded);
    expect(arrived, 'the key never reached the server').toBeDefined();
    const keyMs = arrived! - pressed;
    expect(keyMs, `key ${keyMs} ms, decode ${decodeMs.toFixed(1)} ms`).toBeLessThan(decodeMs);
    await page.close();
  });

  it("the page's display queue holds no more than the ACK window lets the server send, however slow the worker", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    // The worker takes 300 ms more per image: messages wait behind each photo's decode.
    await page.route('**/decode-worker.js*', async (route) => {
      if (new URL(route.request().url()).searchParams.has('real')) return route.continue();
      await route.fulfill({
        contentType: 'text/javascript',
        body: `importScripts('decode-worker.js?real');
          const decode = self.onmessage;
          self.onmessage = (ev) => { const end = Date.now() + 300; while (Date.now() < end); decode(ev); };`,
      });
    });
    await page.goto(`http://127.0.0.1:${server.plainPort}/?${QUERY}`);
    await waitForCanvas(page, (img) => sameRgb(img, server.desktop.primary!), 20_000, VIEWER_CANVAS);
    // A photo for the slow worker, then 300 small fills, each a message of its own, none covering another.
    source.photo(++photos);
    for (let i = 0; i < 300; i++) {
      const x = 16 * (i % 60);
      const y = 600 + 8 * Math.floor(i / 60);
      source.fill({ top: y, left: x, bottom: y + 8, right: x + 16 }, (i * 0x10357) & 0xffffff);
    }
    const shown = await waitForCanvas(page, (img) => sameRgb(img, server.desktop.primary!), 30_000, VIEWER_CANVAS);
    expect(shown && countRgbDifferences(shown, server.desktop.primary!)).toBe(0);
    const s = (await page.evaluate(
      '({ max: window.spiced.session.maxQueued, decoded: window.spiced.session.decoder.decoded })',
    )) as { max: number; decoded: number };
    expect(s.decoded).toBeGreaterThan(0);
    // The display channel's ACK window is 20 messages: the server stops past 2 x 20 unacknowledged
    // (an item may add an INVAL_LIST), and the page acknowledges a message once it is applied.
    expect(s.max).toBeGreaterThan(1);
    expect(s.max).toBeLessThanOrEqual(2 * 20 + 2);
    await page.close();
  });

  it('without a Worker (none in this browser) the page decodes on its main thread, exact all the same', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.addInitScript('Object.defineProperty(window, "Worker", { value: undefined })');
    await page.goto(`http://127.0.0.1:${server.plainPort}/?${QUERY}`);
    await waitForCanvas(page, (img) => sameRgb(img, server.desktop.primary!), 20_000, VIEWER_CANVAS);
    await photoShown(page);
    const c = await counters(page);
    expect(c.failure).toMatch(/^no decoding worker/);
    expect(c.offloaded).toBe(0);
    expect(c.mainMs).toBeGreaterThan(30);
    await page.close();
  });

  it("when the worker's script does not load, the images sent to it are decoded on the main thread", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.route('**/decode-worker.js', (route) => route.abort());
    await page.goto(`http://127.0.0.1:${server.plainPort}/?${QUERY}`);
    const shown = await waitForCanvas(page, (img) => sameRgb(img, server.desktop.primary!), 20_000, VIEWER_CANVAS);
    expect(shown && countRgbDifferences(shown, server.desktop.primary!)).toBe(0);
    await photoShown(page);
    const c = await counters(page);
    expect(c.failure).toMatch(/^the decoding worker failed/);
    expect(c.decoded).toBe(0);
    await page.close();
  });
});
