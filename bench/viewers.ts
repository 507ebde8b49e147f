/**
 * Many viewers of one desktop (issue 15): for 1, 10, 100 and 500 viewers of the animated demo and
 * of a recording, the server's CPU, memory, connect cost and how long a change takes to reach the
 * last viewer; then the same with one more viewer that has stopped reading.
 *
 * The server (viewers-server-child.ts) runs in a process of its own and draws a marker every
 * 100 ms (viewers-markers.ts). One full client (src/client: decodes everything) is the first viewer
 * and at the end checks that its frame equals the server's; the others are light viewers
 * (light-viewer.ts: ACK like spice-gtk, decode no image) spread over worker processes of at most
 * --per-worker each.
 *
 * SPICED_NODE_FLAGS gives the server node flags (--cpu-prof ...); SPICED_PHASE_TIMES=1 prints each
 * measured window's start and end on CLOCK_MONOTONIC (perf record -k CLOCK_MONOTONIC, then
 * perf report --time START,END, profiles exactly the window).
 *
 *   npm run build && node dist/bench/viewers.js [--counts 1,10,100,500] [--sources demo,recordings/office-10min.spicedrec]
 *                                                [--per-worker 100] [--steady 5] [--json FILE]
 *                                                [--streams] [--image-quality auto|lossless|lossy]
 *
 * --streams: the full client announces MJPEG streams (spice-gtk does; the light viewers do not), so
 * the server looks for video; with --image-quality lossy it also stands in for a viewer on a thin
 * link, for which gradual content (a pan across a gradient) counts as video too. The streams the
 * server started are printed with the final frame.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SpiceClient } from '../src/client/client.js';
import { ChannelType } from '../src/protocol/constants.js';
import { procCpuMs, procCpuSplitMs } from './common.js';
import { MarkerArrivals, markerSeq, monotonicNowMs, rgbDigest } from './viewers-markers.js';

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));

interface Phase {
  /** Server CPU in % of one core. */
  cpuPct: number;
  /** The part of it spent in the kernel (system time). */
  sysPct: number;
  rssMb: number;
  /** Change to the last viewer, ms. */
  p50: number;
  p95: number;
  /** Markers of the window that had not reached every viewer when it was read. */
  missing: number;
  markers: number;
  /** Per display and cursor connection per second over the window: messages, flushes, write units, messages received. */
  perViewerRates: Record<string, TrafficRates>;
}

interface TrafficRates {
  messages: number;
  flushes: number;
  units: number;
  received: number;
  /** Flushes written from a buffer shared with other viewers. */
  shared: number;
  /** Images sent from the viewer's cache (FROM_CACHE), and looked up there in vain. */
  cacheHits: number;
  cacheMisses: number;
  /** Images encoded per second by the whole server (not per connection). */
  encodes: number;
  /** Share of the connections that took photos as JPEG at the end of the window (link measured slow). */
  lossyShare: number;
  /** Share of the draws given to viewers over the window that they took from the shared draw log. */
  fromLogShare: number;
  /** Kernel readings (TCP_INFO) made for the connection's link estimate. */
  readings: number;
}

type Traffic = Record<string, Record<string, number>>;

/** Per connection per second between two traffic readings of the server. */
function trafficRates(before: Traffic, after: Traffic, seconds: number): Record<string, TrafficRates> {
  const out: Record<string, TrafficRates> = {};
  for (const channel of ['display', 'cursor']) {
    const a = after[channel];
    const b = before[channel];
    if (!a) continue;
    const rate = (k: string): number => (a[k]! - (b?.[k] ?? 0)) / a.connections! / seconds;
    out[channel] = {
      messages: rate('messages'),
      flushes: rate('flushes'),
      units: rate('units'),
      received: rate('received'),
      readings: a.readings === undefined ? 0 : rate('readings'),
      shared: a.shared === undefined ? 0 : rate('shared'),
      cacheHits: a.cacheHits === undefined ? 0 : rate('cacheHits'),
      cacheMisses: a.cacheMisses === undefined ? 0 : rate('cacheMisses'),
      encodes: a.encodes === undefined ? 0 : (a.encodes - (b?.encodes ?? 0)) / seconds,
      lossyShare: (a.lossy ?? 0) / a.connections!,
      fromLogShare:
        a.draws === undefined ? 0 : (a.drawsFromLog! - (b?.drawsFromLog ?? 0)) / Math.max(1, a.draws - (b?.draws ?? 0)),
    };
  }
  return out;
}

