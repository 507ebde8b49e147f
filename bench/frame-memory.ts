/**
 * Memory while whole frames stream to one viewer, as in a window drag (issue 18.1): a source
 * hands over a fresh 1280x800 capture per frame, a viewer on loopback takes them. Prints the
 * heap and buffer memory still held once the frames have gone and the viewer shows the last one
 * (after a full collection), and the process's peak RSS.
 *
 *   npm run build && node --expose-gc dist/bench/frame-memory.js [frames] [fps]
 *
 * Server and viewer share this process, so peak RSS includes the viewer's decoding; the viewer
 * keeps two surfaces (about 8 MB) and the server its own and a spare.
 */
import { pathToFileURL } from 'node:url';
import { SpiceClient } from '../src/client/client.js';
import { allocImage, sameRgb, type PixelImage } from '../src/display/pixels.js';
import { SpiceServer } from '../src/server/server.js';
import { FeedSource } from '../src/sources/feed.js';

const WIDTH = 1280;
const HEIGHT = 800;

export interface FrameMemoryResult {
  frames: number;
  fps: number;
  /** Heap and ArrayBuffer memory (MB) after a full collection, before the frames and after. */
  before: { heapMB: number; buffersMB: number };
  after: { heapMB: number; buffersMB: number };
  peakRssMB: number;
}

/** A capture: a gradient whose phase moves with the frame number, each in memory of its own. */
function capture(n: number): PixelImage {
  const img = allocImage(WIDTH, HEIGHT);
  const px = new Uint32Array(img.data.buffer, img.data.byteOffset, WIDTH * HEIGHT);
  for (let y = 0; y < HEIGHT; y++) {
    const row = ((y + n * 7) & 0xff) << 8;
    for (let x = 0; x < WIDTH; x++) px[y * WIDTH + x] = row | ((x + n) & 0xff);
  }
  return img;
}

function memory(): { heapMB: number; buffersMB: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  const m = process.memoryUsage();
  return { heapMB: m.heapUsed / 1e6, buffersMB: m.arrayBuffers / 1e6 };
}

export async function runFrameMemoryBench(frames = 150, fps = 15): Promise<FrameMemoryResult> {
  const feed = new FeedSource();
  feed.push({ kind: 'surfaceCreate', surfaceId: 0, width: WIDTH, height: HEIGHT, primary: true });
  // No image cache: every frame is new content anyway, and the viewer's cache (in this process)
  // would hold 80 MB of them, hiding what the server holds.
  const server = new SpiceServer({ source: feed, port: 0, listen: '127.0.0.1', display: { imageCache: false } });
  await server.start();
  const viewer = new SpiceClient({ port: server.port, channels: [2] });
  try {
    await viewer.connect();
    await viewer.waitFor(() => viewer.display.marks > 0, 10_000, 'first frame');
    const before = memory();
    for (let n = 1; n <= frames; n++) {
      feed.push({
        kind: 'copy',
        surfaceId: 0,
        dest: { top: 0, left: 0, bottom: HEIGHT, right: WIDTH },
        image: capture(n),
      });
      await new Promise((resolve) => setTimeout(resolve, 1000 / fps));
    }
    await viewer.waitFor(() => sameRgb(viewer.display.primary!, server.desktop.primary!), 60_000, 'the last frame');
    const after = memory();
    return { frames, fps, before, after, peakRssMB: process.resourceUsage().maxRSS / 1e3 };
  } finally {
    viewer.close();
    await server.stop();
  }
}

export function formatFrameMemoryResult(r: FrameMemoryResult): string {
  const f = (m: { heapMB: number; buffersMB: number }): string =>
    `heap ${m.heapMB.toFixed(1)} MB, buffers ${m.buffersMB.toFixed(1)} MB`;
  return [
    `${r.frames} frames of ${WIDTH}x${HEIGHT} at ${r.fps} fps to one viewer (${((r.frames * WIDTH * HEIGHT * 4) / 1e6).toFixed(0)} MB of captures)`,
    `before: ${f(r.before)}`,
    `after:  ${f(r.after)}`,
    `peak RSS ${r.peakRssMB.toFixed(0)} MB`,
  ].join('\n');
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  const [frames, fps] = process.argv.slice(2).map(Number);
  runFrameMemoryBench(frames || undefined, fps || undefined)
    .then((r) => console.log(formatFrameMemoryResult(r)))
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
