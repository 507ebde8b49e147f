/**
 * Video over constrained links (issue 14): a 640x360 25 fps clip, made at bench time by ffmpeg panning
 * across a photograph (XFCE's wallpaper, with film grain), played by ffplay inside `spiced --xvfb`
 * beside an xterm where a character is typed every second. One viewer (the project's headless
 * client) takes the video as MJPEG streams, another the same server's lossless images (it announces
 * no codec), each on its own run, over:
 *   - loopback (a private network namespace, lo unconstrained),
 *   - the namespace's lo limited by `tc qdisc ... tbf` to 10 Mbit/s and to 2 Mbit/s.
 *
 *   npm run build && node dist/bench/video.js [--seconds 8] [--links lo,10,2]
 *
 * Printed per run: video frames reaching the viewer per second (stream frames; for images, turns in
 * which the video area was drawn), display bytes per second, the latency from a frame's capture to
 * its arrival at the viewer (streams only: the frame's stamp minus the playback delay against the
 * machine's monotonic clock, which is the server's multimedia clock), and the latency of a typed character in the xterm (key
 * sent to the glyph drawn in the viewer's framebuffer), p50/p95.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SpiceClient } from '../src/client/client.js';
import { collect } from '../replay/netns.js';
import { PLAYBACK_DELAY_MS } from '../src/video/viewer-video.js';
import { monotonicMs } from '../src/util/mm-time.js';

const CLIP_SECONDS = 12;
const PHOTO = '/usr/share/backgrounds/xfce/xfce-teal.jpg';
/** xterm -geometry 80x8+0+420: its text area. */
const XTERM = { top: 420, left: 0, bottom: 540, right: 500 };
const KEY_A = 0x1e;
/** A key every second; a glyph not shown within 900 ms counts as lost (the keys column says how many came). */
const KEY_EVERY_MS = 1000;
const KEY_WAIT_MS = 900;

