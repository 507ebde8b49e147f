/**
 * The reading side of the TLS bench, run in a child process so that the parent's CPU time is the
 * server's alone; `measurePeer` is the parent's end (bench/tls.ts calls it). Three readers:
 * - `node`: a plain tls.connect socket that discards what it reads (Node's own TLS ceiling);
 * - `lean`: a display channel that parses headers, ACKs like spice-gtk and skips bodies where they
 *   lie (bench/tls-lean-reader.ts): the counterpart of node's discarding reader, so that the
 *   server and not the reader is measured;
 * - `spice`: the project's SpiceClient with only the display channel. With `draw` it applies every
 *   message to its framebuffer (a viewer's full cost); without, its display listener is detached
 *   after the first frame, so it decodes nothing, but it still gathers every body into a buffer of
 *   its own (a copy and a fresh 1 MiB allocation per image), which costs it ~0.3 ms/MB more than
 *   the lean reader.
 * Each counts plaintext bytes, sends `start` once `warmupBytes` more have arrived, and `done` with
 * its own wall and CPU time once `measureBytes` more have, then hangs up.
 */
import { fork } from 'node:child_process';
import tls from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SpiceClient } from '../src/client/client.js';
import { ChannelType } from '../src/protocol/constants.js';
import { LeanDisplayReader } from './tls-lean-reader.js';

export interface PeerConfig {
  mode: 'node' | 'lean' | 'spice';
  /** spice only: apply every display message to the client's framebuffer. */
  draw: boolean;
  port: number;
  ca: string;
  warmupBytes: number;
  measureBytes: number;
}

export type PeerReport =
  | { type: 'ready' }
  | { type: 'start' }
  | { type: 'done'; bytes: number; ms: number; cpuMs: number; cipher: string; clientErrors: number }
  | { type: 'error'; message: string };

/** Server-side counters read at the start and the end of the window. */
export interface Counts {
  sslWrites: number;
  tlsRecords: number;
  flushes: number;
}

/** One measured window: reader's bytes, times and CPU; this process's CPU and counter deltas. */
export interface PeerSample extends Counts {
  bytes: number;
  ms: number;
  serverCpuMs: number;
  clientCpuMs: number;
  cipher: string;
}

const PEER_SCRIPT = fileURLToPath(import.meta.url);
const RUN_TIMEOUT_MS = 30_000;

/**
 * Fork the reader, and measure this process's CPU and the counters between its `start` and `done`
 * reports. `onReady` runs once the reader is connected (spiced: once its first frame is in).
 */
export function measurePeer(cfg: PeerConfig, counts: () => Counts, onReady: () => void): Promise<PeerSample> {
  return new Promise((resolve, reject) => {
    const child = fork(PEER_SCRIPT, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let cpu0: NodeJS.CpuUsage | undefined;
    let c0: Counts | undefined;
    let settled = false;
    const timer = setTimeout(
      () => finish(new Error(`TLS bench: ${cfg.mode} run did not finish in ${RUN_TIMEOUT_MS} ms`)),
      RUN_TIMEOUT_MS,
    );
    const finish = (err: Error | undefined, sample?: PeerSample): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.removeAllListeners('message');
      if (child.exitCode === null) child.kill();
      if (err) reject(err);
      else resolve(sample!);
    };
    const done = (r: Extract<PeerReport, { type: 'done' }>): void => {
      const cpu = process.cpuUsage(cpu0);
      const c1 = counts();
      if (!c0) return finish(new Error('TLS bench: the reader finished before it started'));
      if (r.clientErrors > 0)
        return finish(new Error(`TLS bench: the client failed to apply ${r.clientErrors} messages`));
      finish(undefined, {
        bytes: r.bytes,
        ms: r.ms,
        serverCpuMs: (cpu.user + cpu.system) / 1000,
        clientCpuMs: r.cpuMs,
        cipher: r.cipher,
        sslWrites: c1.sslWrites - c0.sslWrites,
        tlsRecords: c1.tlsRecords - c0.tlsRecords,
        flushes: c1.flushes - c0.flushes,
      });
    };
    child.on('message', (msg) => {
      const r = msg as PeerReport;
      if (r.type === 'ready') onReady();
      else if (r.type === 'start') {
        cpu0 = process.cpuUsage();
        c0 = counts();
      } else if (r.type === 'error') finish(new Error(`TLS bench reader: ${r.message}`));
      else done(r);
    });
    child.once('error', (err) => finish(err));
    child.once('exit', (code) => finish(new Error(`TLS bench reader exited (code ${code}) before reporting`)));
    child.send(cfg);
  });
}

