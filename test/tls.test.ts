import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import { makeCertificates, readCertificates, writeCertificates, type TlsMaterial } from '../src/server/certs.js';
import { SpiceServer } from '../src/server/server.js';
import { DemoSource } from '../src/sources/demo/demo-source.js';
import { ChannelType } from '../src/protocol/constants.js';
import { sameRgb } from '../src/display/pixels.js';
import { memoryLogger } from '../src/util/log.js';
import { lacking, skipNote, SYSTEM_PYTHON } from './helpers/probes.js';
import { diffPixels, readImage, run, startCli, tempDir } from './helpers/tools.js';
import { until } from './helpers/wait.js';

const dir = tempDir('spiced-tls-');
const SPICE_CLIENT = join(__dirname, 'helpers', 'spice-gtk-client.py');
let material: TlsMaterial;
let caFile: string;

beforeAll(async () => {
  material = await makeCertificates(['127.0.0.1', 'localhost']);
  await writeCertificates(dir, material);
  caFile = join(dir, 'ca-cert.pem');
});

describe('certificates', () => {
  it('verify for the hosts they name, with only the leaf sent by the server', async () => {
    const server = tls.createServer({ cert: material.cert, key: material.key }, (s) => s.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const peer = await new Promise<tls.PeerCertificate & { issuerCertificate?: unknown }>((resolve, reject) => {
      const c = tls.connect({ host: '127.0.0.1', port, ca: material.ca }, () => {
        resolve(c.getPeerCertificate(true));
        c.destroy();
      });
      c.on('error', reject);
    });
    server.close();
    expect(peer.subjectaltname).toContain('IP Address:127.0.0.1');
    expect(peer.pubkey?.length).toBeLessThan(100); // an EC P-256 key, not RSA
    await expect(readCertificates(dir)).resolves.toEqual(material);
  });
});

describe('TLS with the project client', () => {
  it('links every channel over TLS and reports records and handshake apart', async () => {
    const s = new SpiceServer({ source: new DemoSource({ still: true }), port: null, tlsPort: 0, tls: material });
    await s.start();
    const c = new SpiceClient({ port: s.tlsPort!, tls: { ca: material.ca } });
    await c.connect();
    await c.waitFor(
      () => !!c.display.primary && sameRgb(c.display.primary, s.desktop.primary!),
      5000,
      'frame over TLS',
    );
    const display = [...s.display.clients][0]!;
    const stats = display.stream.snapshot();
    expect(display.stream.secure).toBe(true);
    expect(stats.sslWrites).toBeGreaterThan(0);
    // flush policy: one SSL_write per flush unit; records = sum of ceil(unit / 16 KiB) (+ link reply/result).
    expect(stats.tlsRecords).toBeGreaterThanOrEqual(Math.ceil(stats.plaintextBytes / 16384));
    expect(stats.tlsRecords).toBeLessThanOrEqual(Math.ceil(stats.plaintextBytes / 16384) + stats.units + 2);
    c.close();
    await s.stop();
  });
});

const noScreenshot = lacking('spicy-screenshot');
describe.skipIf(noScreenshot !== '')(`TLS with spice-gtk${skipNote(noScreenshot)}`, () => {
  const { logger, records } = memoryLogger('info');
  let server: SpiceServer;
  beforeAll(async () => {
    server = new SpiceServer({
      source: new DemoSource({ still: true }),
      port: 0,
      tlsPort: 0,
      tls: material,
      secureChannels: [ChannelType.Display],
      log: logger,
    });
    await server.start();
  });
  afterAll(() => server.stop());

  it('SSL_CERT_FILE=ca-cert.pem spicy-screenshot -s PORT is pixel-identical to the framebuffer', async () => {
    const out = join(dir, 'tls.ppm');
    const r = await run('spicy-screenshot', ['-h', '127.0.0.1', '-s', String(server.tlsPort), '-o', out], {
      env: { SSL_CERT_FILE: caFile },
      timeoutMs: 20_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(diffPixels(readImage(out), server.desktop.primary!)).toBe(0);
  });

  it.skipIf(lacking('spice-glib') !== '')(
    `a plain client to a secured channel gets NEED_SECURED and moves to the TLS port${skipNote(lacking('spice-glib'))}`,
    async () => {
      const out = join(dir, 'redirect.png');
      const uri = `spice://127.0.0.1?port=${server.plainPort}&tls-port=${server.tlsPort}`;
      const r = await run(
        SYSTEM_PYTHON,
        [SPICE_CLIENT, '--uri', uri, '--ca-file', caFile, '--out', out, '--timeout', '20'],
        { timeoutMs: 40_000 },
      );
      const report = JSON.parse(r.stdout) as { captured: boolean; error: string | null };
      expect(report.captured, r.stderr).toBe(true);
      expect(records.some((x) => /display:0 must use TLS \(SPICE_LINK_ERR_NEED_SECURED\)/.test(x.message))).toBe(true);
      expect(records.some((x) => /display:0 linked \(session [0-9a-f]+, tls\)/.test(x.message))).toBe(true);
      expect(records.some((x) => /main:0 linked \(session [0-9a-f]+, tcp\)/.test(x.message))).toBe(true);
      expect(diffPixels(readImage(out), server.desktop.primary!)).toBe(0);
    },
  );
});

const noViewer = lacking('remote-viewer', 'Xvfb');
describe.skipIf(noViewer !== '')(`remote-viewer over TLS under Xvfb${skipNote(noViewer)}`, () => {
  it('connects every channel with --spice-secure-channels=all', async () => {
    const { logger, records } = memoryLogger('info');
    const server = new SpiceServer({
      source: new DemoSource({ still: true }),
      port: 0,
      tlsPort: 0,
      tls: material,
      secureChannels: [1, 2, 3, 4],
      log: logger,
    });
    await server.start();
    const xvfb = spawn('Xvfb', [':93', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
    await until('Xvfb :93 listening', () => existsSync('/tmp/.X11-unix/X93'), 10_000, 50);
    const viewer = spawn(
      'remote-viewer',
      [
        '--spice-ca-file',
        caFile,
        '--spice-secure-channels=all',
        `spice://127.0.0.1?port=${server.plainPort}&tls-port=${server.tlsPort}`,
      ],
      { env: { ...process.env, DISPLAY: ':93' }, stdio: 'ignore' },
    );
    try {
      const linked = (ch: string): boolean =>
        records.some((x) => new RegExp(`${ch}:0 linked \\(session [0-9a-f]+, tls\\)`).test(x.message));
      const deadline = Date.now() + 15_000;
      while (!['main', 'display', 'inputs', 'cursor'].every(linked) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(['main', 'display', 'inputs', 'cursor'].filter(linked)).toEqual(['main', 'display', 'inputs', 'cursor']);
      const display = [...server.display.clients][0]!;
      // The screen goes out.
      await until('the screen sent', () => display.stream.snapshot().plaintextBytes > 50_000, 10_000);
    } finally {
      viewer.kill('SIGTERM');
      xvfb.kill('SIGTERM');
      await server.stop();
    }
  });
});

describe('spiced serve --tls-port without certificates', () => {
  it('makes them once in the state directory and prints the remote-viewer line', async () => {
    const state = tempDir('spiced-state-');
    const cli = await startCli(['serve', '--still', '--port', '0', '--tls-port', '0'], { XDG_STATE_HOME: state });
    const { port, tlsPort } = cli;
    try {
      const ca = join(state, 'spiced', 'tls', 'ca-cert.pem');
      expect(existsSync(ca)).toBe(true);
      expect(cli.output()).toContain(
        `remote-viewer --spice-ca-file=${ca} 'spice://127.0.0.1?port=${port}&tls-port=${tlsPort}'`,
      );
      const c = new SpiceClient({ port: tlsPort!, tls: { ca: readFileSync(ca) } });
      await c.connect();
      await c.waitFor(() => c.display.marks > 0, 5000, 'frame over the CLI TLS port');
      c.close();
    } finally {
      await cli.stop();
    }
    // A second start reuses the same CA.
    const before = readFileSync(join(state, 'spiced', 'tls', 'ca-cert.pem'), 'utf8');
    const again = await startCli(['serve', '--still', '--port', '0', '--tls-port', '0'], { XDG_STATE_HOME: state });
    await again.stop();
    expect(readFileSync(join(state, 'spiced', 'tls', 'ca-cert.pem'), 'utf8')).toBe(before);
  });
});
