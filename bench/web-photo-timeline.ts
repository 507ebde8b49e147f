/**
 * Where a full-screen photo's time goes, from the server's draw to spiced's web viewer showing it:
 * one page in headless Chromium, photos drawn one at a time, and timestamps (epoch ms, one clock
 * on one machine) at each step: the server's encode (encodeStats) and its WebSocket sends, then in
 * the page each message's arrival on the display channel's WebSocket, the job posted to the decoding
 * worker, its reply (with the worker's decode time), the draw applied to the surface, the canvas
 * paint, and the watcher that sees the photo's corner at an animation frame.
 *
 *   npm run build && node dist/bench/web-photo-timeline.js [--photos N] [--query 'lz4=0']
 *
 * One line per photo (times in ms after the draw), then the p50 / p90 of the time to the corner shown.
 */
import { existsSync } from 'node:fs';
import WebSocket from 'ws';
import { encodeStats } from '../src/channels/display-items.js';
import type { PixelImage } from '../src/display/pixels.js';
import { HandDesktop, marked, serveForBrowser } from './hand-desktop.js';
import { renderLandscape } from '../src/sources/demo/photo.js';
import { argValue, CHROMIUM, numberArg } from './common.js';

const W = 1024;
const H = 768;

const now = (): number => performance.timeOrigin + performance.now();

/** Server side: when each WebSocket message over 100 kB (an image) was handed to ws. */
const sends: number[] = [];
const wsSend = WebSocket.prototype.send;
WebSocket.prototype.send = function (this: WebSocket, ...args: Parameters<WebSocket['send']>): void {
  const data = args[0] as { length?: number };
  if ((data.length ?? 0) > 100_000) sends.push(now());
  wsSend.apply(this, args);
} as WebSocket['send'];

/** In the page: wraps the session's display WebSocket, worker, display and canvas to note each step. */
const PROBE = `(() => {
  const T = () => performance.timeOrigin + performance.now();
  window.__tl = [];
  const L = (k, x) => window.__tl.push([k, T(), x]);
  const s = window.spiced.session;
  const ws = s.channels.get(2).ws;
  const onmessage = ws.onmessage;
  ws.onmessage = (ev) => { if (ev.data.byteLength > 100000) L('recv', ev.data.byteLength); onmessage.call(ws, ev); };
  const w = s.decoder && s.decoder.worker;
  if (w) {
    const post = w.postMessage.bind(w);
    w.postMessage = (job, transfer) => { L('post'); post(job, transfer); };
    const reply = w.onmessage;
    w.onmessage = (ev) => { L('reply', ev.data.ms); reply.call(w, ev); };
  }
  const d = s.display;
  const apply = d.apply.bind(d);
  d.apply = (m, decoded) => { const r = apply(m, decoded); if (m.kind === 'drawCopy') L('applied'); return r; };
  const v = window.spiced.view;
  const paint = v.paint.bind(v);
  v.paint = () => { paint(); L('painted'); };
  window.__want = null;
  const loop = () => {
    const want = window.__want;
    if (want) {
      const px = v.canvas.getContext('2d').getImageData(want.x, want.y, 1, 1).data;
      if (px[0] === want.r && px[1] === want.g && px[2] === want.b) { L('seen'); window.__want = null; window.__seen(); }
    }
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
})()`;

/** Photo `k`, a landscape of its own (no part of it in the page's image cache), its corner marked. */
function photo(k: number, colour: number): PixelImage {
  return marked(renderLandscape(W, H, 10 + k), colour);
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`);
  const photos = numberArg('--photos', 16);
  const query = `resize=0&audio=off&${argValue('--query', '')}`;
  const source = new HandDesktop(W, H);
  const server = await serveForBrowser(source);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu'],
  });
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  await page.goto(`http://127.0.0.1:${server.plainPort!}/?${query}`);
  await page.waitForSelector('canvas#display');
  await new Promise((r) => setTimeout(r, 1500)); // the first screen, and the JIT warmed by it
  await page.evaluate(PROBE);
  const shown: number[] = [];
  for (let k = 0; k < photos; k++) {
    const c = (((k * 53 + 17) & 0xff) << 16) | (((k * 97 + 101) & 0xff) << 8) | ((k * 29 + 7) & 0xff);
    const img = photo(k, c);
    await page.evaluate(
      `window.__tl = []; window.__want = { x: ${W - 8}, y: ${H - 8}, r: ${(c >> 16) & 255}, g: ${(c >> 8) & 255}, b: ${c & 255} }`,
    );
    const seen = page.evaluate('new Promise((resolve) => { window.__seen = resolve; setTimeout(resolve, 10000); })');
    sends.length = 0;
    const encoded = encodeStats.ms;
    const t0 = now();
    source.sink.display({ kind: 'copy', surfaceId: 0, dest: { top: 0, left: 0, bottom: H, right: W }, image: img });
    await seen;
    const steps = (await page.evaluate('window.__tl')) as [string, number, number | undefined][];
    const at = (t: number): string => (t - t0).toFixed(1);
    const shownAt = steps.find((s) => s[0] === 'seen')?.[1];
    if (shownAt !== undefined) shown.push(shownAt - t0);
    const page_ = steps.map(([what, t, x]) => `${what}${x === undefined ? '' : `(${x.toFixed(0)})`}@${at(t)}`);
    console.log(
      `#${k} shown ${shownAt === undefined ? 'never' : at(shownAt)} | server: encode ${(encodeStats.ms - encoded).toFixed(1)} ms, sent ${sends.map(at).join(',')} | page: ${page_.join(' ')}`,
    );
    await new Promise((r) => setTimeout(r, 300));
  }
  shown.sort((a, b) => a - b);
  const p = (q: number): string => shown[Math.min(shown.length - 1, Math.floor(q * shown.length))]!.toFixed(1);
  console.log(`shown after the draw: p50 ${p(0.5)} ms, p90 ${p(0.9)} ms (${shown.length} photos, ?${query})`);
  await browser.close();
  await server.stop();
}

await main();
