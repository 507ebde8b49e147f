/**
 * Half-open connections against a legitimate viewer (issue 12, item 3): N connections that stop
 * before authenticating, of five kinds (silent TCP, partial HTTP request, partial WebSocket
 * upgrade, partial SPICE link, stalled TLS handshake), from several 127.0.0.x source addresses;
 * then a viewer from 127.0.0.1 connects and waits for its first frame, a few times. Prints how
 * many connections the server kept and the viewer's times. With --refill-ms M, every connection
 * the server closes is opened again M ms later (a connection-rate flood rather than a held one).
 *
 *   npm run build && node dist/bench/half-open.js [--n 10000] [--addresses 8] [--viewers 5] [--refill-ms 50]
 *     [--server-fd-limit 1024] [-- serve options]
 *
 * Options after `--` go to `spiced serve` (e.g. `-- --max-pre-auth 100000 --max-pre-auth-per-address 100000`
 * to see the server without its caps). The server runs with --pre-auth-timeout 300 unless told
 * otherwise, so that the connections it keeps are still held when the last viewers connect (with
 * the default 10 s, the deadlines clear them while the flood is still being opened).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SpiceClient } from '../src/client/client.js';
import { makeCertificates, writeCertificates } from '../src/server/certs.js';
import { raiseFdLimit } from '../src/util/fd-limit.js';
import { median } from './common.js';

interface Args {
  n: number;
  addresses: number;
  viewers: number;
  refillMs: number;
  /** The server's descriptor limit (soft and hard), 0 to leave it as inherited. */
  serverFdLimit: number;
  serveArgs: string[];
}

function parseArgs(argv: string[]): Args {
  const dash = argv.indexOf('--');
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const value = (name: string, fallback: number): number => {
    const i = own.indexOf(`--${name}`);
    return i < 0 ? fallback : Number(own[i + 1]);
  };
  return {
    n: value('n', 10_000),
    addresses: value('addresses', 8),
    viewers: value('viewers', 5),
    refillMs: value('refill-ms', 0),
    serverFdLimit: value('server-fd-limit', 0),
    serveArgs: dash < 0 ? [] : argv.slice(dash + 1),
  };
}

type Kind = 'silent TCP' | 'partial HTTP' | 'partial WebSocket' | 'partial link' | 'stalled TLS';
const KINDS: Kind[] = ['silent TCP', 'partial HTTP', 'partial WebSocket', 'partial link', 'stalled TLS'];

/** What each kind sends before it stops (TLS: the first bytes of a ClientHello record). */
const FIRST_BYTES: Record<Kind, Buffer> = {
  'silent TCP': Buffer.alloc(0),
  'partial HTTP': Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n'),
  'partial WebSocket': Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Up'),
  'partial link': Buffer.from('REDQ\x02\x00\x00\x00'),
  'stalled TLS': Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]),
};

interface Ports {
  plain: number;
  tls: number;
}

/** `spiced serve` in a child process, with certificates in a temporary directory. */
interface Server {
  child: ChildProcess;
  ports: Ports;
  log: () => string;
}

async function startServer(dir: string, extra: string[], fdLimit: number): Promise<Server> {
  await writeCertificates(dir, await makeCertificates(['127.0.0.1']));
  const main = resolve(import.meta.dirname, '..', 'src', 'cli', 'main.js');
  const args = [main, 'serve', '--port', '0', '--tls-port', '0', '--tls-dir', dir, '--still', '--no-sound'];
  const timeout = extra.includes('--pre-auth-timeout') ? [] : ['--pre-auth-timeout', '300'];
  const all = [...args, '--no-warm-up', ...timeout, '--log-level', 'warn', ...extra];
  // sh's ulimit -n sets the soft and the hard limit, so the server cannot raise it again.
  const script = `ulimit -n ${fdLimit} && exec "$0" "$@"`;
  const limited = fdLimit > 0 ? ['sh', ['-c', script, process.execPath, ...all]] : undefined;
  const [command, argv] = (limited ?? [process.execPath, all]) as [string, string[]];
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const ports = await new Promise<Ports>((done, fail) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /port=(\d+)&tls-port=(\d+)/.exec(out);
      if (m) done({ plain: Number(m[1]), tls: Number(m[2]) });
    });
    child.once('exit', (code) => fail(new Error(`spiced serve exited (${code}): ${err}`)));
  });
  return { child, ports, log: () => err };
}

/** Keeps `target` half-open connections of each kind up, opening again what the server closes. */
class Flood {
  readonly open = new Map<Kind, number>(KINDS.map((k) => [k, 0]));
  /** Connections that reached the server (and were counted open) so far. */
  opened = 0;
  closedByServer = 0;
  failedToConnect = 0;
  private stopped = false;
  private readonly sockets = new Set<net.Socket>();
  private next = 0;

