/**
 * TLS throughput of the stream layer, against Node's own TLS ceiling measured in the same run.
 *
 *   npm run build && node dist/bench/tls.js
 *
 * - node: tls.createServer writes 64 KiB buffers as fast as a tls.connect client reads them.
 * - spiced: a SpiceServer on a TLS port (display compression off, so raw 32-bit bitmaps travel as
 *   referenced iovecs and no image encoding hides the stream layer; image cache off, so no content
 *   hashing either) fed 512x512 `copy` commands through a FeedSource, read by a lean display
 *   channel that parses headers, ACKs like spice-gtk and skips bodies (the counterpart of node's
 *   discarding reader), for each TLS coalescing policy with cork on, and flush with cork off.
 * - three reference rows for cork on / flush: with the image cache on (each image new and hashed),
 *   read by the project's SpiceClient (which gathers every body), and with a SpiceClient that
 *   draws every image into its framebuffer (a whole viewer's cost).
 *
 * The reader runs in a child process (bench/tls-peer.ts): "server CPU" is this process alone,
 * "client CPU" the child's. Each case runs ROUNDS times, rounds interleaved so that noise from
 * other work on the machine spreads over every case; figures are medians. MB = 10^6 bytes of
 * plaintext (SPICE bytes with their headers, or raw bytes for node).
 */
import { median } from './common.js';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { pathToFileURL } from 'node:url';
import type { DisplayChannelClient } from '../src/channels/display.js';
import type { PixelImage } from '../src/display/pixels.js';
import { makeCertificates, type TlsMaterial } from '../src/server/certs.js';
import { SpiceServer } from '../src/server/server.js';
import { FeedSource } from '../src/sources/feed.js';
import type { StreamPolicy } from '../src/transport/policy.js';
import { recordsOfWrite } from '../src/transport/tls-records.js';
import { meterWrites } from './write-meter.js';
import { Feeder, IMAGE_SIDE, makePool, SURFACE } from './tls-feeder.js';
import { measurePeer, type Counts, type PeerConfig, type PeerSample } from './tls-peer.js';

export interface TlsBenchResult {
  suite: 'tls';
  name: string;
  kind: 'node' | 'spiced';
  policy: StreamPolicy | undefined;
  /** Median plaintext MB/s delivered to the reader, and every run's figure. */
  MBps: number;
  runsMBps: number[];
  /** Median CPU milliseconds per MB delivered: this process (server) and the reader's. */
  serverCpuMsPerMB: number;
  clientCpuMsPerMB: number;
  /** Median CPU load over the window, in % of one core. */
  serverCpuPct: number;
  clientCpuPct: number;
  tlsRecordsPerMB: number;
  sslWritesPerMB: number;
  /** spiced only: pipe flushes per MB, and draws the server collapsed into damage (should be 0). */
  flushesPerMB: number;
  damagedCommands: number;
  /** spiced / node MB/s (medians); 1 for node itself. */
  ratioToNode: number;
  cipher: string;
  measuredBytes: number;
  runs: number;
}

const ROUNDS = 5;
const WARMUP_BYTES = 32 << 20;
const MEASURE_BYTES = 128 << 20;
const NODE_WRITE = 64 << 10;

interface Sample extends PeerSample {
  damagedCommands: number;
}

interface Case {
  name: string;
  policy: StreamPolicy | undefined;
  /** spiced: `lean` skips bodies like node's reader discards; `spice` is the project's SpiceClient. */
  reader: 'lean' | 'spice';
  /** spiced, SpiceClient reader: draw every image (a full viewer) instead of only counting. */
  draw: boolean;
  /** spiced: the display channel's image cache: every image is content-hashed (needs `fresh`). */
  imageCache: boolean;
  /**
   * spiced: every image new (a copy of a pool image with a serial stamped in: with the cache on,
   * FROM_CACHE would send descriptors only). Off, a few pool images are reused. The copies are the
   * bench's own cost (a fresh 1 MiB buffer each, so more GC); the row without the cache shows it.
   */
  fresh: boolean;
}

const ON_FLUSH: StreamPolicy = { cork: 'on', coalesce: 'flush' };

/** A spiced case: lean reader, pool images, no cache unless `more` says otherwise. */
function spiced(name: string, policy: StreamPolicy, more: Partial<Case> = {}): Case {
  return { name, policy, reader: 'lean', draw: false, imageCache: false, fresh: false, ...more };
}

const CASES: readonly Case[] = [
  { name: 'node tls (ceiling)', policy: undefined, reader: 'lean', draw: false, imageCache: false, fresh: false },
  spiced('spiced on/none', { cork: 'on', coalesce: 'none' }),
  spiced('spiced on/small', { cork: 'on', coalesce: 'small' }),
  spiced('spiced on/flush', ON_FLUSH),
  spiced('spiced off/flush', { cork: 'off', coalesce: 'flush' }),
  spiced('on/flush fresh images', ON_FLUSH, { fresh: true }),
  spiced('on/flush +image cache', ON_FLUSH, { fresh: true, imageCache: true }),
  spiced('on/flush SpiceClient', ON_FLUSH, { reader: 'spice' }),
  spiced('on/flush +drawing', ON_FLUSH, { reader: 'spice', draw: true }),
];

