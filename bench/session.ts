/**
 * The session soak (issue 18): a real XFCE desktop under `spiced serve --xvfb`, used through
 * remote-viewer in a second Xvfb (xdotool: windows dragged, keys typed, a terminal scrolling,
 * menus opened), with spice-html5 in headless Chromium and the project's own client connected
 * too. One row per minute: server RSS, heap, CPU, collections, update rate during drags (desktop
 * and viewer), key-to-glyph (desktop and viewer), bytes per second; then verdicts on the targets.
 *
 *   npm run build && node dist/bench/session.js [--minutes 30] [--no-browser] [--resize]
 *
 * --resize serves Xorg with the dummy driver instead of a fixed-size Xvfb: spice-html5 then sizes
 * the desktop to its page (1280x800 becomes the page's size) and the final frames are compared at
 * that size.
 *
 * The CI-sized form (a few minutes) is test/session-soak.test.ts.
 */
import { pathToFileURL } from 'node:url';
import type { Rect } from '../src/protocol/geometry.js';
import { countRgbDifferences, type PixelImage } from '../src/display/pixels.js';
import { median } from './common.js';
import { startTerminals, stopTerminals, User, type ActivityLog, type Terminals } from './session-activity.js';
import { BrowserViewer } from './session-browser.js';
import { DesktopWatch, type Drawn } from './session-desktop.js';
import { Driver, xdo } from './session-drive.js';
import { glyphTime, mean, slotRate } from './session-measure.js';
import { SoakServer, startRemoteViewer, XFCE_SESSION, type RemoteViewer } from './session-rig.js';
import { verdicts, type MinuteRow, type Verdict } from './session-verdicts.js';
import { MeasuringViewer } from './session-viewer.js';
import { sleep } from './x11-viewer.js';
import { monoMs } from './x11-server.js';

export type { MinuteRow, Verdict } from './session-verdicts.js';

export interface SoakOptions {
  minutes: number;
  /** Connect spice-html5 in Chromium too (when Chromium is there). */
  browser: boolean;
  /** Serve with --resize (Xorg with the dummy driver: the viewers' windows size the desktop), else Xvfb. */
  resize?: boolean;
  /** Where rows and notes go (console.log in the bench). */
  print: (line: string) => void;
}

export interface SoakResult {
  rows: MinuteRow[];
  verdicts: Verdict[];
  serverAlive: boolean;
  /** Pixels where the measuring viewer's final frame differs from the desktop's screen. */
  finalDiff: number;
  /** The same for the browser's canvas (undefined without a browser). */
  browserDiff: number | undefined;
  /** Things that went wrong without stopping the soak (viewer errors, drags that did not move). */
  problems: string[];
}

const SIZE = '1280x800';
const MB = 1024 * 1024;

interface Rig {
  server: SoakServer;
  desktop: DesktopWatch;
  viewer: MeasuringViewer;
  remote: RemoteViewer;
  terms: Terminals;
  browser: BrowserViewer | undefined;
}

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const parts: Partial<Rig> = {};
  try {
    const rig = await startRig(parts, opts);
    const rows = await soak(rig, opts);
    const finalDiff = await finalFrameDiff(rig.desktop, () => rig.viewer.primary(), rig.viewer);
    const browser = rig.browser;
    const browserDiff = browser ? await finalFrameDiff(rig.desktop, () => browser.pixels(), rig.viewer) : undefined;
    const problems = (await rig.viewer.state()).problems;
    const stuck = rows.reduce((n, r) => n + r.drags - r.dragsMoved, 0);
    if (stuck > 0) problems.push(`${stuck} drags did not move the window`);
    return { rows, verdicts: verdicts(rows), serverAlive: rig.server.alive, finalDiff, browserDiff, problems };
  } finally {
    await stopRig(parts);
  }
}