interface RunFigures {
  link: string;
  viewer: 'streams' | 'images';
  fps: number;
  kbytesPerS: number;
  frameLatencyP50: number | null;
  frameLatencyP95: number | null;
  keyLatencyP50: number | null;
  keyLatencyP95: number | null;
  keys: number;
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The clip, made once: ffmpeg pans across the photograph and adds grain so no two frames repeat. */
export function makeClip(dir: string): string {
  const clip = join(dir, 'pan-640x360-25.avi');
  if (existsSync(clip)) return clip;
  const pan = "crop=640:360:x='(in_w-640)*(0.5+0.5*sin(t/2))':y='(in_h-360)*(0.5+0.5*cos(t/3))'";
  const vf = `scale=1600:-2,${pan},noise=alls=12:allf=t,format=yuv420p`;
  const args = ['-loglevel', 'error', '-y', '-loop', '1', '-i', PHOTO, '-vf', vf, '-t', String(CLIP_SECONDS)];
  const r = spawnSync('ffmpeg', [...args, '-r', '25', '-c:v', 'mjpeg', '-q:v', '3', clip], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('ffmpeg could not make the clip');
  return clip;
}

function freePortHere(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolve once something listens on `port` (spiced starts Xvfb and the session first). */
async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (performance.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** Sum of the region's bytes: changes when anything in it is drawn. */
function regionSum(v: SpiceClient, r: typeof XTERM): number {
  const s = v.display.primary;
  if (!s) return 0;
  let sum = 0;
  for (let y = r.top; y < r.bottom; y += 1) {
    const row = y * s.stride;
    for (let x = r.left; x < r.right; x += 1) sum = (sum + s.data[row + 4 * x]! * (x + 1)) % 1_000_000_007;
  }
  return sum;
}

/** One run, inside the namespace: spiced with the clip and an xterm, one viewer measured. */
async function worker(clip: string, seconds: number, streams: boolean, link: string): Promise<RunFigures> {
  const port = await freePortHere();
  const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  // ffplay (SDL) takes the keyboard focus when its window maps: give it back to the xterm.
  const player = `ffplay -loglevel error -noborder -left 0 -top 0 -loop 0 ${clip}`;
  const focus = 'xdotool search --sync --class xterm windowfocus';
  const session = `${player} & sleep 2; xterm -geometry 80x8+0+420 & sleep 1; ${focus}; wait`;
  const server = spawn(
    process.execPath,
    [cli, 'serve', '--xvfb', '--size', '1024x600', '-p', String(port), '--', 'sh', '-c', session],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let displayBytes = 0;
  try {
    await waitForPort(port, 60_000);
    await sleep(2000);
    let channel = 0;
    const v = new SpiceClient({
      port,
      channels: [2, 3],
      streams,
      connect: () =>
        new Promise((resolve, reject) => {
          const which = channel++;
          const sock = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(sock));
          // Connections open main, then display, then inputs: count the display channel's bytes.
          if (which === 1) sock.on('data', (d: Buffer) => (displayBytes += d.length));
          sock.once('error', reject);
        }),
    });
    await v.connect();
    // Keys go to the window under the pointer (no window manager): put it on the xterm.
    v.sendInput({ kind: 'mousePosition', x: 200, y: 480, buttons: 0, displayId: 0 });
    await sleep(2500);
    const frameLatency: number[] = [];
    let frames = 0;
    let lastBin = -1;
    const startFrames = v.display.streamLog.reduce((n, s) => n + s.frames, 0);
    const onDisplay = (kind: string): void => {
      if (kind === 'streamData') {
        const s = [...v.display.streams.values()].find((x) => x.lastFrame);
        // The server's multimedia clock is the machine's monotonic clock: this process reads the same.
        if (s) frameLatency.push((monotonicMs() - (s.lastMmTime - PLAYBACK_DELAY_MS)) | 0);
      } else if (kind === 'drawCopy' && !streams) {
        const bin = Math.floor(performance.now() / 15);
        if (bin !== lastBin) frames++;
        lastBin = bin;
      }
    };
    v.on('display', onDisplay);
    const bytes0 = displayBytes;
    const t0 = performance.now();
    const keyLatency: number[] = [];
    while (performance.now() - t0 < seconds * 1000) {
      const before = regionSum(v, XTERM);
      const sent = performance.now();
      v.tapKey(KEY_A);
      while (performance.now() - sent < KEY_WAIT_MS) {
        await sleep(2);
        if (regionSum(v, XTERM) !== before) {
          keyLatency.push(performance.now() - sent);
          break;
        }
      }
      await sleep(Math.max(0, KEY_EVERY_MS - (performance.now() - sent)));
    }
    const elapsed = (performance.now() - t0) / 1000;
    v.off('display', onDisplay);
    if (streams) frames = v.display.streamLog.reduce((n, s) => n + s.frames, 0) - startFrames;
    v.close();
    return {
      link,
      viewer: streams ? 'streams' : 'images',
      fps: frames / elapsed,
      kbytesPerS: (displayBytes - bytes0) / 1000 / elapsed,
      frameLatencyP50: percentile(frameLatency, 50),
      frameLatencyP95: percentile(frameLatency, 95),
      keyLatencyP50: percentile(keyLatency, 50),
      keyLatencyP95: percentile(keyLatency, 95),
      keys: keyLatency.length,
    };
  } finally {
    server.kill('SIGTERM');
    await sleep(500);
  }
}

/** Run one measurement in a private namespace, its lo limited to `mbit` (none: unconstrained). */
async function runInNamespace(script: string, args: string[], mbit: number | undefined): Promise<RunFigures> {
  const shaping = mbit ? ` && tc qdisc add dev lo root tbf rate ${mbit}mbit burst 32kb latency 400ms` : '';
  const setup = `ip link set lo up mtu 1500${shaping} && exec "$0" "$@"`;
  // Root gets a plain network namespace: in a user namespace (`-r`) xterm cannot chown its pty to
  // the unmapped tty group and exits at once, so no typed character ever reached a viewer.
  const flags = process.getuid?.() === 0 ? '-n' : '-rn';
  const child = spawn('unshare', [flags, 'sh', '-c', setup, process.execPath, script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const r = await collect(child, 120_000);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`video bench worker failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(line) as RunFigures;
}

function fmt(v: number | null): string {
  return v === null ? '-' : v.toFixed(0);
}

export function formatVideoResults(rows: RunFigures[]): string {
  const head = 'link        viewer    fps   kB/s  frame ms p50/p95  key ms p50/p95  keys';
  const lines = rows.map((r) =>
    [
      r.link.padEnd(11),
      r.viewer.padEnd(8),
      r.fps.toFixed(1).padStart(5),
      r.kbytesPerS.toFixed(0).padStart(6),
      `${fmt(r.frameLatencyP50)}/${fmt(r.frameLatencyP95)}`.padStart(17),
      `${fmt(r.keyLatencyP50)}/${fmt(r.keyLatencyP95)}`.padStart(15),
      String(r.keys).padStart(5),
    ].join(' '),
  );
  return [head, ...lines].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string, dflt: string): string => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1]! : dflt;
  };
  const seconds = Number(arg('--seconds', '8'));
  if (argv.includes('--worker')) {
    const figures = await worker(
      arg('--clip', ''),
      seconds,
      arg('--viewer', 'streams') === 'streams',
      arg('--link', 'lo'),
    );
    console.log(JSON.stringify(figures));
    process.exit(0);
  }
  const dir = join(tmpdir(), 'spiced-video-bench');
  mkdirSync(dir, { recursive: true });
  const clip = makeClip(dir);
  const script = fileURLToPath(import.meta.url);
  const rows: RunFigures[] = [];
  for (const link of arg('--links', 'lo,10,2').split(',')) {
    const mbit = link === 'lo' ? undefined : Number(link);
    const name = mbit ? `${mbit} Mbit/s` : 'loopback';
    for (const viewer of ['streams', 'images']) {
      const args = ['--worker', '--clip', clip, '--seconds', String(seconds), '--viewer', viewer, '--link', name];
      rows.push(await runInNamespace(script, args, mbit));
      console.error(formatVideoResults(rows.slice(-1)));
    }
  }
  console.log(`video bench: ${seconds} s per run, clip ${clip}`);
  console.log(formatVideoResults(rows));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main(process.argv.slice(2));
}
