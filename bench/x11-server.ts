/**
 * The server side of the X11 bench, run in a child process so that its CPU time
 * (process.cpuUsage: every thread of the process) is the server's alone: a SpiceServer serving an
 * X display through X11Source, as `spiced serve --x11` does. `ServerProcess` is the parent's end.
 *
 * The child logs every `copy` command the source hands to the server (time and rect) while asked
 * to, so the parent can split a draw's latency into capture (X server -> source) and delivery
 * (source -> viewer). Times on both sides are CLOCK_MONOTONIC (process.hrtime), the same clock in
 * every process.
 *
 * SPICED_BENCH_SERVER_ARGS passes Node options to the child only, e.g. to profile the server:
 *   SPICED_BENCH_SERVER_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' node dist/bench/x11.js
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DisplayCommand, DisplaySink } from '../src/seam/index.js';
import type { Rect } from '../src/protocol/geometry.js';
import { SpiceServer } from '../src/server/server.js';
import { X11Source } from '../src/sources/x11/x11-source.js';

export interface ServerConfig {
  display: string;
  /** X11Source frameIntervalMs; undefined for its default. */
  frameIntervalMs: number | undefined;
  /** X11Source paceByViewers; undefined for its default (on). */
  paceByViewers?: boolean;
  /** X11Source frameBurst; undefined for its default. */
  frameBurst?: number;
}

/** Counters of the server process at one moment. */
export interface ServerSnapshot {
  atMs: number;
  /** User + system CPU of the whole process since it started. */
  cpuMs: number;
  /** X11Source frames that fetched something, copy commands, pixels fetched from X. */
  frames: number;
  copies: number;
  pixelsFetched: number;
}

export interface CopyLogEntry {
  atMs: number;
  rect: Rect;
}

type ToServer = { type: 'snapshot' } | { type: 'log'; on: boolean } | { type: 'stop' };

type FromServer =
  | { type: 'ready'; port: number; capture: string; detection: string }
  | { type: 'snapshot'; snap: ServerSnapshot }
  | { type: 'log'; entries: CopyLogEntry[] }
  | { type: 'error'; message: string };

const SCRIPT = fileURLToPath(import.meta.url);
const START_TIMEOUT_MS = 15_000;
const REPLY_TIMEOUT_MS = 10_000;

/** Monotonic milliseconds, comparable between processes on one machine. */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** The parent's handle on a server child: start it, ask for counters and copy logs, stop it. */
export class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly capture: string,
    readonly detection: string,
  ) {}

  static async start(cfg: ServerConfig): Promise<ServerProcess> {
    const execArgv = (process.env.SPICED_BENCH_SERVER_ARGS ?? '').split(' ').filter((a) => a !== '');
    const child = fork(SCRIPT, [JSON.stringify(cfg)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      const ready = await nextReply(child, 'ready', START_TIMEOUT_MS);
      return new ServerProcess(child, ready.port, ready.capture, ready.detection);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }

  async snapshot(): Promise<ServerSnapshot> {
    const reply = nextReply(this.child, 'snapshot', REPLY_TIMEOUT_MS);
    this.child.send({ type: 'snapshot' } satisfies ToServer);
    return (await reply).snap;
  }

  startCopyLog(): void {
    this.child.send({ type: 'log', on: true } satisfies ToServer);
  }

  /** Stop logging and return what was logged since startCopyLog(). */
  async takeCopyLog(): Promise<CopyLogEntry[]> {
    const reply = nextReply(this.child, 'log', REPLY_TIMEOUT_MS);
    this.child.send({ type: 'log', on: false } satisfies ToServer);
    return (await reply).entries;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'stop' } satisfies ToServer);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** The child's next message of `type` (an 'error' message, an exit or a timeout rejects). */
function nextReply<K extends FromServer['type']>(
  child: ChildProcess,
  type: K,
  timeoutMs: number,
): Promise<Extract<FromServer, { type: K }>> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (m: FromServer): void => {
      if (m.type === 'error') {
        cleanup();
        reject(new Error(`X11 bench server: ${m.message}`));
      } else if (m.type === type) {
        cleanup();
        resolve(m as Extract<FromServer, { type: K }>);
      }
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`X11 bench server exited (code ${code}) while waiting for '${type}'`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`X11 bench server: no '${type}' after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

// ---------------------------------------------------------------- the child

/** Forwards to the server's desktop, logging copy commands while `logging` is set. */
class LoggingSink implements DisplaySink {
  logging = false;
  readonly entries: CopyLogEntry[] = [];

  constructor(private readonly inner: DisplaySink) {}

  get pace(): DisplaySink['pace'] {
    return this.inner.pace;
  }

  display(cmd: DisplayCommand): void {
    if (this.logging && cmd.kind === 'copy') this.entries.push({ atMs: monoMs(), rect: cmd.dest });
    this.inner.display(cmd);
  }

  cursor(cmd: Parameters<DisplaySink['cursor']>[0]): void {
    this.inner.cursor(cmd);
  }
}

function reply(m: FromServer): void {
  process.send?.(m);
}

function snapshot(source: X11Source): ServerSnapshot {
  const cpu = process.cpuUsage();
  const stats = source.stats;
  return {
    atMs: monoMs(),
    cpuMs: (cpu.user + cpu.system) / 1000,
    frames: stats?.frames ?? 0,
    copies: stats?.copies ?? 0,
    pixelsFetched: stats?.pixelsFetched ?? 0,
  };
}

async function serve(cfg: ServerConfig): Promise<void> {
  const source = new X11Source({
    display: cfg.display,
    frameIntervalMs: cfg.frameIntervalMs,
    paceByViewers: cfg.paceByViewers,
    frameBurst: cfg.frameBurst,
    xauthority: undefined,
    log: (level, msg) => (level === 'warn' || level === 'error' ? console.error(msg) : undefined),
  });
  let sink: LoggingSink | undefined;
  const server = new SpiceServer({
    source,
    port: 0,
    audio: false,
    web: false,
    wrapSink: (desktop) => (sink = new LoggingSink(desktop)),
  });
  await server.start();
  process.on('message', (m: ToServer) => {
    if (m.type === 'snapshot') reply({ type: 'snapshot', snap: snapshot(source) });
    else if (m.type === 'log' && sink) {
      sink.logging = m.on;
      if (!m.on) reply({ type: 'log', entries: sink.entries.splice(0) });
    } else if (m.type === 'stop') {
      // Exit only once the server is down (sockets closed, the SHM segment detached).
      void server.stop().finally(() => process.exit(0));
    }
  });
  reply({
    type: 'ready',
    port: server.port,
    capture: source.captureMethod ?? 'none',
    detection: source.changeDetection ?? 'none',
  });
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as ServerConfig;
  serve(cfg).catch((err: unknown) => {
    reply({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    process.exitCode = 1;
    process.disconnect?.();
  });
}
