import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { addressKey } from '../src/util/address.js';
import { SpiceServer, type SpiceServerOptions } from '../src/server/server.js';
import { memoryLogger, type LogRecord } from '../src/util/log.js';
import { closedWithin, halfOpen, logged, viewerGetsFrame } from './helpers/half-open.js';
import { PatternSource } from './helpers/pattern-source.js';

const open: net.Socket[] = [];
let server: SpiceServer | undefined;

async function start(options: Partial<SpiceServerOptions>): Promise<{ server: SpiceServer; records: LogRecord[] }> {
  const { logger, records } = memoryLogger('info');
  server = new SpiceServer({ source: new PatternSource(), port: 0, log: logger, warmUp: false, ...options });
  await server.start();
  return { server, records };
}

async function hold(port: number, from: string, bytes?: string): Promise<net.Socket> {
  const s = await halfOpen(port, from, bytes);
  open.push(s);
  return s;
}

afterEach(async () => {
  for (const s of open.splice(0)) s.destroy();
  await server?.stop();
  server = undefined;
});

describe('connections that have not authenticated', () => {
  it('a partial HTTP request is closed at its deadline, with a log line naming the peer', async () => {
    const { server, records } = await start({ linkTimeoutMs: 600 });
    const sock = await hold(server.port, '127.0.0.1', 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const local = sock.localPort;
    const took = await closedWithin(sock, 3000);
    expect(took).toBeDefined();
    expect(took!).toBeGreaterThanOrEqual(500);
    await logged(records, new RegExp(`from 127\\.0\\.0\\.1:${local} closed: HTTP request not done within 600 ms`));
  });

  it('a WebSocket upgrade that stops half way is closed the same way', async () => {
    const { server, records } = await start({ linkTimeoutMs: 600 });
    const request = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n';
    const sock = await hold(server.port, '127.0.0.1', request);
    const local = sock.localPort;
    expect(await closedWithin(sock, 3000)).toBeDefined();
    await logged(records, new RegExp(`127\\.0\\.0\\.1:${local} closed: HTTP request not done`));
  });

  it('refuses the N+1th from one address at once while another address still connects', async () => {
    const { server, records } = await start({ preAuth: { perAddress: 3 } });
    for (let i = 0; i < 3; i++) await hold(server.port, '127.0.0.1');
    const fourth = await hold(server.port, '127.0.0.1');
    expect(await closedWithin(fourth, 1000)).toBeDefined();
    await logged(records, /127\.0\.0\.1:\d+ refused: 3 connections from 127\.0\.0\.1 are already waiting.* \(limit 3/);
    await viewerGetsFrame(server.port, '127.0.0.2', 'a frame for the viewer from 127.0.0.2');
    // The three held from 127.0.0.1 are still open: refusal took nothing from them.
    expect(open.slice(0, 3).every((s) => !s.destroyed)).toBe(true);
  });

  it('an authenticated connection no longer counts: a viewer gets all its channels under a cap of 3', async () => {
    const { server } = await start({ preAuth: { perAddress: 3 } });
    expect(await viewerGetsFrame(server.port, '127.0.0.3', 'a frame')).toBeGreaterThanOrEqual(4);
  });

  it('at the total cap the oldest of the busiest address makes room, and a new viewer gets in', async () => {
    const { server, records } = await start({ preAuth: { perAddress: 10, total: 4 } });
    const first = await hold(server.port, '127.0.0.2');
    const firstPort = first.localPort;
    for (let i = 0; i < 3; i++) await hold(server.port, '127.0.0.2');
    await viewerGetsFrame(server.port, '127.0.0.1', 'a frame');
    expect(await closedWithin(first, 1000)).toBeDefined();
    await logged(records, new RegExp(`127\\.0\\.0\\.2:${firstPort} closed to make room: 4 connections are waiting`));
  });

  it('groups IPv6 sources by /64 and IPv4-mapped ones as IPv4', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:db8:1:2:bbbb::2'));
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
    expect(addressKey('::ffff:127.0.0.2')).toBe('127.0.0.2');
  });
});

/** A server in a child process with a descriptor limit of `limit`, printing its port. */
interface ChildServer {
  pid: number;
  port: Promise<number>;
  stderr: () => string;
  stdout: () => string;
  stop: () => void;
}

function childServer(limit: number, body = ''): ChildServer {
  const dir = mkdtempSync(join(tmpdir(), 'spiced-fd-'));
  const dist = resolve('dist/src');
  const script = join(dir, 'server.mjs');
  writeFileSync(
    script,
    `import { SpiceServer } from '${dist}/server/server.js';
import { DemoSource } from '${dist}/sources/demo/demo-source.js';
import { Logger, stderrSink } from '${dist}/util/log.js';
import { openSync, closeSync } from 'node:fs';
const log = new Logger('info', stderrSink);
const source = new DemoSource({ still: true, width: 320, height: 240 });
const preAuth = { perAddress: 100000, total: 100000 };
const server = new SpiceServer({ source, port: 0, log, warmUp: false, audio: false, preAuth });
await server.start();
${body}
process.stdout.write(server.port + '\\n');
`,
  );
  const command = `ulimit -n ${limit} && exec "${process.execPath}" "${script}"`;
  const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const port = new Promise<number>((resolvePort, reject) => {
    child.stdout.once('data', (c: Buffer) => resolvePort(Number(c.toString().trim())));
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${err}`)));
  });
  return { pid: child.pid!, port, stderr: () => err, stdout: () => out, stop: () => child.kill() };
}

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('running out of descriptors', () => {
  it('EMFILE on accept is logged, and the server serves again once descriptors free up', async () => {
    // The child fills every descriptor it has left with /dev/null, then frees them on SIGUSR2.
    const child = childServer(
      128,
      `const filler = [];
for (;;) { try { filler.push(openSync('/dev/null', 'r')); } catch { break; } }
process.on('SIGUSR2', () => { for (const fd of filler.splice(0)) closeSync(fd); process.stdout.write('freed\\n'); });`,
    );
    try {
      const port = await child.port;
      const refused = await halfOpen(port, '127.0.0.1').catch(() => undefined);
      const emfile = /error out of file descriptors \(EMFILE, limit 128\): new connections are dropped/;
      await until('the EMFILE log line', () => emfile.test(child.stderr()), 10_000);
      if (refused) expect(await closedWithin(refused, 2000)).toBeDefined();
      process.kill(child.pid, 'SIGUSR2');
      await until('the descriptors to be freed', () => child.stdout().includes('freed'), 5000);
      await viewerGetsFrame(port, '127.0.0.1', 'a frame after descriptors freed up');
    } finally {
      child.stop();
    }
  });

  it('near the limit, connections waiting to authenticate make room, so a viewer is not dropped', async () => {
    const child = childServer(128);
    try {
      const port = await child.port;
      const one = (): Promise<net.Socket | undefined> => halfOpen(port, '127.0.0.2').catch(() => undefined);
      const flood = await Promise.all(Array.from({ length: 200 }, one));
      for (const s of flood) if (s) open.push(s);
      await viewerGetsFrame(port, '127.0.0.1', 'a frame beside 200 half-open connections');
      expect(child.stderr()).toMatch(/closed to make room: few descriptors left \(\d+ of 128 in use\)/);
    } finally {
      child.stop();
    }
  });
});