async function startRig(parts: Partial<Rig>, opts: SoakOptions): Promise<Rig> {
  const server = (parts.server = await SoakServer.start({
    size: SIZE,
    statsIntervalMs: 1000,
    session: XFCE_SESSION,
    resize: opts.resize,
  }));
  opts.print(`spiced serving XFCE on ${server.display}, port ${server.port}`);
  await waitForXfce(server.display);
  parts.desktop = await DesktopWatch.open(server.display);
  parts.terms = await startTerminals(server.display);
  parts.viewer = await MeasuringViewer.connect(server.port);
  parts.remote = await startRemoteViewer(server.port, server.display);
  const { xvfb, map } = parts.remote;
  opts.print(`remote-viewer on ${xvfb.display}, desktop at +${map.dx}+${map.dy} in its screen`);
  const noBrowser = opts.browser ? BrowserViewer.unavailable() : 'no browser viewer (--no-browser)';
  if (noBrowser) opts.print(noBrowser);
  else parts.browser = await BrowserViewer.open(server.port);
  return parts as Rig;
}

async function stopRig(parts: Partial<Rig>): Promise<void> {
  await parts.browser?.close();
  await parts.viewer?.close();
  await parts.remote?.xvfb.stop();
  stopTerminals(parts.terms);
  parts.desktop?.close();
  await parts.server?.stop();
}

/** The session is up once xfce4-panel has mapped its window; then it gets a moment to draw. */
async function waitForXfce(display: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const ids = await xdo(display, ['search', '--onlyvisible', '--class', 'xfce4-panel']).catch(() => '');
    if (ids.trim() !== '') return sleep(3000);
    await sleep(500);
  }
  throw new Error(`session soak: no xfce4-panel on ${display} after 60 s (is xfce4 installed?)`);
}

async function soak(rig: Rig, opts: SoakOptions): Promise<MinuteRow[]> {
  const dragging = { begin: () => rig.desktop.judgeChanges(), end: () => rig.desktop.stopJudging() };
  const user = new User(new Driver(rig.remote.xvfb.display, rig.remote.map), rig.server.display, rig.terms, dragging);
  const rows: MinuteRow[] = [];
  opts.print(MINUTE_HEADER);
  for (let minute = 1; minute <= opts.minutes; minute++) {
    const startMs = monoMs();
    const statsFrom = rig.server.stats.length;
    const viewerBytes = (await rig.viewer.state()).bytes;
    rig.desktop.take();
    await rig.viewer.take();
    const log: ActivityLog = { drags: [], keys: [] };
    while (monoMs() - startMs < 60_000) await user.cycle(log);
    const viewerBytesPerS = ((await rig.viewer.state()).bytes - viewerBytes) / ((monoMs() - startMs) / 1000);
    const row = minuteRow(minute, rig, log, statsFrom, viewerBytesPerS, await rig.viewer.take());
    rows.push(row);
    opts.print(formatRow(row));
    if (!rig.server.alive) throw new Error(`session soak: spiced exited during minute ${minute}: ${rig.server.log}`);
  }
  return rows;
}

function minuteRow(
  minute: number,
  rig: Rig,
  log: ActivityLog,
  statsFrom: number,
  viewerBytesPerS: number,
  viewer: readonly Drawn[],
): MinuteRow {
  const desktop = rig.desktop.take();
  const stats = rig.server.stats;
  const last = stats[stats.length - 1]!;
  const first = stats[Math.max(0, statsFrom - 1)]!;
  const seconds = (last.t - first.t) / 1000;
  const window = stats.slice(statsFrom);
  const moved = log.drags.filter((d) => d.moved);
  const seen = desktop.filter((d) => d.changed !== false);
  const area = boxRect(rig.terms.typeBox);
  const glyphs = log.keys.map((k) => glyphTime(k.atMs, area, desktop, viewer)).filter((g) => g !== undefined);
  return {
    minute,
    rssMb: last.rss / MB,
    rssMinMb: Math.min(...window.map((s) => s.rss)) / MB,
    rssMaxMb: Math.max(...window.map((s) => s.rss)) / MB,
    heapMb: last.heapUsed / MB,
    cpuPct: seconds > 0 ? (last.cpuMs - first.cpuMs) / 10 / seconds : NaN,
    gcFull: window.reduce((n, s) => n + s.gcFull, 0),
    gcFullPeakPerS: Math.max(0, ...window.map((s) => s.gcFull)),
    gcMs: window.reduce((n, s) => n + s.gcFullMs + s.gcOtherMs, 0),
    // Only drawings that changed the picture are desktop updates (bench/session-changes.ts).
    desktopRate: mean(moved.map((d) => slotRate(seen, d.startMs, d.endMs))),
    desktopPaintRate: mean(moved.map((d) => slotRate(desktop, d.startMs, d.endMs))),
    viewerRate: mean(moved.map((d) => slotRate(viewer, d.startMs, d.endMs))),
    keyDesktopMs: median(glyphs.map((g) => g.desktopMs)),
    keyViewerMs: median(glyphs.map((g) => g.viewerMs)),
    keyExtraMs: median(glyphs.map((g) => g.viewerMs - g.desktopMs)),
    keySamples: glyphs.length,
    keysSent: log.keys.length,
    serverBytesPerS: seconds > 0 ? (last.bytesSent - first.bytesSent) / seconds : NaN,
    viewerBytesPerS,
    drags: log.drags.length,
    dragsMoved: moved.length,
  };
}

