/**
 * X11 capture benchmark: a private Xvfb 1280x800x24 served by a SpiceServer + X11Source in a
 * child process (bench/x11-server.ts: its CPU is the server's alone), watched by the project's
 * SpiceClient (display channel, drawing every message) in this process, drawn on by our own X
 * client (bench/x11-draw.ts). Measures:
 *  - latency from an X drawing request to the viewer showing it (bench/x11-latency.ts), on a quiet
 *    screen and next to a busy animation, with X11Source's default frame interval and with none;
 *  - server CPU, bytes and achieved rate for full-screen changes (bench/x11-load.ts);
 *  - what an idle screen and an xterm blinking its cursor cost over a few seconds.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/x11.js [--samples 200] [--changes 40] [--seconds 10]
 *
 * Skipped (with a message) when Xvfb is not installed; the blinking-cursor row needs xterm.
 */
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { allocImage, type PixelImage } from '../src/display/pixels.js';
import { startXvfb, type XvfbHandle } from '../src/sources/x11/xvfb.js';
import { makePhotoImage } from './lz.js';
import { XDrawer } from './x11-draw.js';
import { measureLatency, type LatencyResult } from './x11-latency.js';
import { measureFullScreen, measureIdle, type ChangeKind, type FullScreenResult, type LoadWindow } from './x11-load.js';
import { ServerProcess } from './x11-server.js';
import { Viewer, sleep, type Rig } from './x11-viewer.js';
import { formatX11Results, type X11Result } from './x11-format.js';

export { formatX11Results, type X11Result } from './x11-format.js';

export interface X11BenchOptions {
  /** Latency probes per case. */
  samples: number;
  /** Full-screen changes per case. */
  changes: number;
  /** Length of the idle and blinking-cursor windows. */
  seconds: number;
  /** X11Source frameIntervalMs values to compare (undefined = its default, 33 ms). */
  intervals: readonly (number | undefined)[];
}

export const DEFAULT_X11_OPTIONS: X11BenchOptions = {
  samples: 200,
  changes: 40,
  seconds: 10,
  intervals: [undefined, 0],
};

const WIDTH = 1280;
const HEIGHT = 800;
const SIZE = `${WIDTH}x${HEIGHT}`;
const GAP_MS = 50;
const CHANGE_KINDS: readonly ChangeKind[] = ['solid', 'photo, 2 alternating', 'photo, each new'];
/**
 * xterm with a blinking text cursor (default 600 ms on, 300 ms off) once it has the focus; 80x24 at
 * the top left, away from the pointer (screen centre), so that it does not get the focus by itself.
 */
const XTERM = ['xterm', '-bc', '-geometry', '80x24+0+0'];
const XTERM_STARTUP_MS = 2000;
const XTERM_STEADY = 'xterm, steady cursor';

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** The photo mirrored left to right: as photo-like, and different in nearly every pixel. */
function mirrored(img: PixelImage): PixelImage {
  const out = allocImage(img.width, img.height);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++)
      out.data.writeUInt32LE(img.data.readUInt32LE(y * img.stride + (img.width - 1 - x) * 4), y * out.stride + x * 4);
  }
  return out;
}

/** A server child and a connected viewer for one display; always torn down. */
async function withServer<T>(
  xvfb: XvfbHandle,
  frameIntervalMs: number | undefined,
  body: (rig: Rig) => Promise<T>,
): Promise<T> {
  const server = await ServerProcess.start({ display: xvfb.display, frameIntervalMs });
  let viewer: Viewer | undefined;
  try {
    viewer = await Viewer.connect(server.port);
    const out = await body({ display: xvfb.display, xvfbPid: xvfb.xvfbPid, server, viewer });
    if (viewer.errors.length > 0)
      throw new Error(`X11 bench: the viewer failed to apply messages: ${viewer.errors.slice(0, 3).join('; ')}`);
    return out;
  } finally {
    viewer?.close();
    await server.stop();
  }
}