function report(r: PeerReport): void {
  process.send?.(r);
}

/** Watches a growing byte count and reports the start and the end of the measured window. */
class MeasuredWindow {
  private from: number | undefined;
  private t0 = 0;
  private cpu0: NodeJS.CpuUsage | undefined;
  private finished = false;

  constructor(
    private readonly cfg: PeerConfig,
    private readonly base: number,
    private readonly onDone: (r: { bytes: number; ms: number; cpuMs: number }) => void,
  ) {}

  /** Called with the cumulative byte count after each read. */
  update(total: number): void {
    if (this.finished) return;
    if (this.from === undefined) {
      if (total - this.base < this.cfg.warmupBytes) return;
      this.from = total;
      this.t0 = performance.now();
      this.cpu0 = process.cpuUsage();
      report({ type: 'start' });
      return;
    }
    if (total - this.from < this.cfg.measureBytes) return;
    this.finished = true;
    const cpu = process.cpuUsage(this.cpu0);
    this.onDone({ bytes: total - this.from, ms: performance.now() - this.t0, cpuMs: (cpu.user + cpu.system) / 1000 });
  }
}

function cipherOf(socket: tls.TLSSocket): string {
  const c = socket.getCipher();
  return `${socket.getProtocol() ?? '?'} ${c.standardName ?? c.name}`;
}

function readNode(cfg: PeerConfig): void {
  let total = 0;
  const socket = tls.connect({ host: '127.0.0.1', port: cfg.port, ca: cfg.ca }, () => report({ type: 'ready' }));
  const window = new MeasuredWindow(cfg, 0, (r) => {
    report({ type: 'done', ...r, cipher: cipherOf(socket), clientErrors: 0 });
    socket.destroy();
    process.disconnect?.();
  });
  socket.on('data', (chunk: Buffer) => {
    total += chunk.length;
    window.update(total);
  });
  socket.on('error', (err) => fail(err));
}

async function readSpice(cfg: PeerConfig): Promise<void> {
  const client = new SpiceClient({ port: cfg.port, tls: { ca: cfg.ca }, channels: [ChannelType.Display] });
  await client.connect();
  // The first MARK ends the initial screen: from then on every byte is a fed command.
  await client.waitFor(() => client.display.marks > 0, 10_000, 'the first frame');
  const ch = client.channels.get(ChannelType.Display);
  if (!ch) throw new Error('the display channel did not open');
  const socket = ch.socket instanceof tls.TLSSocket ? ch.socket : undefined;
  // Detaching SpiceClient's listener leaves ACKs and byte counts to the channel (they come first).
  if (!cfg.draw) ch.removeAllListeners('message');
  const window = new MeasuredWindow(cfg, ch.stats.bytes, (r) => {
    report({ type: 'done', ...r, cipher: socket ? cipherOf(socket) : 'not TLS', clientErrors: client.errors.length });
    client.close();
    process.disconnect?.();
  });
  ch.on('message', () => window.update(ch.stats.bytes));
  report({ type: 'ready' });
}

/** The lean reader: the window starts once the first frame (the first MARK) is in. */
async function readLean(cfg: PeerConfig): Promise<void> {
  let window: MeasuredWindow | undefined;
  const reader: LeanDisplayReader = new LeanDisplayReader({
    port: cfg.port,
    ca: cfg.ca,
    onBytes: (total) => {
      if (window) return window.update(total);
      if (!reader.marked) return;
      window = new MeasuredWindow(cfg, total, (r) => {
        report({ type: 'done', ...r, cipher: reader.socket ? cipherOf(reader.socket) : '?', clientErrors: 0 });
        reader.close();
        process.disconnect?.();
      });
      report({ type: 'ready' });
    },
  });
  await reader.connect();
}

function fail(err: unknown): void {
  report({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  process.disconnect?.();
  process.exitCode = 1;
}

/** Entry point of the child: the config arrives as the first IPC message. */
export function runPeer(): void {
  process.once('message', (msg) => {
    const cfg = msg as PeerConfig;
    if (cfg.mode === 'node') readNode(cfg);
    else if (cfg.mode === 'lean') readLean(cfg).catch(fail);
    else readSpice(cfg).catch(fail);
  });
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) runPeer();
