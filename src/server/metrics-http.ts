import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../util/log.js';
import type { ServerMetrics } from './metrics.js';

/**
 * The operator's port (`--metrics-port`), apart from the SPICE ports so that it can stay on a
 * private address while viewers connect elsewhere: `GET /metrics` (Prometheus text) and
 * `GET /healthz` (200 while the server listens, 503 otherwise: what HAProxy and systemd checks
 * ask). Nothing else is served.
 */
export interface MetricsEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

export async function startMetricsEndpoint(
  metrics: ServerMetrics,
  healthy: () => boolean,
  port: number,
  host: string,
  log: Logger,
): Promise<MetricsEndpoint> {
  const server = http.createServer((req, res) => answer(req, res, metrics, healthy));
  // Scrapers keep connections open; a stalled one must not hold a socket for ever.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error(`metrics port: ${err.message}`));
  const bound = (server.address() as AddressInfo).port;
  log.info(`metrics on http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics, health on /healthz`);
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function answer(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  metrics: ServerMetrics,
  healthy: () => boolean,
): void {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'text/plain', 'GET only\n');
  if (path === '/metrics') return reply(res, 200, PROMETHEUS_TEXT, metrics.render());
  if (path === '/healthz')
    return healthy() ? reply(res, 200, 'text/plain', 'ok\n') : reply(res, 503, 'text/plain', 'not serving\n');
  reply(res, 404, 'text/plain', 'not found: /metrics or /healthz\n');
}

function reply(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}