interface Row {
  source: string;
  viewers: number;
  fdLimit: string;
  one: Phase;
  all: Phase;
  stalled: Phase | undefined;
  connectMsPerViewer: number | undefined;
  connectWallMs: number;
  memPerViewerMb: number | undefined;
  finalFrameOk: boolean;
  /** Streams the server started (the full client takes them with --streams). */
  streams: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** A child process that answers by IPC; `next(key)` resolves with the next message holding `key`. */
class Child {
  private readonly waiting = new Map<string, ((v: unknown) => void)[]>();
  onMessage: ((m: Record<string, unknown>) => void) | undefined;

  constructor(readonly proc: ChildProcess) {
    proc.on('message', (m: Record<string, unknown>) => {
      this.onMessage?.(m);
      for (const [k, v] of Object.entries(m)) this.waiting.get(k)?.shift()?.(v);
    });
  }

  next<T>(key: string, timeoutMs = 120_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`no "${key}" from child ${this.proc.pid} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const list = this.waiting.get(key) ?? [];
      list.push((v) => {
        clearTimeout(t);
        resolve(v as T);
      });
      this.waiting.set(key, list);
      this.proc.once('exit', (code) =>
        reject(new Error(`child ${this.proc.pid} exited (${code}) waiting for "${key}"`)),
      );
    });
  }

  send(m: object): void {
    this.proc.send(m);
  }
}

class Run {
  readonly emitted = new Map<number, number>();
  workers: Child[] = [];

  constructor(
    readonly server: Child,
    /** The full client's marker arrivals. */
    readonly fullArrivals: MarkerArrivals,
  ) {
    server.onMessage = (m) => {
      const mk = m.marker as { seq: number; t: number } | undefined;
      if (mk) this.emitted.set(mk.seq, mk.t);
    };
  }

  get pid(): number {
    return this.server.proc.pid!;
  }

  /** Everyone's arrivals so far, merged: seq -> [last arrival, viewers]. */
  async collect(): Promise<Map<number, [number, number]>> {
    const merged = new Map<number, [number, number]>();
    const add = (rows: [number, number, number][]): void => {
      for (const [s, t, n] of rows) {
        const e = merged.get(s);
        if (e) {
          e[0] = Math.max(e[0], t);
          e[1] += n;
        } else merged.set(s, [t, n]);
      }
    };
    add(this.fullArrivals.drain());
    const replies = this.workers.map((w) => w.next<[number, number, number][]>('arrivals'));
    for (const w of this.workers) w.send({ collect: true });
    for (const r of await Promise.all(replies)) add(r);
    return merged;
  }

  /** CPU, memory and marker latency over `seconds` with the viewers there are. */
  async phase(seconds: number, viewers: number): Promise<Phase> {
    await this.collect(); // forget what came before
    const m0 = monotonicNowMs();
    const traffic0 = await this.traffic();
    const c0 = procCpuSplitMs(this.pid);
    const t0 = performance.now();
    const firstSeq = Math.max(0, ...this.emitted.keys()) + 1;
    await sleep(seconds * 1000);
    const wallMs = performance.now() - t0;
    // For a profiler attached to the server on the same clock (perf record -k CLOCK_MONOTONIC).
    if (process.env.SPICED_PHASE_TIMES) {
      process.stderr.write(
        `phase ${viewers} viewers: CLOCK_MONOTONIC ${(m0 / 1000).toFixed(3)},${(monotonicNowMs() / 1000).toFixed(3)} s\n`,
      );
    }
    const c1 = procCpuSplitMs(this.pid);
    const cpuPct = ((c1.user + c1.system - c0.user - c0.system) / wallMs) * 100;
    const sysPct = ((c1.system - c0.system) / wallMs) * 100;
    const perViewerRates = trafficRates(traffic0, await this.traffic(), wallMs / 1000);
    const lastSeq = Math.max(0, ...this.emitted.keys());
    const rss = rssMb(this.pid);
    await sleep(1000); // the window's last markers arrive
    const arrivals = await this.collect();
    const latencies: number[] = [];
    let missing = 0;
    for (let s = firstSeq; s <= lastSeq; s++) {
      const a = arrivals.get(s);
      const t = this.emitted.get(s);
      if (!a || t === undefined || a[1] < viewers) missing++;
      else latencies.push(a[0] - t);
    }
    latencies.sort((a, b) => a - b);
    return {
      cpuPct,
      sysPct,
      rssMb: rss,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      missing,
      markers: lastSeq - firstSeq + 1,
      perViewerRates,
    };
  }

  private traffic(): Promise<Traffic> {
    const reply = this.server.next<Traffic>('traffic');
    this.server.send({ traffic: true });
    return reply;
  }
}

interface Options {
  streams: boolean;
  imageQuality: string;
}

async function startServer(source: string, o: Options): Promise<{ server: Child; port: number; fdLimit: string }> {
  const args = [...(source === 'demo' ? [] : ['--play', source]), '--image-quality', o.imageQuality];
  // SPICED_NODE_FLAGS: node flags for the server only (e.g. --cpu-prof --cpu-prof-dir=DIR).
  const execArgv = (process.env.SPICED_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
  const server = new Child(
    fork(here('./viewers-server-child.js'), args, {
      execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const ready = await server.next<{ port: number; fdLimit: string }>('ready');
  return { server, ...ready };
}

async function startFullClient(port: number, arrivals: MarkerArrivals, streams: boolean): Promise<SpiceClient> {
  const channels = [ChannelType.Display, ChannelType.Cursor, ChannelType.Inputs];
  const full = new SpiceClient({ port, channels, streams });
  await full.connect();
  const seen = arrivals.viewer();
  full.channels.get(ChannelType.Display)!.on('message', (type, body) => {
    const s = markerSeq(type, body);
    if (s !== undefined) seen(s);
  });
  await full.waitFor(() => full.display.marks > 0, 30_000, "the full client's first frame");
  return full;
}

/** Light viewers over workers of at most `perWorker` each; resolves when all have their first frame. */
async function connectLight(run: Run, port: number, count: number, perWorker: number): Promise<void> {
  const jobs: Promise<unknown>[] = [];
  for (let left = count; left > 0; left -= perWorker) {
    const w = new Child(
      fork(here('./viewers-worker.js'), [], {
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    run.workers.push(w);
    jobs.push(w.next('connected'));
    w.send({ connect: { port, count: Math.min(perWorker, left) } });
  }
  await Promise.all(jobs);
}

async function measure(source: string, viewers: number, perWorker: number, steady: number, o: Options): Promise<Row> {
  const { server, port, fdLimit } = await startServer(source, o);
  const arrivals = new MarkerArrivals();
  const full = await startFullClient(port, arrivals, o.streams);
  const run = new Run(server, arrivals);
  try {
    await sleep(1000);
    const one = await run.phase(steady, 1);
    let connectMsPerViewer: number | undefined;
    let connectWallMs = 0;
    let all = one;
    if (viewers > 1) {
      const c0 = procCpuMs(run.pid);
      const t0 = performance.now();
      await connectLight(run, port, viewers - 1, perWorker);
      connectWallMs = performance.now() - t0;
      const cpu = procCpuMs(run.pid) - c0;
      await sleep(1000);
      all = await run.phase(steady, viewers);
      // While they join, the animation's cost grows from one viewer's to all of theirs.
      const base = ((one.cpuPct + all.cpuPct) / 2 / 100) * connectWallMs;
      connectMsPerViewer = (cpu - base) / (viewers - 1);
    }
    let stalled: Phase | undefined;
    if (viewers > 1) {
      const w = run.workers[0]!;
      const ack = w.next('stalled');
      w.send({ stall: { port } });
      await ack;
      await sleep(2000); // its socket buffers fill
      stalled = await run.phase(steady, viewers);
    }
    const frozen = server.next<{ digest: string; streams: number }>('frozen');
    server.send({ freeze: true });
    const { digest, streams } = await frozen;
    let finalFrameOk = true;
    await full
      .waitFor(() => rgbDigest(full.display.primary!.data) === digest, 15_000, "the server's final frame")
      .catch(() => (finalFrameOk = false));
    const memPerViewerMb = viewers > 1 ? (all.rssMb - one.rssMb) / (viewers - 1) : undefined;
    return {
      source,
      viewers,
      fdLimit,
      one,
      all,
      stalled,
      connectMsPerViewer,
      connectWallMs,
      memPerViewerMb,
      finalFrameOk,
      streams,
    };
  } finally {
    full.close();
    for (const w of run.workers) w.send({ close: true });
    const exited = new Promise((r) => server.proc.once('exit', r));
    server.send({ stop: true });
    await Promise.race([exited, sleep(5000)]);
    server.proc.kill();
  }
}

const f1 = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(1));

function printRow(r: Row): void {
  const ratio = r.all.cpuPct / r.one.cpuPct;
  process.stdout.write(
    `${r.source.padEnd(14)} ${String(r.viewers).padStart(4)} viewers | CPU ${f1(r.all.cpuPct).padStart(5)} % (${f1(r.all.sysPct)} kernel; ${f1(ratio)}x one viewer's ${f1(r.one.cpuPct)} %) | RSS ${f1(r.all.rssMb)} MB, ` +
      `${r.memPerViewerMb === undefined ? '-' : (r.memPerViewerMb * 1024).toFixed(0)} KB/viewer | connect ${f1(r.connectMsPerViewer)} ms CPU/viewer (all in ${(r.connectWallMs / 1000).toFixed(1)} s) | ` +
      `change to last viewer p50 ${f1(r.all.p50)} p95 ${f1(r.all.p95)} ms (${r.all.missing}/${r.all.markers} late)` +
      (r.stalled
        ? ` | +1 stalled: CPU ${f1(r.stalled.cpuPct)} %, RSS ${f1(r.stalled.rssMb)} MB, p50 ${f1(r.stalled.p50)} p95 ${f1(r.stalled.p95)} ms (${r.stalled.missing}/${r.stalled.markers} late)`
        : '') +
      ` | final frame ${r.finalFrameOk ? 'equal' : 'DIFFERENT'} | streams started ${r.streams}\n`,
  );
  const rates = Object.entries(r.all.perViewerRates).map(
    ([ch, t]) =>
      `${ch} ${f1(t.messages)} messages, ${f1(t.flushes)} flushes (${f1(t.shared)} shared), ${f1(t.units)} writes, ${f1(t.received)} received, ${f1(t.readings)} link readings, ${f1(t.cacheHits)} cache hits, ${f1(t.cacheMisses)} misses` +
      (ch === 'display'
        ? ` (server: ${f1(t.encodes)} images encoded a second; ${f1(t.lossyShare * 100)} % of viewers taking JPEG; ${f1(t.fromLogShare * 100)} % of draws from the shared log)`
        : ''),
  );
  process.stdout.write(`${''.padEnd(28)}per connection per second: ${rates.join('; ')}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      counts: { type: 'string', default: '1,10,100,500' },
      sources: { type: 'string', default: 'demo,recordings/office-10min.spicedrec' },
      'per-worker': { type: 'string', default: '100' },
      steady: { type: 'string', default: '5' },
      json: { type: 'string' },
      streams: { type: 'boolean', default: false },
      'image-quality': { type: 'string', default: 'auto' },
    },
  });
  const o: Options = { streams: values.streams!, imageQuality: values['image-quality']! };
  const rows: Row[] = [];
  for (const source of values.sources!.split(',')) {
    for (const n of values.counts!.split(',').map(Number)) {
      const row = await measure(source, n, Number(values['per-worker']), Number(values.steady), o);
      if (rows.length === 0) process.stdout.write(`server descriptor limit: ${row.fdLimit}\n`);
      printRow(row);
      rows.push(row);
    }
  }
  if (values.json) writeFileSync(values.json, JSON.stringify(rows, null, 2));
}

await main();
