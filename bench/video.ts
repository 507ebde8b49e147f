/**
 * Video over constrained links (issue 14), spiced and spice-server side by side. A 640x360 25 fps
 * clip made at bench time (bench/video-clip.ts: a pan across a photograph, each frame numbered in
 * a stripe along its top edge) plays in ffplay beside an xterm where a key is typed every second,
 * on each server's own X display: spiced (`serve --xvfb --no-resize`) and spice-server (Debian's
 * Xspice, its default `filter` streaming). Each run is in a private network namespace whose lo is
 * unconstrained or limited by `tc qdisc ... tbf` to 10 and 2 Mbit/s, watched by the same measuring
 * viewer (bench/video-viewer.ts: MJPEG, stream reports as spice-gtk sends them).
 *
 *   npm run build && node dist/bench/video.js [--seconds 10] [--links lo,10,2] [--servers spiced,spice-server]
 *     [--no-reports]   (the viewer sends no stream reports: what the server does without them)
 *     [--trace DIR]    (per run: spiced's debug log, and the display messages and keys the viewer saw, as JSON)
 *     [--grain N]      (the clip with film grain N instead of 12, 0 for none: the paused frame's lossless
 *                      image is smaller, and the final frame's time follows its size; see video-clip.ts)
 *     [--help]
 *
 * Printed per run: frames of the clip that reached the viewer in time to be shown, per second (and
 * the desktop's own rate: ffplay's frames drawn per second on this machine); late frames (arrived
 * after their stamp: spice-gtk drops them); display bytes per second; streams the viewer was given; the latency from the desktop
 * drawing a frame (DAMAGE time on the desktop) to its arrival at the viewer, and to when spice-gtk
 * would show it (its stamp on the viewer's multimedia clock), p50/p95; the latency of a typed
 * character (key sent to glyph drawn in the viewer's framebuffer), p50/p95 and how many came;
 * after the video is frozen, how long until the viewer's frame equals the desktop's (and the display
 * bytes it got meanwhile: the lossless area, mostly), and the latency of keys typed meanwhile (while
 * the video's area comes again losslessly), p50/max and how many came. Then issue 14's targets as
 * PASS/FAIL lines.
 *
 * Run as root: in a user namespace (`unshare -r`) xterm cannot chown its pty and Xorg cannot start,
 * so without root only spiced runs and no key is measured.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { collect } from '../replay/netns.js';
import { PLAYBACK_DELAY_MS } from '../src/video/viewer-video.js';
import { DEFAULT_GRAIN, makeClip, stripeRect } from './video-clip.js';
import { DeskFrames } from './video-desk.js';
import {
  startSpiced,
  startWorkload,
  startXspice,
  XTERM_TEXT,
  type DeskServer,
  type ServerName,
} from './video-servers.js';
import { videoVerdicts, type VideoRow } from './video-targets.js';
import { differingPixels, MeasuringViewer } from './video-viewer.js';
import { monoMs } from './x11-server.js';

/** Before measuring: spice-server streams after 20 frames, spiced after 8 in a second; both settle. */
const WARMUP_MS = 4000;
/** A key every second; a glyph not drawn within 900 ms counts as lost (keys column: seen / sent). */
const KEY_EVERY_MS = 1000;
const KEY_WAIT_MS = 900;
/** How long the final frame may take to become exact before the run says it did not. */
const FINAL_WAIT_MS = 5000;
/**
 * Once the video is frozen, keys are typed from this long after (its stream has ended, 250 ms at
 * 25 fps, and its area is coming again losslessly: 1.8 s of a 2 Mbit/s link), this often, until
 * STOP_KEYS_UNTIL_MS: what a glyph waits for behind that refresh. A glyph not seen within
 * STOP_KEY_WAIT_MS counts as lost.
 */
const STOP_KEY_FIRST_MS = 400;
const STOP_KEY_EVERY_MS = 300;
const STOP_KEYS_UNTIL_MS = 1600;
const STOP_KEY_WAIT_MS = 3000;

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * From the video frozen to the viewer's frame equal to the desktop's, or null with the pixels still
 * differing; and the display bytes the viewer got meanwhile.
 */
async function finalFrame(
  v: MeasuringViewer,
  desk: DeskFrames,
): Promise<{ ms: number | null; diff: number; bytes: number }> {
  const stopped = monoMs();
  const bytes0 = v.displayBytes;
  let diff = -1;
  while (monoMs() - stopped < FINAL_WAIT_MS) {
    const screen = await desk.screenshot();
    const mine = v.client.display.primary;
    diff = mine ? differingPixels(mine, screen) : screen.width * screen.height;
    if (diff === 0) return { ms: monoMs() - stopped, diff, bytes: v.displayBytes - bytes0 };
    await sleep(50);
  }
  return { ms: null, diff, bytes: v.displayBytes - bytes0 };
}