/** Node's ceiling: write the same 64 KiB buffer whenever the socket takes more. */
function blast(socket: tls.TLSSocket, counts: Counts): void {
  socket.setNoDelay(true);
  meterWrites(socket, (n) => {
    counts.sslWrites++;
    counts.tlsRecords += recordsOfWrite(n);
  });
  const buf = Buffer.alloc(NODE_WRITE, 0x5a);
  const write = (): void => {
    while (!socket.destroyed && socket.write(buf));
  };
  socket.on('drain', write);
  socket.on('error', () => {}); // the reader hangs up mid-stream by design
  write();
}

async function runNode(material: TlsMaterial): Promise<Sample> {
  const counts: Counts = { sslWrites: 0, tlsRecords: 0, flushes: 0 };
  const server = tls.createServer({ cert: material.cert, key: material.key, minVersion: 'TLSv1.2' }, (s) =>
    blast(s, counts),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const cfg: PeerConfig = {
      mode: 'node',
      draw: false,
      port,
      ca: material.ca,
      warmupBytes: WARMUP_BYTES,
      measureBytes: MEASURE_BYTES,
    };
    return {
      ...(await measurePeer(
        cfg,
        () => ({ ...counts }),
        () => {},
      )),
      damagedCommands: 0,
    };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function runSpiced(material: TlsMaterial, c: Case, pool: readonly PixelImage[]): Promise<Sample> {
  const feed = new FeedSource('tls-bench');
  feed.push({ kind: 'surfaceCreate', surfaceId: 0, width: SURFACE.width, height: SURFACE.height, primary: true });
  const display = { compression: 'off' as const, imageCache: c.imageCache };
  const server = new SpiceServer({
    source: feed,
    port: null,
    tlsPort: 0,
    tls: material,
    policy: c.policy,
    display,
    pingIntervalSeconds: 0,
  });
  await server.start();
  let feeder: Feeder | undefined;
  // Kept once found: the reader may hang up before its last report is handled here.
  let found: DisplayChannelClient | undefined;
  const viewer = (): DisplayChannelClient => {
    found ??= [...server.display.clients][0];
    if (!found) throw new Error('TLS bench: no display client on the server');
    return found;
  };
  const counts = (): Counts => {
    const s = viewer().stream.snapshot();
    return { sslWrites: s.sslWrites, tlsRecords: s.tlsRecords, flushes: s.flushes };
  };
  try {
    const cfg: PeerConfig = {
      mode: c.reader,
      draw: c.draw,
      port: server.port,
      ca: material.ca,
      warmupBytes: WARMUP_BYTES,
      measureBytes: MEASURE_BYTES,
    };
    const sample = await measurePeer(cfg, counts, () => {
      feeder = new Feeder(feed, viewer(), pool, c.fresh);
      feeder.start();
    });
    return { ...sample, damagedCommands: viewer().damagedCommands };
  } finally {
    feeder?.stop();
    await server.stop();
  }
}

function summarise(c: Case, samples: Sample[]): TlsBenchResult {
  const perMB = (f: (s: Sample) => number): number => median(samples.map((s) => f(s) / (s.bytes / 1e6)));
  const runsMBps = samples.map((s) => s.bytes / 1e6 / (s.ms / 1000));
  return {
    suite: 'tls',
    name: c.name,
    kind: c.policy ? 'spiced' : 'node',
    policy: c.policy,
    MBps: median(runsMBps),
    runsMBps,
    serverCpuMsPerMB: perMB((s) => s.serverCpuMs),
    clientCpuMsPerMB: perMB((s) => s.clientCpuMs),
    serverCpuPct: median(samples.map((s) => (100 * s.serverCpuMs) / s.ms)),
    clientCpuPct: median(samples.map((s) => (100 * s.clientCpuMs) / s.ms)),
    tlsRecordsPerMB: perMB((s) => s.tlsRecords),
    sslWritesPerMB: perMB((s) => s.sslWrites),
    flushesPerMB: perMB((s) => s.flushes),
    damagedCommands: samples.reduce((n, s) => n + s.damagedCommands, 0),
    ratioToNode: 1,
    cipher: samples[0]!.cipher,
    measuredBytes: samples.reduce((n, s) => n + s.bytes, 0),
    runs: samples.length,
  };
}

export interface TlsBenchOptions {
  /** Run only the cases with these names (profiling one case: `--only 'spiced on/flush'`). */
  only?: readonly string[];
  rounds?: number;
}

export async function runTlsBench(options: TlsBenchOptions = {}): Promise<TlsBenchResult[]> {
  const material = await makeCertificates(['127.0.0.1']);
  const pool = makePool();
  const cases = CASES.filter((c) => !options.only || options.only.includes(c.name));
  if (cases.length === 0)
    throw new Error(
      `TLS bench: no case named ${options.only?.join(', ')} (cases: ${CASES.map((c) => c.name).join(', ')})`,
    );
  const samples = cases.map((): Sample[] => []);
  for (let round = 0; round < (options.rounds ?? ROUNDS); round++) {
    for (const [i, c] of cases.entries()) {
      samples[i]!.push(c.policy ? await runSpiced(material, c, pool) : await runNode(material));
    }
  }
  const results = cases.map((c, i) => summarise(c, samples[i]!));
  const ceiling = results.find((r) => r.kind === 'node')?.MBps ?? Number.NaN;
  for (const r of results) r.ratioToNode = r.MBps / ceiling;
  return results;
}

const COLUMNS: ReadonlyArray<[string, number, (r: TlsBenchResult) => string]> = [
  ['MB/s', 7, (r) => r.MBps.toFixed(0)],
  ['runs MB/s', 26, (r) => r.runsMBps.map((v) => v.toFixed(0)).join(' ')],
  ['x node', 7, (r) => r.ratioToNode.toFixed(2)],
  ['srv ms/MB', 10, (r) => r.serverCpuMsPerMB.toFixed(2)],
  ['srv %', 6, (r) => r.serverCpuPct.toFixed(0)],
  ['cli ms/MB', 10, (r) => r.clientCpuMsPerMB.toFixed(2)],
  ['cli %', 6, (r) => r.clientCpuPct.toFixed(0)],
  ['rec/MB', 8, (r) => r.tlsRecordsPerMB.toFixed(1)],
  ['SSLw/MB', 8, (r) => r.sslWritesPerMB.toFixed(1)],
  ['flush/MB', 9, (r) => (r.kind === 'node' ? '-' : r.flushesPerMB.toFixed(1))],
  ['damaged', 8, (r) => (r.kind === 'node' ? '-' : String(r.damagedCommands))],
];

export function formatTlsResults(results: TlsBenchResult[]): string {
  const cipher = [...new Set(results.map((r) => r.cipher))].join(', ');
  const lines = [
    `TLS on 127.0.0.1 (${cipher}), ${IMAGE_SIDE}x${IMAGE_SIDE} raw 32-bit images for spiced, ${NODE_WRITE >> 10} KiB writes for node; ` +
      `${MEASURE_BYTES >> 20} MiB measured after ${WARMUP_BYTES >> 20} MiB warm-up, median of ${results[0]?.runs ?? 0} interleaved runs`,
    `reader in a child process: srv = the server process alone, cli = the reader; ms/MB = CPU ms per 10^6 plaintext bytes ` +
      `delivered; % = share of one core (over 100: V8's GC threads)`,
    'case'.padEnd(24) + COLUMNS.map(([title, width]) => title.padStart(width)).join(''),
  ];
  for (const r of results)
    lines.push(r.name.padEnd(24) + COLUMNS.map(([, width, cell]) => cell(r).padStart(width)).join(''));
  const node = results.find((r) => r.kind === 'node');
  const flush = results.find((r) => r.name === 'spiced on/flush');
  const withClient = results.find((r) => r.name === 'on/flush SpiceClient');
  if (flush && node) {
    lines.push(
      `spiced (cork on, flush) / node TLS ceiling = ${flush.ratioToNode.toFixed(2)} (target >= 0.80); ` +
        `server CPU per MB ${(flush.serverCpuMsPerMB / node.serverCpuMsPerMB).toFixed(1)}x node's`,
    );
  }
  if (withClient && node) {
    lines.push(
      `the same read by SpiceClient = ${withClient.ratioToNode.toFixed(2)} of node (reader CPU per MB ` +
        `${(withClient.clientCpuMsPerMB / node.clientCpuMsPerMB).toFixed(1)}x node's reader)`,
    );
  }
  return lines.join('\n');
}

/** `--only NAME` (repeatable) and `--rounds N`, for profiling a single case. */
function parseArgs(argv: readonly string[]): TlsBenchOptions {
  const only: string[] = [];
  let rounds: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only' && argv[i + 1] !== undefined) only.push(argv[++i]!);
    else if (argv[i] === '--rounds' && argv[i + 1] !== undefined) rounds = Number(argv[++i]);
    else throw new Error(`usage: tls.js [--only CASE]... [--rounds N]`);
  }
  return { only: only.length > 0 ? only : undefined, rounds };
}

async function main(): Promise<void> {
  console.log(formatTlsResults(await runTlsBench(parseArgs(process.argv.slice(2)))));
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
