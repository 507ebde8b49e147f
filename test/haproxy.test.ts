import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameRgb } from '../src/display/pixels.js';
import { makeCertificates, type TlsMaterial } from '../src/server/certs.js';
import { ServerMetrics } from '../src/server/metrics.js';
import { startMetricsEndpoint, type MetricsEndpoint } from '../src/server/metrics-http.js';
import { SpiceServer } from '../src/server/server.js';
import { silentLogger } from '../src/util/log.js';
import { launchChromium, VIEWER_CANVAS, waitForCanvas } from './helpers/browser.js';
import { haproxyConfig, startHaproxy, type Desk } from './helpers/haproxy.js';
import { PatternSource } from './helpers/pattern-source.js';
import { lacking, tools } from './helpers/probes.js';
import { diffPixels, readImage, run, tempDir } from './helpers/tools.js';

/*
 * The deployment of docs/deploy.md (issue 15): HAProxy in front of two spiced instances, spice-gtk
 * over TLS passed through and routed by SNI (each instance's own certificate reaches the viewer,
 * so a wrong route fails the certificate check), Chromium over wss routed by the path /desk/NAME/,
 * health checks on each instance's /healthz. spice-gtk resolves the desk names through an
 * /etc/hosts of its own (a private mount namespace), so the machine's is never touched.
 */

const DOMAIN = 'desk.test';
const PASSWORD = 'pw';

function whyNot(): string {
  const why = lacking('haproxy', 'spicy-screenshot', 'chromium', 'spice-html5');
  if (why) return why;
  if (!tools().mountns)
    return 'skipped: no user and mount namespaces here (unshare -rm), needed for a private /etc/hosts';
  return '';
}
const why = whyNot();

interface Instance {
  desk: Desk;
  server: SpiceServer;
  metrics: MetricsEndpoint;
  tls: TlsMaterial;
}

async function instance(name: string, width: number, height: number): Promise<Instance> {
  const tls = await makeCertificates([`${name}.${DOMAIN}`]);
  const source = new PatternSource(width, height);
  const server = new SpiceServer({
    source,
    port: 0,
    tlsPort: 0,
    tls,
    password: PASSWORD,
    warmUp: false,
    log: silentLogger,
  });
  const counters = new ServerMetrics(server);
  await server.start();
  const metrics = await startMetricsEndpoint(counters, () => server.serving, 0, '127.0.0.1', silentLogger);
  const desk = { name, tlsPort: server.tlsPort!, plainPort: server.plainPort!, metricsPort: metrics.port };
  return { desk, server, metrics, tls };
}

describe.skipIf(why !== '')(`HAProxy in front of two spiced instances${why ? ` - ${why}` : ''}`, () => {
  const dir = tempDir('spiced-haproxy-');
  let a: Instance;
  let b: Instance;
  let haproxy: Awaited<ReturnType<typeof startHaproxy>>;
  let browser: Browser;
  const ports = { spice: 0, web: 0 };

  beforeAll(async () => {
    a = await instance('a', 320, 240);
    b = await instance('b', 400, 300);
    const web = await makeCertificates(['127.0.0.1']);
    writeFileSync(join(dir, 'web.pem'), web.cert + web.key);
    writeFileSync(join(dir, 'ca.pem'), a.tls.ca + b.tls.ca);
    writeFileSync(join(dir, 'hosts'), `127.0.0.1 localhost a.${DOMAIN} b.${DOMAIN}\n`);
    const plan = { desks: [a.desk, b.desk], domain: DOMAIN, webPem: join(dir, 'web.pem'), checkIntervalMs: 500 };
    writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig(plan));
    haproxy = await startHaproxy(join(dir, 'haproxy.cfg'));
    ports.spice = haproxy.spicePort;
    ports.web = haproxy.webPort;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    haproxy?.child.kill('SIGTERM');
    for (const i of [a, b]) {
      await i?.metrics.close();
      await i?.server.stop();
    }
  });

  /** spicy-screenshot of NAME.desk.test through the SNI frontend, with a private /etc/hosts. */
  async function screenshot(name: string): Promise<string> {
    const out = join(dir, `${name}.ppm`);
    const args = ['-h', `${name}.${DOMAIN}`, '-s', String(ports.spice), '-w', PASSWORD, '-o', out];
    const inner = `mount --bind ${join(dir, 'hosts')} /etc/hosts && exec spicy-screenshot "$@"`;
    const r = await run('unshare', ['-rm', 'sh', '-c', inner, 'sh', ...args], {
      env: { SSL_CERT_FILE: join(dir, 'ca.pem') },
      timeoutMs: 20_000,
    });
    expect(r.code, r.stderr).toBe(0);
    return out;
  }

  it("spice-gtk over TLS reaches each instance by its SNI name, with that instance's certificate", async () => {
    for (const i of [a, b]) {
      const shot = readImage(await screenshot(i.desk.name));
      expect(diffPixels(shot, i.server.desktop.primary!), i.desk.name).toBe(0);
    }
  });

  it('Chromium over wss reaches each instance by the path /desk/NAME/ (spice-html5)', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    for (const i of [a, b]) {
      const page = await context.newPage();
      const base = `https://127.0.0.1:${ports.web}/desk/${i.desk.name}`;
      await page.goto(`${base}/spice-html5/spice_auto.html?path=desk/${i.desk.name}/&password=${PASSWORD}`);
      const primary = i.server.desktop.primary!;
      const shown = await waitForCanvas(page, (img) => sameRgb(img, primary));
      expect(shown && sameRgb(shown, primary), i.desk.name).toBe(true);
      await page.close();
    }
    await context.close();
  });

  it("Chromium over wss reaches each instance by the path /desk/NAME/ (spiced's own viewer)", async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    for (const i of [a, b]) {
      const page = await context.newPage();
      await page.goto(`https://127.0.0.1:${ports.web}/desk/${i.desk.name}/`);
      await page.fill('#password', PASSWORD);
      await page.press('#password', 'Enter');
      const primary = i.server.desktop.primary!;
      const shown = await waitForCanvas(page, (img) => sameRgb(img, primary), 15_000, VIEWER_CANVAS);
      expect(shown && sameRgb(shown, primary), i.desk.name).toBe(true);
      await page.close();
    }
    await context.close();
  });

  it('takes an instance that stops out of service (health check on /healthz)', async () => {
    const from = haproxy.output().length;
    const since = (): string => haproxy.output().slice(from);
    await b.server.stop();
    // 503 from /healthz: a Layer7 wrong status, not a timeout of a loaded machine.
    const down = /Server (spice|web)_b\/b is DOWN, reason: Layer7 wrong status, code: 503/g;
    const deadline = Date.now() + 15_000;
    while ((since().match(down) ?? []).length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(since().match(down)).toHaveLength(2);
    expect(since()).not.toMatch(/_a\/a is DOWN/);
  });
});
