/**
 * Draw-to-viewer latency through X11Source: a small solid rect at a random place on the root
 * window, timestamped when the request is flushed, when a GetInputFocus round trip says the X
 * server has processed it, when the server's source hands the matching `copy` to the server (the
 * child's copy log) and when the viewer's framebuffer shows the colour at the rect's corners and
 * centre. Samples are spaced (gap plus jitter) so that each draw is its own frame.
 *
 * `busy` adds what makes the frame interval matter: a 64x64 animation in the top-left corner
 * redrawn every 4 ms by another X client, so the source is always inside a frame or waiting for
 * the next one when a probe arrives (a video or a progress bar elsewhere on the screen).
 */
import { XDrawer, flushed, type XRect } from './x11-draw.js';
import { monoMs, type CopyLogEntry } from './x11-server.js';
import { makeRandom, sleep, spread, type Point, type Rig, type Spread, type Viewer } from './x11-viewer.js';

export interface LatencyOptions {
  samples: number;
  /** Pause between a sample's arrival and the next draw (plus 0..JITTER_MS). */
  gapMs: number;
  busy: boolean;
  seed: number;
}

/** Times (ms) of one probe, all on the monotonic clock. */
interface Probe {
  /** Before the request was issued: nothing the server emitted earlier can be this probe's copy. */
  issuedAt: number;
  flushAt: number;
  xDoneAt: number;
  viewAt: number;
  rect: XRect;
}

export interface LatencyResult {
  samples: number;
  /** Pause between one probe being shown and the next being drawn. */
  spacingMs: { min: number; max: number };
  /** Request flushed -> viewer shows it. */
  fromFlush: Spread;
  /** X server has processed it (GetInputFocus reply) -> viewer shows it. */
  fromXDone: Spread;
  /** Medians of the stages: flush -> X done, X done -> source emits copy, copy -> viewer. */
  stages: { xRoundTrip: Spread; capture: Spread; delivery: Spread };
  /** Probes whose copy was not found in the server's log (should be 0). */
  unmatched: number;
}

const BUSY_AREA = 64;
const BUSY_EVERY_MS = 4;
const MARGIN = 96;
const MAX_SIDE = 48;
const MIN_SIDE = 8;
const PROBE_TIMEOUT_MS = 5000;
/**
 * Random extra pause, one default frame interval long: without it the probes phase-lock to the
 * frame cycle (a probe shown right after a frame, then a fixed gap), and the wait for the next
 * frame slot would be sampled at one phase only.
 */
const JITTER_MS = 34;

export async function measureLatency({ display, server, viewer }: Rig, opts: LatencyOptions): Promise<LatencyResult> {
  const drawer = await XDrawer.open(display);
  const busy = opts.busy ? await startBusy(display) : undefined;
  const random = makeRandom(opts.seed);
  const probes: Probe[] = [];
  try {
    server.startCopyLog();
    await sleep(200); // let the busy animation reach a steady rhythm (and the log request arrive)
    for (let i = 0; i < opts.samples; i++) {
      probes.push(await probeOnce(drawer, viewer, random));
      await sleep(opts.gapMs + random() * JITTER_MS);
    }
  } finally {
    busy?.stop();
    drawer.close();
  }
  return {
    ...summarise(probes, await server.takeCopyLog()),
    spacingMs: { min: opts.gapMs, max: opts.gapMs + JITTER_MS },
  };
}

function randomRect(random: () => number, width: number, height: number): XRect {
  const w = MIN_SIDE + Math.floor(random() * (MAX_SIDE - MIN_SIDE));
  const h = MIN_SIDE + Math.floor(random() * (MAX_SIDE - MIN_SIDE));
  const x = MARGIN + Math.floor(random() * (width - MARGIN - w));
  const y = MARGIN + Math.floor(random() * (height - MARGIN - h));
  return { x, y, width: w, height: h };
}

function checkPoints(r: XRect): Point[] {
  const x1 = r.x + r.width - 1;
  const y1 = r.y + r.height - 1;
  return [
    { x: r.x, y: r.y },
    { x: x1, y: r.y },
    { x: r.x, y: y1 },
    { x: x1, y: y1 },
    { x: r.x + (r.width >> 1), y: r.y + (r.height >> 1) },
  ];
}

/** A colour none of the points shows yet, so the viewer cannot "see" the draw before it arrives. */
function freshColour(random: () => number, viewer: Viewer, pts: readonly Point[]): number {
  for (;;) {
    const c = Math.floor(random() * 0x1000000);
    if (pts.every((p) => viewer.pixel(p.x, p.y) !== c)) return c;
  }
}

async function probeOnce(drawer: XDrawer, viewer: Viewer, random: () => number): Promise<Probe> {
  const rect = randomRect(random, drawer.width, drawer.height);
  const pts = checkPoints(rect);
  const colour = freshColour(random, viewer, pts);
  const shown = viewer.until(
    () => pts.every((p) => viewer.pixel(p.x, p.y) === colour),
    PROBE_TIMEOUT_MS,
    `a ${rect.width}x${rect.height} rect at ${rect.x},${rect.y}`,
  );
  const issuedAt = monoMs();
  drawer.fill(colour, [rect]);
  const processed = drawer.sync(); // in the same write as the fill
  await flushed();
  const flushAt = monoMs();
  await processed;
  const xDoneAt = monoMs();
  return { issuedAt, flushAt, xDoneAt, viewAt: await shown, rect };
}

/**
 * The first copy emitted after the request was issued whose rect contains the probe's centre.
 * (Not after the flush timestamp: when this process is descheduled between the write and that
 * timestamp, the server can be faster.)
 */
function emittedAt(p: Probe, log: readonly CopyLogEntry[]): number | undefined {
  const cx = p.rect.x + (p.rect.width >> 1);
  const cy = p.rect.y + (p.rect.height >> 1);
  const hit = log.find(
    (e) =>
      e.atMs >= p.issuedAt &&
      e.atMs <= p.viewAt &&
      e.rect.left <= cx &&
      cx < e.rect.right &&
      e.rect.top <= cy &&
      cy < e.rect.bottom,
  );
  return hit?.atMs;
}

function summarise(probes: readonly Probe[], log: readonly CopyLogEntry[]): Omit<LatencyResult, 'spacingMs'> {
  const capture: number[] = [];
  const delivery: number[] = [];
  let unmatched = 0;
  for (const p of probes) {
    const at = emittedAt(p, log);
    if (at === undefined) {
      unmatched++;
      continue;
    }
    capture.push(at - p.xDoneAt);
    delivery.push(p.viewAt - at);
  }
  return {
    samples: probes.length,
    fromFlush: spread(probes.map((p) => p.viewAt - p.flushAt)),
    fromXDone: spread(probes.map((p) => p.viewAt - p.xDoneAt)),
    stages: {
      xRoundTrip: spread(probes.map((p) => p.xDoneAt - p.flushAt)),
      capture: spread(capture),
      delivery: spread(delivery),
    },
    unmatched,
  };
}

/** Another X client animating a corner of the screen, so frames keep coming. */
async function startBusy(display: string): Promise<{ stop(): void }> {
  const drawer = await XDrawer.open(display);
  const area: XRect = { x: 0, y: 0, width: BUSY_AREA, height: BUSY_AREA };
  let n = 0;
  const timer = setInterval(() => drawer.fill(n++ % 2 ? 0x203040 : 0xd0c0b0, [area]), BUSY_EVERY_MS);
  return {
    stop: () => {
      clearInterval(timer);
      drawer.close();
    },
  };
}
