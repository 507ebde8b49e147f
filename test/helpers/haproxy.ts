import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { SYSTEM_PYTHON } from './probes.js';

/** One spiced instance behind HAProxy: its name (SNI `NAME.DOMAIN`, path `/desk/NAME/`) and ports. */
export interface Desk {
  name: string;
  /** spiced's TLS port (SPICE over TLS, passed through untouched). */
  tlsPort: number;
  /** spiced's plain port (HTTP and WebSocket for browsers, behind HAProxy's TLS). */
  plainPort: number;
  /** spiced's --metrics-port, where the health checks ask /healthz. */
  metricsPort: number;
}

export interface HaproxyPlan {
  desks: Desk[];
  /** SNI names are NAME.DOMAIN. */
  domain: string;
  /** The browsers' frontend ends TLS with this certificate and key (one PEM file). */
  webPem: string;
  /** Health check interval (the deployment in docs/deploy.md uses 2 s). */
  checkIntervalMs: number;
}

/**
 * The HAProxy configuration of docs/deploy.md for these desks, except that the two frontends bind
 * the listening sockets startHaproxy hands over (fd 3: spice-gtk, TLS passed through and routed by
 * SNI; fd 4: browsers, TLS ended here and routed by URL path) instead of fixed ports.
 */
export function haproxyConfig(p: HaproxyPlan): string {
  const lines = [
    'global',
    '  maxconn 4000',
    'defaults',
    '  timeout connect 5s',
    '  timeout client 1h',
    '  timeout server 1h',
    '  timeout tunnel 8h',
    '  timeout check 3s',
    '',
    'frontend spice_tls',
    '  mode tcp',
    '  bind fd@3',
    '  tcp-request inspect-delay 5s',
    '  tcp-request content accept if { req_ssl_hello_type 1 }',
    ...p.desks.map((d) => `  use_backend spice_${d.name} if { req_ssl_sni -i ${d.name}.${p.domain} }`),
    '',
    'frontend web',
    '  mode http',
    `  bind fd@4 ssl crt ${p.webPem}`,
    '  http-request redirect location %[path]/ code 301 if { path_reg ^/desk/[a-z0-9-]+$ }',
    ...p.desks.map((d) => `  use_backend web_${d.name} if { path_beg /desk/${d.name}/ }`),
  ];
  for (const d of p.desks) {
    const check = `check port ${d.metricsPort} inter ${p.checkIntervalMs} fall 2 rise 1`;
    lines.push(
      '',
      `backend spice_${d.name}`,
      '  mode tcp',
      '  option httpchk GET /healthz',
      '  http-check expect status 200',
      `  server ${d.name} 127.0.0.1:${d.tlsPort} ${check}`,
      '',
      `backend web_${d.name}`,
      '  mode http',
      `  http-request replace-path /desk/${d.name}(/.*) \\1`,
      '  option httpchk GET /healthz',
      '  http-check expect status 200',
      `  server ${d.name} 127.0.0.1:${d.plainPort} ${check}`,
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * HAProxy in the foreground on two listening sockets on ports the kernel picked (helpers/listen-exec.py
 * makes them and hands them over as fds 3 and 4, HAProxy not taking port 0); resolves with those
 * ports once both frontends accept connections.
 */
export async function startHaproxy(
  configFile: string,
): Promise<{ child: ChildProcess; output: () => string; spicePort: number; webPort: number }> {
  const listenExec = join(__dirname, 'listen-exec.py');
  const child = spawn(SYSTEM_PYTHON, [listenExec, '2', 'haproxy', '-db', '-f', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!/^\d+ \d+\n/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`haproxy did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const [spicePort, webPort] = output.split('\n', 1)[0]!.split(' ').map(Number) as [number, number];
  for (const port of [spicePort, webPort]) {
    while (!(await accepts(port))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`haproxy did not start: ${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { child, output: () => output, spicePort, webPort };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
