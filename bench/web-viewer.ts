/**
 * spiced's web viewer against spice-html5 in the same headless Chromium, on the same workloads:
 * the time from a draw on the server to the canvas showing it (p50/p95) for small fills and for
 * full-screen photos, the main-thread busy time of the page while the demo desktop animates, and
 * the bundle's size. Both viewers are served by spiced itself (/ and /spice-html5/). Video streams
 * are off so that both get the same lossless images.
 *
 *   npm run build && node dist/bench/web-viewer.js [--small N] [--photos N] [--cpu-seconds S]
 */
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import type { PixelImage } from '../src/display/pixels.js';
import type { DisplaySink } from '../src/seam/index.js';
import type { SpiceServer } from '../src/server/server.js';
import { HandDesktop, marked, serveForBrowser } from './hand-desktop.js';
import { findHtml5Dir, findViewerDir } from '../src/server/web.js';
import { DemoSource } from '../src/sources/demo/demo-source.js';
import { renderLandscape } from '../src/sources/demo/photo.js';
import { CHROMIUM, numberArg } from './common.js';

const W = 1024;
const H = 768;

interface Viewer {
  name: string;
  path: string;
  canvas: string;
  /** Sent only to spiced's viewer (spice-html5 takes no such options). */
  query?: string;
}

const SPICED = { path: '/', canvas: 'canvas#display' };
const VIEWERS: Viewer[] = [
  { name: 'spiced web viewer', ...SPICED, query: 'resize=0&audio=off' },
  // The same with every image decoded on the page's main thread, as before the decoding worker.
  { name: 'spiced, no worker', ...SPICED, query: 'resize=0&audio=off&worker=0' },
  // The same page with photos as QUIC, as every other viewer gets them: what the decoder alone does.
  { name: 'spiced, QUIC photos', ...SPICED, query: 'resize=0&audio=off&lz4=0' },
  // QUIC photos decoded on the page's main thread, as before the decoding worker.
  { name: 'spiced, QUIC, no worker', ...SPICED, query: 'resize=0&audio=off&lz4=0&worker=0' },
  { name: 'spice-html5', path: '/spice-html5/', canvas: 'canvas#spice_surface_0' },
];

function median(xs: number[]): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A colour no earlier iteration used at the same spot (never the background). */
function colourOf(i: number): number {
  return (((i * 53 + 17) & 0xff) << 16) | (((i * 97 + 101) & 0xff) << 8) | ((i * 29 + 7) & 0xff);
}

/**
 * In the page: at every animation frame, read one pixel of the canvas; when it turns the colour
 * asked for, note the time (epoch ms, comparable with this process's on the same machine) and hand
 * it to whoever waits for it (waitMark).
 */
const WATCHER = (canvas: string): string => `(() => {
  window.__marks = [];
  window.__want = null;
  window.__waiter = null;
  const loop = () => {
    const w = window.__want;
    const c = document.querySelector(${JSON.stringify(canvas)});
    if (w && c) {
      const d = c.getContext('2d').getImageData(w.x, w.y, 1, 1).data;
      if (d[0] === w.r && d[1] === w.g && d[2] === w.b) {
        const t = performance.timeOrigin + performance.now();
        window.__marks.push(t);
        window.__want = null;
        if (window.__waiter) window.__waiter(t);
        window.__waiter = null;
      }
    }
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
})()`;

const now = (): number => performance.timeOrigin + performance.now();

/**
 * The time the watcher saw the colour asked for: one call that the page answers when it does, not
 * a poll (polling the page every few ms took a core's share from a decoding worker on 2 cores).
 */
async function waitMark(page: Page, timeoutMs = 10_000): Promise<number | undefined> {
  const t = (await page.evaluate(`new Promise((resolve) => {
    if (window.__marks.length > 0) return resolve(window.__marks[0]);
    window.__waiter = resolve;
    setTimeout(() => resolve(null), ${timeoutMs});
  })`)) as number | null;
  return t ?? undefined;
}

/** Where a draw shows and in what colour: the pixel the page's watcher waits for. */
interface Spot {
  x: number;
  y: number;
  colour: number;
}

/** Draw number `i` on `sink` when `now`, else only say where it will show. */
type Draw = (sink: DisplaySink, i: number, now: boolean) => Spot;

/** One viewer under test: its server (drawn on by hand), its page, and the latencies gathered. */
interface Rig {
  viewer: Viewer;
  source: HandDesktop;
  server: SpiceServer;
  page: Page;
  /** The page's main-thread task time so far (CDP TaskDuration), seconds. */
  taskTime: () => Promise<number>;
  small: number[];
  photo: number[];
  /** The page's main-thread time from each photo's draw to its showing, ms: its CPU, whatever the load. */
  photoCpu: number[];
  /** spiced's page only: of that, decoding and applying the display messages on the main thread, ms. */
  photoDecode: number[];
  /** spiced's page only: the decoding worker's time per photo (not on the main thread), ms. */
  photoWorker: number[];
  /** spiced's page only: of that, copying the surface's pixels to the canvas, ms. */
  photoPaint: number[];
}