/** Every case for one frame interval on the shared Xvfb. */
async function runInterval(
  xvfb: XvfbHandle,
  interval: number | undefined,
  opts: X11BenchOptions,
  photos: readonly [PixelImage, PixelImage],
  withIdle: boolean,
): Promise<X11Result[]> {
  return withServer(xvfb, interval, async (rig) => {
    const out: X11Result[] = [
      { suite: 'x11', kind: 'setup', capture: rig.server.capture, detection: rig.server.detection, size: SIZE },
    ];
    const frameIntervalMs = interval ?? 'default';
    if (withIdle) {
      await rig.viewer.settle(200);
      out.push(idleResult('idle root window', opts.seconds, await measureIdle(rig, opts.seconds)));
    }
    for (const busy of [false, true]) {
      const result: LatencyResult = await measureLatency(rig, {
        samples: opts.samples,
        gapMs: GAP_MS,
        busy,
        seed: busy ? 2 : 1,
      });
      out.push({ suite: 'x11', kind: 'latency', frameIntervalMs, busy, result });
      await rig.viewer.settle(200);
    }
    for (const kind of CHANGE_KINDS) {
      const result: FullScreenResult = await measureFullScreen(rig, kind, opts.changes, photos);
      out.push({ suite: 'x11', kind: 'fullScreen', frameIntervalMs, result });
    }
    return out;
  });
}

function idleResult(scene: string, seconds: number, window: LoadWindow, baseline?: string): X11Result {
  return { suite: 'x11', kind: 'idle', scene, seconds, result: window, ...(baseline ? { baseline } : {}) };
}

async function focusXterm(display: string): Promise<void> {
  const drawer = await XDrawer.open(display);
  try {
    if (!(await drawer.focusTopWindow())) throw new Error('X11 bench: xterm has no window on the screen');
  } finally {
    drawer.close();
  }
}

/**
 * An xterm alone on its own Xvfb: first unfocused (steady hollow cursor: the baseline, pointer
 * polling and all), then focused, blinking its cursor; `seconds` each, one server throughout.
 */
async function runBlink(opts: X11BenchOptions): Promise<X11Result[]> {
  const xvfb = await startXvfb({ size: SIZE, command: XTERM });
  try {
    await sleep(XTERM_STARTUP_MS); // xterm maps its window and draws its first screen
    return await withServer(xvfb, undefined, async (rig) => {
      await sleep(1000);
      const steady = idleResult(XTERM_STEADY, opts.seconds, await measureIdle(rig, opts.seconds));
      await focusXterm(xvfb.display);
      await sleep(500);
      const blinking = idleResult(
        'xterm, blinking cursor',
        opts.seconds,
        await measureIdle(rig, opts.seconds),
        XTERM_STEADY,
      );
      return [steady, blinking];
    });
  } finally {
    await xvfb.stop();
  }
}

export async function runX11Bench(options: Partial<X11BenchOptions> = {}): Promise<X11Result[]> {
  const opts = { ...DEFAULT_X11_OPTIONS, ...options };
  if (!onPath('Xvfb'))
    return [
      { suite: 'x11', kind: 'skipped', reason: 'Xvfb is not installed (apt-get install xvfb): X11 bench skipped' },
    ];
  const photo = makePhotoImage(WIDTH, HEIGHT);
  const photos: readonly [PixelImage, PixelImage] = [photo, mirrored(photo)];
  const results: X11Result[] = [];
  const xvfb = await startXvfb({ size: SIZE });
  try {
    for (const [i, interval] of opts.intervals.entries())
      results.push(...(await runInterval(xvfb, interval, opts, photos, i === 0)));
  } finally {
    await xvfb.stop();
  }
  if (onPath('xterm')) results.push(...(await runBlink(opts)));
  else results.push({ suite: 'x11', kind: 'skipped', reason: 'xterm is not installed: blinking-cursor case skipped' });
  return results;
}

function parseArgs(argv: readonly string[]): Partial<X11BenchOptions> {
  const out: Partial<X11BenchOptions> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const value = Number(argv[i + 1]);
    if (!Number.isInteger(value) || value <= 0)
      throw new Error(`usage: x11.js [--samples N] [--changes N] [--seconds N] (got ${argv[i]} ${argv[i + 1]})`);
    if (argv[i] === '--samples') out.samples = value;
    else if (argv[i] === '--changes') out.changes = value;
    else if (argv[i] === '--seconds') out.seconds = value;
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return out;
}

async function main(): Promise<void> {
  console.log(formatX11Results(await runX11Bench(parseArgs(process.argv.slice(2)))));
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