function boxRect(b: { x: number; y: number; width: number; height: number }): Rect {
  return { left: b.x, top: b.y, right: b.x + b.width, bottom: b.y + b.height };
}

const MINUTE_HEADER =
  'min  RSS MB  heap MB  CPU %  full GC  GC ms  paints/s  drag/s desk  drag/s view  key ms desk  key ms view  key +ms  keys' +
  '  server KB/s  viewer KB/s';

function formatRow(r: MinuteRow): string {
  const f = (v: number, w: number, d = 1): string => (Number.isNaN(v) ? '-' : v.toFixed(d)).padStart(w);
  return [
    String(r.minute).padStart(3),
    f(r.rssMb, 7),
    f(r.heapMb, 8),
    f(r.cpuPct, 6),
    f(r.gcFull, 8, 0),
    f(r.gcMs, 6, 0),
    f(r.desktopPaintRate, 9),
    f(r.desktopRate, 12),
    f(r.viewerRate, 12),
    f(r.keyDesktopMs, 12),
    f(r.keyViewerMs, 12),
    f(r.keyExtraMs, 8),
    `${r.keySamples}/${r.keysSent}`.padStart(5),
    f(r.serverBytesPerS / 1024, 12, 0),
    f(r.viewerBytesPerS / 1024, 12, 0),
  ].join(' ');
}

/**
 * Pixels where a viewer's frame differs from the desktop's own screen once everything is still.
 * The panel's clock may tick between the two reads, so a difference is read again a few times.
 */
async function finalFrameDiff(
  desktop: DesktopWatch,
  frame: () => Promise<PixelImage | undefined>,
  viewer: MeasuringViewer,
): Promise<number> {
  let diff = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 5 && diff > 0; attempt++) {
    await viewer.settle(1500, 15_000);
    await sleep(500); // the browser draws after its websocket delivered
    const screen = await desktop.screenshot();
    const shown = await frame();
    diff = shown ? countRgbDifferences(shown, screen) : screen.width * screen.height;
  }
  return diff;
}

function parseArgs(argv: string[]): { minutes: number; browser: boolean; resize: boolean } {
  let minutes = 30;
  let browser = true;
  let resize = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--minutes') minutes = Number(argv[++i]);
    else if (argv[i] === '--no-browser') browser = false;
    else if (argv[i] === '--resize') resize = true;
    else throw new Error(`unknown argument ${argv[i]} (--minutes N, --no-browser, --resize)`);
  }
  if (!Number.isInteger(minutes) || minutes < 1) throw new Error('--minutes wants a whole number >= 1');
  return { minutes, browser, resize };
}

async function main(): Promise<void> {
  const result = await runSoak({ ...parseArgs(process.argv.slice(2)), print: (line) => console.log(line) });
  console.log(`server alive at the end: ${result.serverAlive ? 'yes' : 'NO'}`);
  console.log(`final frame: measuring viewer vs the desktop's screen: ${result.finalDiff} pixels differ`);
  if (result.browserDiff !== undefined) {
    console.log(`final frame: spice-html5 canvas vs the desktop's screen: ${result.browserDiff} pixels differ`);
  }
  for (const p of result.problems) console.log(`problem: ${p}`);
  for (const v of result.verdicts) console.log(`${v.pass ? 'PASS' : 'FAIL'}  ${v.target}: ${v.measured}`);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  });
}
