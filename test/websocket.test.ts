import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebSocketStream, WebSocket } from 'ws';
import { SpiceClient } from '../src/client/client.js';
import { sameRgb } from '../src/display/pixels.js';
import { ChannelType } from '../src/protocol/constants.js';
import { makeCertificates, type TlsMaterial } from '../src/server/certs.js';
import { SpiceServer } from '../src/server/server.js';
import { memoryLogger } from '../src/util/log.js';
import { PatternSource } from './helpers/pattern-source.js';
import { exchange } from './helpers/net.js';

/** A SPICE client whose every channel is a WebSocket (as spice-html5 does it). */
function wsClient(url: string, opts: { ca?: string; origin?: string } = {}): SpiceClient {
  return new SpiceClient({
    port: 0,
    channels: [ChannelType.Display, ChannelType.Inputs],
    connect: () =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url, 'binary', { ca: opts.ca, origin: opts.origin });
        ws.once('open', () => resolve(createWebSocketStream(ws)));
        ws.once('error', reject);
        ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      }),
  });
}

describe('WebSocket on the SPICE ports', () => {
  const { logger, records } = memoryLogger('info');
  let tls: TlsMaterial;
  let server: SpiceServer;

  beforeAll(async () => {
    tls = await makeCertificates(['127.0.0.1']);
    server = new SpiceServer({
      source: new PatternSource(),
      port: 0,
      tlsPort: 0,
      tls,
      log: logger,
      linkTimeoutMs: 1500,
      web: { maxMessageSize: 4096, allowOrigins: ['https://viewer.example'] },
    });
    await server.start();
  });
  afterAll(() => server.stop());

  it('ws://: a full session over WebSockets, frames carrying raw SPICE bytes', async () => {
    const c = wsClient(`ws://127.0.0.1:${server.plainPort}/websockify`);
    await c.connect();
    await c.waitFor(
      () => !!c.display.primary && sameRgb(c.display.primary, server.desktop.primary!),
      5000,
      'frame over ws',
    );
    c.close();
  });

  it('wss:// on the TLS port, with the same SPICE inside', async () => {
    const c = wsClient(`wss://127.0.0.1:${server.tlsPort}/`, { ca: tls.ca });
    await c.connect();
    await c.waitFor(
      () => !!c.display.primary && sameRgb(c.display.primary, server.desktop.primary!),
      5000,
      'frame over wss',
    );
    expect(records.some((r) => /main:0 linked \(session [0-9a-f]+, wss\)/.test(r.message))).toBe(true);
    c.close();
  });

  it('closes a WebSocket that sends a text frame with 1008 and the reason, and logs it', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.plainPort}/`, 'binary');
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.send('REDQ as text');
    expect(await closed).toEqual({ code: 1008, reason: 'text frame on a SPICE WebSocket' });
    const logged =
      /link from 127\.0\.0\.1:\d+ abandoned: connection error during link: text frame on a SPICE WebSocket/;
    for (let t = 0; t < 40 && !records.some((r) => logged.test(r.message)); t++)
      await new Promise((r) => setTimeout(r, 50));
    expect(records.some((r) => logged.test(r.message))).toBe(true);
  });

  it('refuses a foreign Origin (403) and logs it; allows listed and same-origin pages', async () => {
    await expect(
      wsClient(`ws://127.0.0.1:${server.plainPort}/`, { origin: 'https://evil.example' }).connect(),
    ).rejects.toThrow(/403/);
    expect(
      records.some((r) =>
        /WebSocket from 127\.0\.0\.1:\d+ refused: origin https:\/\/evil\.example is not allowed/.test(r.message),
      ),
    ).toBe(true);
    const listed = wsClient(`ws://127.0.0.1:${server.plainPort}/`, { origin: 'https://viewer.example' });
    await listed.connect();
    listed.close();
    const same = wsClient(`ws://127.0.0.1:${server.plainPort}/`, { origin: `http://127.0.0.1:${server.plainPort}` });
    await same.connect();
    same.close();
  });

  it('closes a WebSocket whose message exceeds the maximum size', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.plainPort}/`, 'binary');
    await new Promise((r) => ws.once('open', r));
    const code = await new Promise<number>((resolve) => {
      ws.once('close', (c) => resolve(c));
      ws.send(Buffer.alloc(64 * 1024));
    });
    expect(code).toBe(1009); // message too big
  });

  it('answers a connection that is neither SPICE nor HTTP with INVALID_MAGIC and a log line', async () => {
    const hello = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), Buffer.alloc(11)]); // a TLS ClientHello on the plain port
    const r = await exchange(server.plainPort!, hello);
    expect(r.closedByServer).toBe(true);
    expect(r.received.readUInt32LE(16)).toBe(2); // SPICE_LINK_ERR_INVALID_MAGIC
    expect(
      records.some((x) => /link from 127\.0\.0\.1:\d+ refused: BAD_MAGIC: bad link magic 0x02010316/.test(x.message)),
    ).toBe(true);
  });

  it('closes a connection that says nothing before the link timeout', async () => {
    const r = await exchange(server.plainPort!, Buffer.from('RE'), 4000);
    expect(r.closedByServer).toBe(true);
    expect(
      records.some((x) => /connection from 127\.0\.0\.1:\d+ closed: nothing recognisable within/.test(x.message)),
    ).toBe(true);
  });

  it('serves the viewer page over plain HTTP on the same port (or says how to get it)', async () => {
    const base = `http://127.0.0.1:${server.plainPort}`;
    const res = await fetch(`${base}/`);
    if (server.viewerDir) {
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('viewer.js');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain(
        `connect-src 'self' ws://127.0.0.1:${server.plainPort} wss://127.0.0.1:${server.plainPort}`,
      );
      expect((await fetch(`${base}/viewer.js`)).headers.get('content-type')).toMatch(/javascript/);
      // The decoding worker: its own script, allowed by the page's policy.
      expect(csp).toContain("worker-src 'self'");
      const worker = await fetch(`${base}/decode-worker.js`);
      expect(worker.headers.get('content-type')).toMatch(/javascript/);
      expect(worker.headers.get('content-security-policy')).toBe("default-src 'none'");
      expect((await fetch(`${base}/meta.json`)).status).toBe(404); // the build's metafile stays private
    } else {
      expect(res.status).toBe(503);
      expect(await res.text()).toMatch(/npm run build/);
    }
    const html5 = await fetch(`${base}/spice-html5/`);
    if (server.html5Dir) {
      expect(html5.status).toBe(200);
      expect(await html5.text()).toContain('SpiceMainConn');
      expect((await fetch(`${base}/spice-html5/main.js`)).headers.get('content-type')).toMatch(/javascript/);
      expect(await rawGet(server.plainPort!, '/spice-html5/..%2f..%2f..%2fetc/passwd')).toMatch(/^HTTP\/1\.1 404/);
    } else {
      expect(html5.status).toBe(404);
      expect(await html5.text()).toMatch(/apt-get install spice-html5/);
    }
    // A path with a bad escape is refused with 400 and a log line; the server keeps serving.
    const answer = await rawGet(server.plainPort!, '/%zz');
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(
      records.some((x) => /HTTP request from 127\.0\.0\.1:\d+ refused: malformed path "\/%zz"/.test(x.message)),
    ).toBe(true);
    expect((await fetch(`${base}/`)).status).toBe(server.viewerDir ? 200 : 503);
    // A SPICE client still links on the same port afterwards.
    const sock = net.connect(server.plainPort!, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.destroy();
  });
});

/** A GET with the target exactly as given (fetch would normalise it), and the whole answer. */
function rawGet(port: number, target: string): Promise<string> {
  const sock = net.connect(port, '127.0.0.1');
  sock.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  return new Promise<string>((resolve) => {
    let got = '';
    sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
    sock.on('close', () => resolve(got));
  });
}
