/**
 * Connect cost: server CPU per joining viewer. A spiced server (the built CLI, its own process) serves
 * the animated demo to one viewer; viewers (display + cursor, reading without decoding) then join in
 * bursts, and the bench reports the server CPU each burst took above the animation's, per joiner.
 *
 *   npm run build && node dist/bench/viewers-join.js [--burst 10] [--rounds 3] [--size 1024x768] [--still]
 *
 * SPICED_NODE_FLAGS gives the server node flags; SPICED_PHASE_TIMES=1 prints each burst's start and
 * end on CLOCK_MONOTONIC (for perf record -k CLOCK_MONOTONIC, then perf script --time START,END).
 */
import { parseArgs } from 'node:util';
import { LightViewer } from './light-viewer.js';
import { median, procCpuMs } from './common.js';
import { startServerProcess, type ServerProcess } from './viewers-server.js';
import { monotonicNowMs } from './viewers-markers.js';

/** A viewer that joins and has its first whole frame; a light one (no image decoding) so that the bench process keeps up. */
async function joinOne(port: number): Promise<LightViewer> {
  const v = new LightViewer(port);
  await v.connect();
  await v.firstFrame();
  return v;
}

/** The server's CPU in ms per ms of wall time over the next `ms`. */
async function cpuRate(pid: number, ms: number): Promise<number> {
  const c0 = procCpuMs(pid);
  const t0 = performance.now();
  await sleep(ms);
  return (procCpuMs(pid) - c0) / (performance.now() - t0);
}

function pct(rate: number): string {
  return `${(rate * 100).toFixed(1)} %`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface JoinCost {
  /** Server CPU rate (ms per ms) with one viewer, and with everyone at the end. */
  baseRate: number;
  afterRate: number;
  /** Median over the rounds of the server CPU ms per joining viewer. */
  perJoin: number;
  perJoinRounds: number[];
  /** Median wall time of a burst. */
  burstMs: number;
}

/**
 * Server CPU ms per joining viewer: in each round a burst of viewers joins at once (each waits for
 * its first frame), between two measurements of the server's CPU rate without joins; what the
 * burst cost above the mean of the two rates, divided by the joiners. Bursts keep the joins short
 * next to the animation, whose cost (it grows with every viewer) is what is subtracted.
 */
export async function measureJoinCost(server: ServerProcess, burst: number, rounds: number): Promise<JoinCost> {
  const clients = [await joinOne(server.port)];
  try {
    await sleep(1000);
    const baseRate = await cpuRate(server.pid, 1500);
    let before = baseRate;
    const perJoin: number[] = [];
    const walls: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const c0 = procCpuMs(server.pid);
      const t0 = performance.now();
      const m0 = monotonicNowMs();
      clients.push(...(await Promise.all(Array.from({ length: burst }, () => joinOne(server.port)))));
      const wall = performance.now() - t0;
      if (process.env.SPICED_PHASE_TIMES) {
        const window = `${(m0 / 1000).toFixed(3)},${(monotonicNowMs() / 1000).toFixed(3)}`;
        process.stderr.write(`phase burst ${r + 1}: CLOCK_MONOTONIC ${window} s\n`);
      }
      const cpu = procCpuMs(server.pid) - c0;
      const after = await cpuRate(server.pid, 1500);
      perJoin.push((cpu - ((before + after) / 2) * wall) / burst);
      walls.push(wall);
      before = after;
    }
    return { baseRate, afterRate: before, perJoin: median(perJoin), perJoinRounds: perJoin, burstMs: median(walls) };
  } finally {
    for (const c of clients) c.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      burst: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
      size: { type: 'string', default: '1024x768' },
      still: { type: 'boolean', default: false },
    },
  });
  const server = await startServerProcess(['--size', values.size!, ...(values.still ? ['--still'] : [])]);
  try {
    const burst = Number(values.burst);
    const r = await measureJoinCost(server, burst, Number(values.rounds));
    process.stdout.write(
      `demo ${values.size}${values.still ? ' still' : ''}: server ${pct(r.baseRate)} CPU with one viewer, ${pct(r.afterRate)} with ${1 + burst * Number(values.rounds)}; ` +
        `bursts of ${burst} joiners (median ${r.burstMs.toFixed(0)} ms): ${r.perJoin.toFixed(1)} ms server CPU per joining viewer ` +
        `(rounds: ${r.perJoinRounds.map((x) => x.toFixed(1)).join(', ')})
`,
    );
  } finally {
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