/**
 * spiced's page counts its main-thread decode, paint and worker decode time (undefined for
 * spice-html5, which does not).
 */
async function decodePaint(page: Page): Promise<[number, number, number] | undefined> {
  const s = 'window.spiced.session';
  return (
    ((await page.evaluate(
      `window.spiced && ${s} ? [${s}.decodeMs, window.spiced.view.paintMs, ${s}.decoder ? ${s}.decoder.workerMs : 0] : null`,
    )) as [number, number, number] | null) ?? undefined
  );
}

/** Draw `i` on the rig's desktop and wait until its page shows it; returns the latency. */
async function latency(rig: Rig, i: number, draw: Draw): Promise<number> {
  const { page } = rig;
  const spot = draw(rig.source.sink, i, false); // where and what, without drawing yet
  const c = spot.colour;
  await page.evaluate(
    `window.__marks = []; window.__want = { x: ${spot.x}, y: ${spot.y}, r: ${(c >> 16) & 0xff}, g: ${(c >> 8) & 0xff}, b: ${c & 0xff} }`,
  );
  const t0 = now();
  draw(rig.source.sink, i, true);
  const t1 = await waitMark(page);
  if (t1 === undefined) throw new Error(`${rig.viewer.name}: draw ${i} never showed`);
  return t1 - t0;
}

async function openViewer(browser: Browser, port: number, v: Viewer): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  await page.goto(`http://127.0.0.1:${port}${v.path}${v.query ? `?${v.query}` : ''}`);
  await page.waitForSelector(v.canvas, { timeout: 15_000 });
  await new Promise((r) => setTimeout(r, 1000)); // the first frame, and the JIT warmed by it
  return page;
}

async function openRig(browser: Browser, v: Viewer): Promise<Rig> {
  const source = new HandDesktop(W, H);
  const server = await serveForBrowser(source);
  const page = await openViewer(browser, server.plainPort!, v);
  await page.evaluate(WATCHER(v.canvas));
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const taskTime = async (): Promise<number> => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return metrics.find((m) => m.name === 'TaskDuration')!.value;
  };
  return {
    viewer: v,
    source,
    server,
    page,
    taskTime,
    small: [],
    photo: [],
    photoCpu: [],
    photoDecode: [],
    photoPaint: [],
    photoWorker: [],
  };
}

/** A 32x32 fill somewhere on a row of the screen, in a colour of its own. */
function smallFill(sink: DisplaySink, k: number, now: boolean): Spot {
  const x = 64 + (k % 12) * 64;
  const spot = { x: x + 16, y: 200, colour: colourOf(k) };
  if (now)
    sink.display({
      kind: 'fill',
      surfaceId: 0,
      rect: { top: 184, left: x, bottom: 216, right: x + 32 },
      color: spot.colour,
    });
  return spot;
}

/**
 * Photo `k`: a landscape of its own for every k (the same one for every viewer), so that no part
 * of it is in a viewer's image cache: a viewer that gets photos in bands would otherwise find the
 * bands a repeated photo shares with an earlier one there, and draw them from its cache.
 */
let lastPhoto: { k: number; img: PixelImage } | undefined;
function photoOf(k: number): PixelImage {
  if (lastPhoto?.k !== k) lastPhoto = { k, img: renderLandscape(W, H, 1 + k) };
  return lastPhoto.img;
}

/** The photo the next fullPhoto(now) draws, made (rendered, marked) before the clock starts. */
let nextPhoto: { k: number; img: PixelImage } | undefined;

/** A full-screen photo (one of its own, photoOf) marked in its corner with a colour of its own. */
function fullPhoto(sink: DisplaySink, k: number, now: boolean): Spot {
  const spot = { x: W - 8, y: H - 8, colour: colourOf(k + 1000) };
  if (!now) nextPhoto = { k, img: marked(photoOf(k), spot.colour) };
  else
    sink.display({
      kind: 'copy',
      surfaceId: 0,
      dest: { top: 0, left: 0, bottom: H, right: W },
      image: nextPhoto?.k === k ? nextPhoto.img : marked(photoOf(k), spot.colour),
    });
  return spot;
}

/**
 * The rigs in the order draw `k` visits them: each in turn goes first. In a fixed order the first
 * page's photo always followed spice-html5's, whose page (another renderer process) was still at
 * work on the same two cores: that page showed its photos 7-19 ms later at p50 than the page after
 * it, though both took the same path (`?worker=0` only changes QUIC and whole-screen LZ4 images).
 */
function rotated<T>(rigs: T[], k: number): T[] {
  return rigs.map((_, j) => rigs[(k + j) % rigs.length]!);
}

