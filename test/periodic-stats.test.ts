import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import { ChannelType } from '../src/protocol/constants.js';
import { startPeriodicStats, type PeriodicStats } from '../src/server/periodic-stats.js';
import { SpiceServer } from '../src/server/server.js';
import { DemoSource } from '../src/sources/demo/demo-source.js';
import { startCli } from './helpers/tools.js';

/** Waits until `pred` holds for the lines so far. */
async function until(lines: PeriodicStats[], pred: (l: PeriodicStats[]) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!pred(lines)) {
    if (Date.now() > deadline) {
      throw new Error(`no stats line with ${what} in 10 s: ${JSON.stringify(lines.slice(-2))}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('periodic stats (serve --stats-interval)', () => {
  const source = new DemoSource({ width: 320, height: 240 });
  const server = new SpiceServer({ source, port: 0, audio: false, web: false });
  const lines: PeriodicStats[] = [];
  let stop: () => void = () => {};

  beforeAll(async () => {
    await server.start();
    stop = startPeriodicStats(server, 50, (line) => lines.push(JSON.parse(line) as PeriodicStats));
  });

  afterAll(async () => {
    stop();
    await server.stop();
  });

  it('counts viewers and the bytes their connections were sent, with the process memory and CPU', async () => {
    await until(lines, (l) => l.length > 0, 'anything');
    expect(lines[0]!.viewers).toBe(0);
    expect(lines[0]!.bytesSent).toBe(0);
    const client = new SpiceClient({ port: server.port });
    await client.connect();
    await client.waitFor(() => client.display.marks > 0, 5000, 'first frame');
    const displayBytes = client.channels.get(ChannelType.Display)!.stats.bytes;
    const counted = (l: PeriodicStats[]): boolean => {
      const last = l[l.length - 1]!;
      return last.viewers === 1 && last.bytesSent >= displayBytes;
    };
    await until(lines, counted, 'the viewer and its bytes');
    const last = lines[lines.length - 1]!;
    expect(last.rss).toBeGreaterThan(last.heapUsed);
    expect(last.cpuMs).toBeGreaterThan(0);
    expect(last.t).toBeGreaterThan(lines[0]!.t);
    client.close();
    await until(lines, (l) => l[l.length - 1]!.viewers === 0, 'the viewer gone');
  });

  it('reports garbage collections', async () => {
    const before = lines.length;
    // Garbage enough for a few young-generation collections.
    for (let i = 0; i < 30; i++) void new Array(50_000).fill(i).map(String);
    await until(lines, (l) => l.slice(before).some((s) => s.gcFull + s.gcOther > 0), 'a collection');
  });
});

describe('serve --stats-interval', () => {
  it('writes one JSON stats line per interval on stderr', async () => {
    const cli = await startCli(['serve', '--still', '-p', '0', '--no-sound', '--stats-interval', '100']);
    try {
      const deadline = Date.now() + 10_000;
      const statsLines = (): string[] =>
        cli
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{"type":"stats"'));
      while (statsLines().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const stats = statsLines().map((l) => JSON.parse(l) as PeriodicStats);
      expect(stats.length).toBeGreaterThanOrEqual(3);
      expect(stats[2]!.t - stats[1]!.t).toBeGreaterThan(50);
      expect(stats[2]!.rss).toBeGreaterThan(0);
    } finally {
      await cli.stop();
    }
  });
});
