/**
 * How long a link waits for its ticket key (issue 12: a fresh RSA key per link, made ahead of
 * time in a pool). Times the main channel's whole link over a real socket (connect, link message,
 * reply with the key, ticket, result) with the pool full, with no pool (every link waits for a key
 * made for it), and a burst of links that empties a full pool.
 *
 *   npm run build && node dist/bench/link-keys.js
 */
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { ClientLink } from '../src/client/link.js';
import { ChannelType } from '../src/protocol/constants.js';
import { SpiceServer } from '../src/server/server.js';
import { FeedSource } from '../src/sources/feed.js';
import { median } from './common.js';

/** Milliseconds from connect() to the link result OK. */
function linkOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const sock = net.connect({ host: '127.0.0.1', port, noDelay: true });
    const params = { connectionId: 0, channelType: ChannelType.Main, channelId: 0, channelCaps: [], password: 'pw' };
    const link = new ClientLink(params, (b) => sock.write(b));
    sock.on('connect', () => link.begin());
    sock.on('error', reject);
    sock.on('data', (chunk: Buffer) => {
      try {
        if (!link.receive(chunk)) return;
      } catch (err) {
        reject(err);
      }
      sock.destroy();
      resolve(performance.now() - t0);
    });
  });
}

function summary(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number): string => s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(1);
  return `median ${median(s).toFixed(1)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms (${s.length} links)`;
}

async function withServer<T>(keyPoolSize: number, run: (port: number, server: SpiceServer) => Promise<T>): Promise<T> {
  const auth = { keyPoolSize };
  const server = new SpiceServer({ source: new FeedSource(), port: 0, password: 'pw', warmUp: false, auth });
  await server.start();
  try {
    return await run(server.port, server);
  } finally {
    await server.stop();
  }
}

const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runLinkKeyBench(links = 40): Promise<string[]> {
  const lines: string[] = [];
  await withServer(16, async (port, server) => {
    const times: number[] = [];
    for (let i = 0; i < links; i++) {
      while (server.auth.pool.available < 16) await settle(5); // a full pool for every link
      times.push(await linkOnce(port));
    }
    lines.push(`full pool (16 keys), one link at a time: ${summary(times)}; waited: ${server.auth.pool.waits}`);
  });
  await withServer(0, async (port, server) => {
    const times: number[] = [];
    for (let i = 0; i < links; i++) times.push(await linkOnce(port));
    lines.push(`empty pool (size 0), one link at a time:  ${summary(times)}; waited: ${server.auth.pool.waits}`);
  });
  await withServer(16, async (port, server) => {
    while (server.auth.pool.available < 16) await settle(5);
    const times = await Promise.all(Array.from({ length: links }, () => linkOnce(port)));
    lines.push(`burst of ${links} links at once on a full pool: ${summary(times)}; waited: ${server.auth.pool.waits}`);
  });
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const line of await runLinkKeyBench()) console.log(line);
}
