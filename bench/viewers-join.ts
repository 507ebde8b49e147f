/**
 * Connect cost: server CPU per joining viewer. A spiced server (the built CLI, its own process) serves
 * the animated demo to one viewer; the bench measures the server's CPU rate with that viewer alone,
 * then lets viewers join one after the other (each waits for its first frame) and reports the CPU
 * above that rate divided by the joiners.
 *
 *   npm run build && node dist/bench/viewers-join.js [--joiners 20] [--size 1024x768] [--still]
 */
import { parseArgs } from 'node:util';
import { SpiceClient } from '../src/client/client.js';
import { ChannelType } from '../src/protocol/constants.js';
import { procCpuMs } from './common.js';
import { startServerProcess, type ServerProcess } from './viewers-server.js';

async function joinOne(port: number): Promise<SpiceClient> {
  const c = new SpiceClient({ port, channels: [ChannelType.Display, ChannelType.Cursor] });
  await c.connect();
  await c.waitFor(() => c.display.marks > 0, 20_000, 'first frame');
  return c;
}

/** The server's CPU in ms per ms of wall time over the next `ms`. */
async function cpuRate(pid: number, ms: number): Promise<number> {
  const c0 = procCpuMs(pid);
  const t0 = performance.now();
  await sleep(ms);
  return (procCpuMs(pid) - c0) / (performance.now() - t0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Server CPU ms per joining viewer, above the CPU it spends meanwhile on the viewers already there. */
export async function measureJoinCost(server: ServerProcess, joiners: number): Promise<{ baseRate: number; afterRate: number; perJoin: number; wallMs: number }> {
  const first = await joinOne(server.port);
  const clients = [first];
  try {
    await sleep(1500);
    const baseRate = await cpuRate(server.pid, 2000);
    const c1 = procCpuMs(server.pid);
    const t1 = performance.now();
    for (let i = 0; i < joiners; i++) clients.push(await joinOne(server.port));
    const wallMs = performance.now() - t1;
    const joinCpu = procCpuMs(server.pid) - c1;
    // Each joiner also receives the animation from then on: the rate grows from one viewer's to all
    // of theirs while they join, so the mean of the two is what the viewers cost meanwhile.
    const afterRate = await cpuRate(server.pid, 2000);
    const extra = joinCpu - ((baseRate + afterRate) / 2) * wallMs;
    return { baseRate, afterRate, perJoin: extra / joiners, wallMs };
  } finally {
    for (const c of clients) c.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { joiners: { type: 'string', default: '20' }, size: { type: 'string', default: '1024x768' }, still: { type: 'boolean', default: false } } });
  const server = await startServerProcess(['--size', values.size!, ...(values.still ? ['--still'] : [])]);
  try {
    const r = await measureJoinCost(server, Number(values.joiners));
    process.stdout.write(`demo ${values.size}${values.still ? ' still' : ''}: server ${(r.baseRate * 100).toFixed(1)} % CPU with one viewer, ${(r.afterRate * 100).toFixed(1)} % with ${Number(values.joiners) + 1}; ` + `${values.joiners} joiners in ${r.wallMs.toFixed(0)} ms: ${r.perJoin.toFixed(1)} ms server CPU per joining viewer\n`);
  } finally {
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