/** Type a key every second for `seconds`; the latencies of the glyphs seen, and how many keys went. */
async function typeAlong(v: MeasuringViewer, seconds: number): Promise<{ latencies: number[]; sent: number }> {
  const latencies: number[] = [];
  let sent = 0;
  const t0 = monoMs();
  while (monoMs() - t0 < seconds * 1000) {
    const at = monoMs();
    sent++;
    const ms = await v.typeKey(XTERM_TEXT, KEY_WAIT_MS);
    if (ms !== undefined) latencies.push(ms);
    await sleep(Math.max(0, KEY_EVERY_MS - (monoMs() - at)));
  }
  return { latencies, sent };
}

/** Keys typed after the video froze (see STOP_KEY_FIRST_MS): their glyphs' latencies, and how many keys went. */
async function typeAfterStop(v: MeasuringViewer): Promise<{ latencies: number[]; sent: number }> {
  const paused = monoMs();
  const latencies: number[] = [];
  let sent = 0;
  await sleep(STOP_KEY_FIRST_MS);
  while (monoMs() - paused < STOP_KEYS_UNTIL_MS) {
    const at = monoMs();
    sent++;
    const ms = await v.typeKey(XTERM_TEXT, STOP_KEY_WAIT_MS);
    if (ms !== undefined) latencies.push(ms);
    await sleep(Math.max(0, STOP_KEY_EVERY_MS - (monoMs() - at)));
  }
  return { latencies, sent };
}

async function measure(
  server: DeskServer,
  clip: string,
  seconds: number,
  reports: boolean,
  traceFile: string | undefined,
): Promise<Omit<VideoRow, 'link' | 'server'>> {
  const stripe = stripeRect(0, 0);
  const desk = await DeskFrames.open(server.display, stripe);
  const work = await startWorkload(server.display, clip);
  const v = new MeasuringViewer(server.port, stripe, reports);
  try {
    await v.connect();
    // Keys go to the focused xterm; the pointer rests on it too (no window manager: focus follows it).
    v.client.sendInput({ kind: 'mousePosition', x: 200, y: 480, buttons: 0, displayId: 0 });
    await sleep(WARMUP_MS);
    v.reset();
    const bytes0 = v.displayBytes;
    const t0 = monoMs();
    const keys = await typeAlong(v, seconds);
    const t1 = monoMs();
    const bytes1 = v.displayBytes;
    while (v.pending > 0) await sleep(10);
    const elapsed = (t1 - t0) / 1000;
    const frames = v.seen.filter((f) => f.arrivedMs < t1);
    const onTime = frames.filter((f) => !f.late);
    const arrive: number[] = [];
    const shown: number[] = [];
    for (const f of frames) {
      const drawn = desk.drawnAt(f.n, f.arrivedMs);
      if (drawn === undefined) continue;
      arrive.push(f.arrivedMs - drawn);
      if (!f.late) shown.push(f.shownMs - drawn);
    }
    work.pauseVideo();
    const paused = monoMs();
    const [final, stopKeys] = await Promise.all([finalFrame(v, desk), typeAfterStop(v)]);
    if (traceFile) writeTrace(traceFile, v, { t0, t1, paused });
    return {
      fps: onTime.length / elapsed,
      deskFps: desk.countDrawn(t0, t1) / elapsed,
      latePct: frames.length === 0 ? 0 : (100 * (frames.length - onTime.length)) / frames.length,
      kbytesPerS: (bytes1 - bytes0) / 1000 / elapsed,
      arriveP50: percentile(arrive, 50),
      arriveP95: percentile(arrive, 95),
      shownP50: percentile(shown, 50),
      keyP50: percentile(keys.latencies, 50),
      keyP95: percentile(keys.latencies, 95),
      keys: keys.latencies.length,
      keysSent: keys.sent,
      streams: v.streamsCreated,
      finalMs: final.ms,
      finalDiff: final.diff,
      finalKbytes: final.bytes / 1000,
      stopKeyP50: percentile(stopKeys.latencies, 50),
      stopKeyMax: percentile(stopKeys.latencies, 100),
      stopKeys: stopKeys.latencies.length,
      stopKeysSent: stopKeys.sent,
      errors: v.client.errors.slice(0, 5),
    };
  } finally {
    v.close();
    desk.close();
    await work.stop();
  }
}

/**
 * `--trace DIR`: what the viewer received (each display message's arrival, kind and size) and each
 * key's send time and glyph latency, on the bench's clock with the measurement's marks, for finding
 * what a late glyph waited behind.
 */
function writeTrace(file: string, v: MeasuringViewer, marks: Record<string, number>): void {
  writeFileSync(file, JSON.stringify({ marks, messages: v.trace, keys: v.keyTrace, frames: v.seen }));
}

/** One run, inside the namespace: the server, the workload, the measuring viewer. */
async function worker(
  name: ServerName,
  clip: string,
  seconds: number,
  link: string,
  reports: boolean,
  traceDir: string | undefined,
): Promise<VideoRow> {
  const base = traceDir && join(traceDir, `${name}-${link.replace(/[^a-z0-9]+/gi, '')}`);
  const server = name === 'spiced' ? await startSpiced(base && `${base}.log`) : await startXspice();
  try {
    const traceFile = base && `${base}.json`;
    return { link, server: name, ...(await measure(server, clip, seconds, reports, traceFile)) };
  } finally {
    await server.stop();
  }
}

