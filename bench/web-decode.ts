/**
 * The web viewer's image decoders in Chromium against the same code in Node: one 1024x768 photo
 * (a landscape, as bench/web-viewer.ts draws) encoded as QUIC, LZ and LZ4, decoded N times by the
 * viewer's own decoding worker (dist/web/decode-worker.js, the bundle the page ships, fed jobs as
 * the page feeds it) and N times in this process. Prints the first decode and the median and
 * least of the rest, ms, per codec and place.
 *
 *   npm run build && node dist/bench/web-decode.js [--runs N]
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeCompressedImage } from '../src/client/images.js';
import { encodeLz4 } from '../src/display/lz4.js';
import { encodeLz } from '../src/display/lz.js';
import { encodeQuic } from '../src/display/quic.js';
import { ImageType } from '../src/protocol/constants.js';
import { findViewerDir } from '../src/server/web.js';
import { renderLandscape } from '../src/sources/demo/photo.js';
import { CHROMIUM, median, numberArg } from './common.js';

const W = 1024;
const H = 768;

interface Codec {
  name: string;
  type: number;
  bytes: Buffer;
}

/** "first F, median M, least L" of decode times, the first (cold) one apart. */
function summary(ms: number[]): string {
  const rest = ms.slice(1);
  const f = (x: number): string => x.toFixed(1).padStart(7);
  return `first ${f(ms[0]!)}  median ${f(median(rest))}  least ${f(Math.min(...rest))}`;
}

/** The blank page and the worker's bundle, on a loopback port (the page's origin for the worker). */
async function serveWorker(viewerDir: string): Promise<Server> {
  const worker = readFileSync(`${viewerDir}/decode-worker.js`);
  const server = createServer((req, res) => {
    if (req.url === '/decode-worker.js') res.setHeader('content-type', 'text/javascript').end(worker);
    else res.setHeader('content-type', 'text/html').end('<!doctype html><title>decode</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/**
 * In the page: `runs` jobs of the same image to a fresh decoding worker, one after the other, each
 * with its own copy of the bytes (transferred, as the page does); the worker's own times (ms).
 */
const IN_WORKER = (type: number, base64: string, runs: number): string => `(async () => {
  const bytes = Uint8Array.from(atob(${JSON.stringify(base64)}), (c) => c.charCodeAt(0));
  const worker = new Worker('/decode-worker.js', { name: 'spiced-decoder' });
  const times = [];
  for (let id = 1; id <= ${runs}; id++) {
    const copy = bytes.slice().buffer;
    const reply = await new Promise((resolve) => {
      worker.onmessage = (ev) => resolve(ev.data);
      worker.postMessage({ id, type: ${type}, width: ${W}, height: ${H}, maxPixels: ${W * H}, bytes: copy }, [copy]);
    });
    if (!reply.ok) throw new Error(reply.message);
    times.push(reply.ms);
  }
  worker.terminate();
  return times;
})()`;

function inNode(codec: Codec, runs: number): number[] {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    decodeCompressedImage({ type: codec.type, width: W, height: H }, codec.bytes, undefined);
    times.push(performance.now() - t0);
  }
  return times;
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`);
  const viewerDir = findViewerDir();
  if (!viewerDir) throw new Error('the web viewer is not built (npm run build)');
  const runs = numberArg('--runs', 30);
  const photo = renderLandscape(W, H, 3);
  const codecs: Codec[] = [
    { name: 'QUIC', type: ImageType.Quic, bytes: encodeQuic(photo) },
    { name: 'LZ', type: ImageType.LzRgb, bytes: encodeLz(photo) },
    { name: 'LZ4', type: ImageType.Lz4, bytes: encodeLz4(photo) },
  ];
  const server = await serveWorker(viewerDir);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  console.log(`decode of one ${W}x${H} photo, ${runs} times each (ms)`);
  for (const codec of codecs) {
    const worker = (await page.evaluate(IN_WORKER(codec.type, codec.bytes.toString('base64'), runs))) as number[];
    const size = `${codec.name} (${codec.bytes.length} bytes)`.padEnd(20);
    console.log(`${size} page's worker  ${summary(worker)}`);
    console.log(`${size} Node           ${summary(inNode(codec, runs))}`);
  }
  await browser.close();
  server.close();
}

await main();
