import { afterEach, describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import { ChannelType } from '../src/protocol/constants.js';
import { ServerMetrics } from '../src/server/metrics.js';
import { startMetricsEndpoint, type MetricsEndpoint } from '../src/server/metrics-http.js';
import { SpiceServer } from '../src/server/server.js';
import { jsonLine, silentLogger } from '../src/util/log.js';
import { PatternSource } from './helpers/pattern-source.js';

/*
 * /metrics and /healthz on their own port (issue 15), scraped over real HTTP while real viewers
 * connect; --log-format json's lines.
 */

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ server: SpiceServer; endpoint: MetricsEndpoint }> {
  const server = new SpiceServer({
    source: new PatternSource(),
    port: 0,
    password: 'teacher',
    viewPassword: 'class',
    warmUp: false,
    pingIntervalSeconds: 0,
  });
  const metrics = new ServerMetrics(server);
  await server.start();
  cleanups.push(() => server.stop());
  const endpoint = await startMetricsEndpoint(metrics, () => server.serving, 0, '127.0.0.1', silentLogger);
  cleanups.push(() => endpoint.close());
  return { server, endpoint };
}

async function viewer(port: number, password: string): Promise<SpiceClient> {
  const c = new SpiceClient({ port, password, channels: [ChannelType.Display, ChannelType.Cursor] });
  cleanups.push(() => c.close());
  await c.connect();
  await c.waitFor(() => c.display.marks > 0, 10_000, 'the first frame');
  return c;
}

/** The samples of a scrape: `name{labels}` -> value. */
async function scrape(port: number): Promise<{ type: string | null; samples: Map<string, number>; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return { type: res.headers.get('content-type'), samples, text };
}

describe('/metrics', () => {
  it('counts viewers by role, traffic per channel, auth failures; counters never go back when one leaves', async () => {
    const { server, endpoint } = await setup();
    const teacher = await viewer(server.port, 'teacher');
    await viewer(server.port, 'class');
    await expect(new SpiceClient({ port: server.port, password: 'nope', channels: [] }).connect()).rejects.toThrow(
      /PERMISSION_DENIED/,
    );
    const first = await scrape(endpoint.port);
    expect(first.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(first.samples.get('spiced_viewers{role="control"}')).toBe(1);
    expect(first.samples.get('spiced_viewers{role="view"}')).toBe(1);
    expect(first.samples.get('spiced_connections{channel="display"}')).toBe(2);
    expect(first.samples.get('spiced_sent_bytes_total{channel="display"}')).toBeGreaterThan(320 * 240);
    expect(first.samples.get('spiced_sent_messages_total{channel="cursor"}')).toBeGreaterThan(0);
    expect(first.samples.get('spiced_flushes_total{channel="main"}')).toBeGreaterThan(0);
    expect(first.samples.get('spiced_auth_failures_total{kind="wrong"}')).toBe(1);
    expect(first.samples.get('spiced_images_encoded_total')).toBeGreaterThan(0);
    expect(first.samples.has('spiced_pipe_items_max{channel="display"}')).toBe(true);
    expect(first.text).toMatch(/# TYPE spiced_sent_bytes_total counter/);
    teacher.close();
    await teacher.waitFor(() => server.viewerCounts().control === 0, 5000, 'the teacher gone at the server');
    const second = await scrape(endpoint.port);
    expect(second.samples.get('spiced_viewers{role="control"}')).toBe(0);
    expect(second.samples.get('spiced_connections{channel="display"}')).toBe(1);
    // The teacher's bytes stay counted after it left.
    const display = (s: Map<string, number>): number => s.get('spiced_sent_bytes_total{channel="display"}')!;
    expect(display(second.samples)).toBeGreaterThanOrEqual(display(first.samples));
  });

  it('/healthz says 200 while the server serves and 503 once it stops; other paths are 404', async () => {
    const { server, endpoint } = await setup();
    const health = (): Promise<number> => fetch(`http://127.0.0.1:${endpoint.port}/healthz`).then((r) => r.status);
    expect(await health()).toBe(200);
    expect((await fetch(`http://127.0.0.1:${endpoint.port}/`)).status).toBe(404);
    await server.stop();
    expect(await health()).toBe(503);
  });
});

describe('--log-format json', () => {
  it('writes one JSON object a line with time, level, scope and message', () => {
    const line = jsonLine(
      { level: 'warn', scope: '127.0.0.1:5000 main', message: 'a "quoted"\nmessage' },
      new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
    );
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      time: '2026-01-02T03:04:05.000Z',
      level: 'warn',
      scope: '127.0.0.1:5000 main',
      message: 'a "quoted"\nmessage',
    });
  });
});
