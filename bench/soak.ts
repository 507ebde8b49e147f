/**
 * The soak (issue 12): `npm run soak -- --minutes 10`. A demo-desktop spiced runs as a child
 * process with a plain and a TLS port; viewers over TCP, TLS and WebSocket keep arriving, typing,
 * dragging windows, stalling and vanishing. Every 30 s (--every) a row: time, server RSS, open
 * descriptors, viewers connected. At the end, the verdict on RSS over the last half of the run.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { freePort, ServerTarget } from './fuzz/target.js';
import { makeRng, pick } from './fuzz/mutate.js';
import { viewerLife, type Behaviour, type Endpoint, type Transport, type ViewerStats } from './soak/viewers.js';
import { tmpdir } from 'node:os';

const opts = new Command('soak')
  .option('--minutes <n>', 'how long', '10')
  .option('--every <s>', 'seconds between rows', '30')
  .option('--viewers <n>', 'viewers alive at once (about)', '12')
  .option('--seed <n>', 'seed of every random choice', '7')
  .parse()
  .opts<{ minutes: string; every: string; viewers: string; seed: string }>();

const WIDTH = 1024;
const HEIGHT = 700;
const state = mkdtempSync(join(tmpdir(), 'spiced-soak-'));
process.env.XDG_STATE_HOME = state;
const tlsPort = await freePort();
const server = new ServerTarget({ args: ['--size', `${WIDTH}x${HEIGHT}`, '--tls-port', String(tlsPort)] });
let crashed = false;
server.onExit((e) => {
  crashed = true;
  console.log(`the server exited (code ${e.code}, signal ${e.signal}):\n${e.output.slice(-3000)}`);
});
await server.start();
const endpoint: Endpoint = {
  port: server.port,
  tlsPort,
  ca: readFileSync(join(state, 'spiced', 'tls', 'ca-cert.pem')),
  width: WIDTH,
  height: HEIGHT,
};

const fds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;
const mb = (b: number): string => (b / 2 ** 20).toFixed(1);
const stats: ViewerStats = { started: 0, connected: 0, failed: 0, live: 0 };
const rows: { t: number; rss: number; fds: number }[] = [];
const start = performance.now();
const total = Number(opts.minutes) * 60_000;
const rng = makeRng(Number(opts.seed));

console.log(`spiced pid ${server.pid}: demo ${WIDTH}x${HEIGHT}, plain port ${server.port}, TLS port ${tlsPort}`);
console.log('time_s  rss_MB  fds  viewers_live  started  connected  failed');
const row = (): void => {
  const t = (performance.now() - start) / 1000;
  const r = { t, rss: server.rss(), fds: fds(server.pid!) };
  rows.push(r);
  console.log(
    [
      [t.toFixed(0), 6],
      [mb(r.rss), 6],
      [String(r.fds), 3],
      [String(stats.live), 12],
      [String(stats.started), 7],
      [String(stats.connected), 9],
      [String(stats.failed), 6],
    ]
      .map(([v, w]) => String(v).padStart(Number(w)))
      .join('  '),
  );
};
row();
const timer = setInterval(row, Number(opts.every) * 1000);

const lives: Promise<void>[] = [];
const target = Number(opts.viewers);
while (performance.now() - start < total && !crashed) {
  if (stats.live + (stats.started - stats.connected - stats.failed) < target) {
    const transport = pick<Transport>(rng, ['tcp', 'tls', 'ws']);
    const behaviour = pick<Behaviour>(rng, ['worker', 'worker', 'staller', 'vanisher']);
    const life = Math.min(5_000 + rng() * 40_000, Math.max(1000, total - (performance.now() - start)));
    lives.push(viewerLife(transport, behaviour, endpoint, rng, life, stats));
  }
  await new Promise((r) => setTimeout(r, 250 + rng() * 500));
}
await Promise.all(lives);
// Give the server a moment to notice the last goodbyes, then the final row.
await new Promise((r) => setTimeout(r, 3000));
row();
clearInterval(timer);

const half = rows.filter((r) => r.t >= rows[rows.length - 1]!.t / 2);
const first = half[0]!;
const last = half[half.length - 1]!;
const growth = last.rss - first.rss;
const perMin = growth / Math.max(1 / 60, (last.t - first.t) / 60);
const flat = !crashed && growth < 20 * 2 ** 20;
console.log(
  `\nverdict: RSS over the last half ${mb(first.rss)} -> ${mb(last.rss)} MB ` +
    `(${growth >= 0 ? '+' : ''}${mb(growth)} MB, ${mb(perMin)} MB/min), descriptors ${first.fds} -> ${last.fds}, ` +
    `${stats.connected} viewers served, ${stats.failed} failed: ` +
    (flat ? 'FLAT' : crashed ? 'SERVER EXITED' : 'GROWING'),
);
await server.stop();
rmSync(state, { recursive: true, force: true });
process.exit(flat ? 0 : 1);
