import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostnameOf, isKnownHost } from '../src/server/host-check.js';
import { SpiceServer } from '../src/server/server.js';
import { memoryLogger } from '../src/util/log.js';
import { PatternSource } from './helpers/pattern-source.js';

/** The status code of the server's answer to one raw HTTP request (the connection is then closed). */
function status(port: number, request: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let got = '';
    const sock = net.connect({ host: '127.0.0.1', port }, () => sock.write(request));
    const fail = (why: string): void => {
      sock.destroy();
      reject(new Error(`${why}; received ${JSON.stringify(got.slice(0, 80))}`));
    };
    const timer = setTimeout(() => fail('no status line within 3 s'), 3000);
    sock.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(got);
      if (!m) return;
      clearTimeout(timer);
      sock.destroy();
      resolve(Number(m[1]));
    });
    sock.on('error', (err) => fail(err.message));
  });
}

const page = (host: string): string => `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;

function upgrade(host: string, origin?: string): string {
  const o = origin === undefined ? '' : `Origin: ${origin}\r\n`;
  return (
    `GET / HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
    `Sec-WebSocket-Protocol: binary\r\n${o}\r\n`
  );
}

describe('DNS rebinding: only Host names the server is known by', () => {
  const { logger, records } = memoryLogger('info');
  let server: SpiceServer;
  let port: number;

  beforeAll(async () => {
    server = new SpiceServer({
      source: new PatternSource(),
      port: 0,
      log: logger,
      warmUp: false,
      web: { publicHosts: ['viewer.lan'], allowOrigins: ['https://console.example'] },
    });
    await server.start();
    port = server.port;
  });
  afterAll(() => server.stop());

  it('refuses the page to a rebound name (421) and logs the peer and the Host', async () => {
    expect(await status(port, page(`evil.example:${port}`))).toBe(421);
    const line = /HTTP request from 127\.0\.0\.1:\d+ refused: Host "evil\.example:\d+" is not a name of this server/;
    expect(records.some((r) => line.test(r.message))).toBe(true);
  });

  it('refuses a WebSocket from a rebound page, whose Origin matches its Host', async () => {
    expect(await status(port, upgrade(`evil.example:${port}`, `http://evil.example:${port}`))).toBe(421);
    expect(await status(port, upgrade(`evil.example:${port}`))).toBe(421);
    const line = /WebSocket from 127\.0\.0\.1:\d+ refused: Host "evil\.example:\d+"/;
    expect(records.some((r) => line.test(r.message))).toBe(true);
  });

  it('accepts localhost, 127.0.0.1 and [::1] with the port, for the page and WebSockets', async () => {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost']) {
      expect([200, 503]).toContain(await status(port, page(host)));
      expect(await status(port, upgrade(host, `http://${host}`))).toBe(101);
    }
  });

  it('honours --public-host names and --allow-origin origins', async () => {
    expect([200, 503]).toContain(await status(port, page('viewer.lan:8443')));
    expect(await status(port, upgrade('viewer.lan:8443', 'https://viewer.lan:8443'))).toBe(101);
    expect(await status(port, upgrade(`localhost:${port}`, 'https://console.example'))).toBe(101);
    // A page elsewhere on a known name is still another origin.
    expect(await status(port, upgrade(`localhost:${port}`, 'http://localhost:8080'))).toBe(403);
  });
});

describe('host names', () => {
  it('parses Host headers with and without port and brackets', () => {
    expect(hostnameOf('Example.COM:5900')).toBe('example.com');
    expect(hostnameOf('[::1]:5900')).toBe('::1');
    expect(hostnameOf('localhost.')).toBe('localhost');
    expect(hostnameOf('a:b:c')).toBeUndefined();
  });

  it('knows loopback, the listen address, every own address on a wildcard, and public names', () => {
    const local = { listen: '127.0.0.1', publicHosts: [] };
    expect(isKnownHost('127.0.0.5', local)).toBe(true);
    expect(isKnownHost('app.localhost', local)).toBe(true);
    expect(isKnownHost('192.0.2.7', local)).toBe(false);
    expect(isKnownHost('192.0.2.7', { listen: '192.0.2.7', publicHosts: [] })).toBe(true);
    expect(isKnownHost('192.0.2.8', { listen: '0.0.0.0', publicHosts: [] })).toBe(false);
    expect(isKnownHost('desk.example', { listen: '0.0.0.0', publicHosts: ['desk.example:443'] })).toBe(true);
  });
});