  constructor(
    private readonly ports: Ports,
    private readonly sources: string[],
    private readonly perKind: number,
    private readonly refillMs: number,
  ) {}

  /** Open every connection (at most `parallel` connecting at once); resolves when all are up. */
  async fill(parallel = 256): Promise<void> {
    const jobs: Kind[] = KINDS.flatMap((k) => new Array<Kind>(this.perKind).fill(k));
    let i = 0;
    const worker = async (): Promise<void> => {
      while (i < jobs.length) await this.openOne(jobs[i++]!);
    };
    await Promise.all(Array.from({ length: parallel }, worker));
  }

  private openOne(kind: Kind): Promise<void> {
    const from = this.sources[this.next++ % this.sources.length]!;
    const port = kind === 'stalled TLS' ? this.ports.tls : this.ports.plain;
    return new Promise((done) => {
      const sock = net.connect({ host: '127.0.0.1', port, localAddress: from }, () => {
        this.open.set(kind, this.open.get(kind)! + 1);
        this.opened++;
        if (FIRST_BYTES[kind].length > 0) sock.write(FIRST_BYTES[kind]);
        done();
      });
      this.sockets.add(sock);
      let connected = false;
      sock.once('connect', () => (connected = true));
      sock.on('error', () => {});
      sock.on('data', () => {}); // a refusal may answer before closing
      sock.once('close', () => {
        this.sockets.delete(sock);
        if (connected) {
          this.open.set(kind, this.open.get(kind)! - 1);
          this.closedByServer++;
        } else {
          this.failedToConnect++;
        }
        done();
        if (!this.stopped && this.refillMs > 0) setTimeout(() => void this.openOne(kind), this.refillMs);
      });
    });
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.sockets) s.destroy();
  }
}

/** Connect a viewer from 127.0.0.1 and time it to its first frame. */
async function timeViewer(port: number): Promise<number> {
  const t0 = performance.now();
  const connect = (): net.Socket => net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.1', noDelay: true });
  const viewer = new SpiceClient({ port, connect });
  try {
    await viewer.connect();
    await viewer.waitFor(() => !!viewer.display.primary, 10_000, 'the first frame');
    return performance.now() - t0;
  } finally {
    viewer.close();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const limit = raiseFdLimit();
  const dir = mkdtempSync(join(tmpdir(), 'spiced-half-open-'));
  const server = await startServer(dir, args.serveArgs, args.serverFdLimit);
  const sources = Array.from({ length: args.addresses }, (_, i) => `127.0.0.${i + 2}`);
  const perKind = Math.ceil(args.n / KINDS.length);
  const flood = new Flood(server.ports, sources, perKind, args.refillMs);
  try {
    console.log(`bench descriptor limit: ${typeof limit === 'string' ? limit : limit.soft}`);
    const what = `${perKind} of each of ${KINDS.length} kinds from ${sources.length} addresses (${sources[0]} up)`;
    console.log(`half-open: ${what}`);
    const baseline = await timeViewer(server.ports.plain);
    const t0 = performance.now();
    const filled = flood.fill().then(() => performance.now() - t0);
    // Viewers connect while the flood builds up: at each 1/viewers of it, and once after.
    const runs: { opened: number; held: number; ms: number }[] = [];
    const total = perKind * KINDS.length;
    for (let i = 1; i <= args.viewers; i++) {
      while (flood.opened < (total * i) / (args.viewers + 1)) await new Promise((r) => setTimeout(r, 20));
      const opened = flood.opened;
      runs.push({ opened, held: opened - flood.closedByServer, ms: await timeViewer(server.ports.plain) });
    }
    const fillMs = await filled;
    const last = await timeViewer(server.ports.plain);
    runs.push({ opened: flood.opened, held: flood.opened - flood.closedByServer, ms: last });
    console.log(`opened ${total} in ${(fillMs / 1000).toFixed(1)} s`);
    const ms = (v: number): string => `${v.toFixed(0)} ms`;
    for (const r of runs) console.log(`  viewer after ${r.opened} opened, ${r.held} still open: ${ms(r.ms)}`);
    const held = [...flood.open.entries()].map(([k, v]) => `${k} ${v}`).join(', ');
    console.log(`still open at the end: ${held}`);
    console.log(`closed by the server: ${flood.closedByServer}; failed to connect: ${flood.failedToConnect}`);
    const times = runs.map((r) => r.ms);
    console.log(
      `viewer connect to first frame: idle ${ms(baseline)}; during the flood ` +
        `median ${ms(median(times))}, max ${ms(Math.max(...times))}`,
    );
    console.log(`target (every viewer within 2 s): ${Math.max(...times) < 2000 ? 'met' : 'MISSED'}`);
    const lines = server
      .log()
      .split('\n')
      .filter((l) => l.length > 0);
    console.log(`server log lines during the run: ${lines.length}`);
  } finally {
    flood.stop();
    server.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