/**
 * Run one measurement in a private namespace, its lo limited to `mbit` (none: unconstrained).
 * 127.0.0.2 is added because in a namespace with only lo, spice-server's getaddrinfo(AI_ADDRCONFIG)
 * finds no address. Root gets a plain network namespace: in a user namespace (`-r`) xterm cannot
 * chown its pty to the unmapped tty group and exits at once (no typed character ever arrived).
 */
async function runInNamespace(script: string, args: string[], mbit: number | undefined): Promise<VideoRow> {
  const shaping = mbit ? ` && tc qdisc add dev lo root tbf rate ${mbit}mbit burst 32kb latency 400ms` : '';
  const setup = `ip link set lo up mtu 1500 && ip addr add 127.0.0.2/8 dev lo${shaping} && exec "$0" "$@"`;
  const flags = process.getuid?.() === 0 ? '-n' : '-rn';
  const child = spawn('unshare', [flags, 'sh', '-c', setup, process.execPath, script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const r = await collect(child, 180_000);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`video bench worker failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(line) as VideoRow;
}

const f0 = (v: number | null): string => (v === null ? '-' : v.toFixed(0));

export function formatVideoResults(rows: VideoRow[]): string {
  const head =
    'link        server        fps (desk)  late%   kB/s  streams  arrive ms p50/p95  shown p50  key ms p50/p95   keys  final ms  final kB  stop keys ms p50/max';
  const lines = rows.map((r) =>
    [
      r.link.padEnd(11),
      r.server.padEnd(12),
      `${r.fps.toFixed(1)} (${r.deskFps.toFixed(1)})`.padStart(11),
      r.latePct.toFixed(0).padStart(6),
      r.kbytesPerS.toFixed(0).padStart(6),
      String(r.streams).padStart(8),
      `${f0(r.arriveP50)}/${f0(r.arriveP95)}`.padStart(18),
      f0(r.shownP50).padStart(10),
      `${f0(r.keyP50)}/${f0(r.keyP95)}`.padStart(15),
      `${r.keys}/${r.keysSent}`.padStart(6),
      (r.finalMs === null ? `no (${r.finalDiff} px)` : r.finalMs.toFixed(0)).padStart(9),
      r.finalKbytes.toFixed(0).padStart(9),
      `${f0(r.stopKeyP50)}/${f0(r.stopKeyMax)} ${r.stopKeys}/${r.stopKeysSent}`.padStart(21),
    ].join(' '),
  );
  return [head, ...lines].join('\n');
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help')) {
    console.log(usage());
    return;
  }
  const arg = (name: string, dflt: string): string => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1]! : dflt;
  };
  const seconds = Number(arg('--seconds', '10'));
  const trace = argv.includes('--trace') ? arg('--trace', '') : undefined;
  if (argv.includes('--worker')) {
    const server = arg('--server', 'spiced') as ServerName;
    const reports = !argv.includes('--no-reports');
    const row = await worker(server, arg('--clip', ''), seconds, arg('--link', 'lo'), reports, trace);
    console.log(JSON.stringify(row));
    process.exit(0);
  }
  const dir = join(tmpdir(), 'spiced-video-bench');
  mkdirSync(dir, { recursive: true });
  if (trace) mkdirSync(trace, { recursive: true });
  const clip = makeClip(dir, Number(arg('--grain', String(DEFAULT_GRAIN))));
  const script = fileURLToPath(import.meta.url);
  const rows: VideoRow[] = [];
  const servers = arg('--servers', 'spiced,spice-server').split(',');
  for (const link of arg('--links', 'lo,10,2').split(',')) {
    const mbit = link === 'lo' ? undefined : Number(link);
    const name = mbit ? `${mbit} Mbit/s` : 'loopback';
    for (const server of servers) {
      const args = ['--worker', '--clip', clip, '--seconds', String(seconds), '--server', server, '--link', name];
      if (argv.includes('--no-reports')) args.push('--no-reports');
      if (trace) args.push('--trace', trace);
      const row = await runInNamespace(script, args, mbit);
      rows.push(row);
      console.error(formatVideoResults([row]));
      if (row.errors.length > 0) console.error(`  viewer errors: ${row.errors.join('; ')}`);
    }
  }
  console.log(`video bench: ${seconds} s per run, clip ${clip}`);
  console.log(formatVideoResults(rows));
  for (const l of videoVerdicts(rows, PLAYBACK_DELAY_MS)) console.log(l);
}

/** The command line, from this file's header. */
function usage(): string {
  return [
    'node dist/bench/video.js [--seconds 10] [--links lo,10,2] [--servers spiced,spice-server] [--no-reports] [--trace DIR]',
    `  [--grain N]  (the clip's film grain, default ${DEFAULT_GRAIN}: less makes the paused frame's lossless image smaller)`,
    '  runs as root, for minutes (a run per link and server); it times things, so run it on a quiet machine',
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main(process.argv.slice(2));
}