/**
 * Every viewer's page open at once, each on its own server; each draw goes to one viewer after the
 * other (alternating, so that a change of the machine's load falls on all of them alike; rotated(),
 * so that none always follows the same one), and the next one only once the last is shown (an idle
 * page costs nothing meanwhile).
 */
async function drawLatencies(browser: Browser, viewers: Viewer[], smallN: number, photoN: number): Promise<Rig[]> {
  const rigs: Rig[] = [];
  for (const v of viewers) rigs.push(await openRig(browser, v));
  for (let k = 0; k < smallN; k++) {
    for (const rig of rotated(rigs, k)) {
      rig.small.push(await latency(rig, k, smallFill));
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  for (let k = 0; k < photoN; k++) {
    for (const rig of rotated(rigs, k)) {
      const cpu0 = await rig.taskTime();
      const split0 = await decodePaint(rig.page);
      rig.photo.push(await latency(rig, k, fullPhoto));
      rig.photoCpu.push((await rig.taskTime()) - cpu0);
      const split1 = await decodePaint(rig.page);
      if (split0 && split1) {
        rig.photoDecode.push(split1[0] - split0[0]);
        rig.photoPaint.push(split1[1] - split0[1]);
        rig.photoWorker.push(split1[2] - split0[2]);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  for (const rig of rigs) {
    await rig.page.close();
    await rig.server.stop();
  }
  return rigs;
}

/** Main-thread task time of the page per second of wall time while the demo animates. */
async function busyWhileAnimating(browser: Browser, v: Viewer, seconds: number): Promise<number> {
  const server = await serveForBrowser(new DemoSource({ width: W, height: H }));
  const page = await openViewer(browser, server.plainPort!, v);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const task = async (): Promise<number> => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return metrics.find((m) => m.name === 'TaskDuration')!.value;
  };
  const t0 = await task();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const busy = ((await task()) - t0) / ((performance.now() - w0) / 1000);
  await page.close();
  await server.stop();
  return busy;
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`);
  const viewerDir = findViewerDir();
  if (!viewerDir) throw new Error('the web viewer is not built (npm run build)');
  const viewers = findHtml5Dir() ? VIEWERS : VIEWERS.filter((v) => v.path === '/');
  const smallN = numberArg('--small', 200);
  const photoN = numberArg('--photos', 40);
  const cpuSeconds = numberArg('--cpu-seconds', 10);
  const { chromium } = await import('playwright-core');
  const args = [
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
  ];
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
  const js = readFileSync(`${viewerDir}/viewer.js`);
  const worker = readFileSync(`${viewerDir}/decode-worker.js`);
  console.log(
    `bundle: viewer.js ${js.length} bytes, ${gzipSync(js).length} gzipped; decode-worker.js ${worker.length} bytes, ${gzipSync(worker).length} gzipped; viewer.css ${readFileSync(`${viewerDir}/viewer.css`).length} bytes`,
  );
  console.log(
    `draw-to-canvas latency (ms), ${smallN} small fills (32x32), ${photoN} full-screen ${W}x${H} photos; photo CPU = the page's main-thread time per photo (median, ms), of which decode = decoding and applying the messages on the main thread and paint = surface to canvas; worker = the decoding worker's time per photo, off the main thread (spiced's page only); busy = page main-thread task time per second, demo animating ${cpuSeconds} s`,
  );
  console.log(
    [
      'viewer'.padEnd(24),
      'small p50',
      'small p95',
      'photo p50',
      'photo p95',
      'photo CPU',
      '   decode',
      '    paint',
      '   worker',
      'busy',
    ].join('  '),
  );
  const rigs = await drawLatencies(browser, viewers, smallN, photoN);
  const f = (x: number): string => x.toFixed(1).padStart(9);
  const photoP95 = new Map<string, number>();
  for (const rig of rigs) {
    const busy = await busyWhileAnimating(browser, rig.viewer, cpuSeconds);
    const small = [...rig.small].sort((a, b) => a - b);
    const photo = [...rig.photo].sort((a, b) => a - b);
    photoP95.set(rig.viewer.name, percentile(photo, 95));
    console.log(
      [
        rig.viewer.name.padEnd(24),
        f(percentile(small, 50)),
        f(percentile(small, 95)),
        f(percentile(photo, 50)),
        f(percentile(photo, 95)),
        f(1000 * median(rig.photoCpu)),
        rig.photoDecode.length ? f(median(rig.photoDecode)) : '        –',
        rig.photoPaint.length ? f(median(rig.photoPaint)) : '        –',
        rig.photoWorker.length ? f(median(rig.photoWorker)) : '        –',
        `${(busy * 100).toFixed(0).padStart(3)} %`,
      ].join('  '),
    );
  }
  const html5 = photoP95.get('spice-html5');
  if (html5 !== undefined) {
    for (const [name, p95] of photoP95) {
      if (name !== 'spice-html5') console.log(`photo p95: spice-html5 / ${name} = ${(html5 / p95).toFixed(2)}x`);
    }
  }
  await browser.close();
}

await main();
