/**
 * The agent with many viewers: memory and CPU of the server (a process of its own,
 * agent-viewers-server.ts) with 50 viewers that all run the agent, while
 *   - one viewer copies 5 MiB and the 49 others paste it at once,
 *   - the desktop copies 5 MiB and all 50 paste it at once,
 *   - 50 hostile viewers send garbage agent traffic (each kind below) while a good viewer pastes
 *     5 MiB from the desktop, timed against the same paste with nobody hostile.
 * Peak RSS is the kernel's high-water mark (VmHWM, reset before each phase through clear_refs), CPU
 * the server's user+system time over the phase (/proc/PID/stat).
 *
 *   npm run build && node dist/bench/agent-viewers.js [--viewers 50] [--mib 5]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SpiceClient } from '../src/client/client.js';
import {
  AgentClipboardType,
  AgentMsg,
  ChannelType,
  chunkAgentMessage,
  encodeAgentDataToServer,
  encodeClipboard,
  encodeClipboardGrab,
  encodeClipboardRequest,
  type AgentMessage,
} from '../src/protocol/index.js';
import { agentViewer, type BenchAgent } from './agent-paste.js';
import { benchText } from './agent-text.js';
import { procCpuMs } from './common.js';

const sel = { selection: true };
const MB = 1 << 20;

interface Server {
  child: ChildProcess;
  port: number;
  ask<T>(msg: object, key: string): Promise<T>;
}

async function startServer(): Promise<Server> {
  const child = fork(join(dirname(fileURLToPath(import.meta.url)), 'agent-viewers-server.js'), [], {
    stdio: 'inherit',
    execArgv: ['--expose-gc'],
  });
  const ask = <T>(msg: object, key: string): Promise<T> =>
    new Promise((resolve) => {
      const on = (m: Record<string, unknown>): void => {
        if (!(key in m)) return;
        child.off('message', on);
        resolve(m[key] as T);
      };
      child.on('message', on);
      if (Object.keys(msg).length > 0) child.send(msg);
    });
  const ready = await ask<{ port: number }>({}, 'ready');
  return { child, port: ready.port, ask };
}

function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN) / 1024;
}

/** Start a new high-water mark (Linux 4.0+: writing 5 to clear_refs resets VmHWM). */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

interface Viewer {
  client: SpiceClient;
  agent: BenchAgent;
  /** Every agent message this viewer received, in order. */
  seen: AgentMessage[];
}

async function connect(port: number): Promise<Viewer> {
  const seen: AgentMessage[] = [];
  return { ...(await agentViewer(port, (m) => seen.push(m))), seen };
}

/** Resolves once every viewer has seen a message `kind` after index `from[i]`. */
async function allSee(
  viewers: Viewer[],
  kind: AgentMessage['kind'],
  from: number[],
  timeoutMs = 60_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!viewers.every((v, i) => v.seen.slice(from[i]).some((m) => m.kind === kind))) {
    if (Date.now() > end) throw new Error(`not every viewer saw ${kind} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Phase {
  name: string;
  ms: number;
  cpuMs: number;
  peakMb: number;
  afterMb: number;
  note: string;
}

async function measure(server: Server, name: string, run: () => Promise<string>): Promise<Phase> {
  const pid = server.child.pid!;
  resetPeak(pid);
  const cpu0 = procCpuMs(pid);
  const t0 = performance.now();
  const note = await run();
  const ms = performance.now() - t0;
  const phase = {
    name,
    ms,
    cpuMs: procCpuMs(pid) - cpu0,
    peakMb: status(pid, 'VmHWM'),
    afterMb: status(pid, 'VmRSS'),
    note,
  };
  console.log(
    `${name.padEnd(44)} ${ms.toFixed(0).padStart(7)} ms ${phase.cpuMs.toFixed(0).padStart(7)} ms CPU ` +
      `${phase.peakMb.toFixed(0).padStart(6)} MB peak ${phase.afterMb.toFixed(0).padStart(6)} MB after  ${note}`,
  );
  return phase;
}

/** Every viewer but `owner` pastes the CLIPBOARD at once; returns how many got `size` bytes. */
async function pasteAll(viewers: Viewer[], size: number): Promise<number> {
  const got = await Promise.all(
    viewers.map(async (v) => {
      const answer = v.agent.next('clipboard');
      await v.agent.send(AgentMsg.ClipboardRequest, encodeClipboardRequest(0, AgentClipboardType.Utf8Text, sel));
      const m = await answer;
      return m.kind === 'clipboard' && m.data.length === size;
    }),
  );
  return got.filter(Boolean).length;
}

/** Garbage a hostile viewer sends, one kind per viewer (round robin). */
const HOSTILE: { name: string; run: (v: Viewer, mib: number) => Promise<void> }[] = [
  {
    name: 'random chunks',
    run: async (v) => {
      for (let i = 0; i < 64; i++) {
        const n = 1 + Math.floor(Math.random() * 2048);
        v.client.channels.get(ChannelType.Main)!.send(encodeAgentDataToServer(Buffer.from(randomBytes(n))));
      }
    },
  },
  {
    name: 'unasked 16 MiB clipboard',
    run: async (v) => {
      // A CLIPBOARD nobody asked for, as large as --max-clipboard allows, sent within the tokens.
      await v.agent.send(
        AgentMsg.Clipboard,
        encodeClipboard(0, AgentClipboardType.Utf8Text, Buffer.alloc(16 * MB - 8, 0x41), sel),
      );
    },
  },
  {
    name: 'chunk over 2048 bytes',
    run: async (v) => {
      v.client.channels.get(ChannelType.Main)!.send(encodeAgentDataToServer(Buffer.alloc(4096, 1)));
    },
  },
  {
    name: 'more data than tokens',
    run: async (v) => {
      const main = v.client.channels.get(ChannelType.Main)!;
      for (const chunk of chunkAgentMessage(AgentMsg.Clipboard, Buffer.alloc(2 * MB)))
        main.send(encodeAgentDataToServer(chunk));
    },
  },
];

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (Math.random() * 256) | 0;
  return out;
}

/** A phase on a server of its own, so that each peak is the phase's own. */
async function onFreshServer(f: (server: Server) => Promise<void>): Promise<void> {
  const server = await startServer();
  try {
    await f(server);
  } finally {
    const exited = new Promise((r) => server.child.once('exit', r));
    server.child.send({ stop: true });
    await exited;
  }
}

async function connectAll(server: Server, count: number): Promise<Viewer[]> {
  const viewers: Viewer[] = [];
  for (let i = 0; i < count; i++) viewers.push(await connect(server.port));
  return viewers;
}

async function retained(server: Server): Promise<string> {
  const usage = await server.ask<NodeJS.MemoryUsage>({ usage: true }, 'usage');
  return `after a full collection: heap ${(usage.heapUsed / MB).toFixed(0)} MB, buffers ${(usage.arrayBuffers / MB).toFixed(0)} MB`;
}

async function main(): Promise<void> {
  const options = { viewers: { type: 'string', default: '50' }, mib: { type: 'string', default: '5' } } as const;
  const { values } = parseArgs({ options });
  const count = Number(values.viewers);
  const size = Number(values.mib) * MB;
  console.log(
    `${count} viewers with the agent, pastes of ${size / MB} MiB; load ${readFileSync('/proc/loadavg', 'utf8').trim()}`,
  );
  console.log("each phase on a fresh server; peak = VmHWM during the phase; CPU = the server's user+system time");

  await onFreshServer(async (server) => {
    const viewers: Viewer[] = [];
    await measure(server, `${count} viewers connect, agents start`, async () => {
      viewers.push(...(await connectAll(server, count)));
      return retained(server);
    });
    for (const v of viewers) v.client.close();
  });

  await onFreshServer(async (server) => {
    const viewers = await connectAll(server, count);
    const [owner, ...others] = viewers as [Viewer, ...Viewer[]];
    owner.agent.offer = benchText(size, 11);
    const from = others.map((v) => v.seen.length);
    await owner.agent.send(AgentMsg.ClipboardGrab, encodeClipboardGrab(0, [AgentClipboardType.Utf8Text], sel));
    await allSee(others, 'clipboardGrab', from);
    const requests = owner.seen.length;
    await measure(server, `a viewer copies, ${others.length} paste at once`, async () => {
      const ok = await pasteAll(others, size);
      const asked = owner.seen.slice(requests).filter((m) => m.kind === 'clipboardRequest').length;
      return `${ok}/${others.length} got it; the owner was asked ${asked} times; ${await retained(server)}`;
    });
    for (const v of viewers) v.client.close();
  });

  await onFreshServer(async (server) => {
    const viewers = await connectAll(server, count);
    const from = viewers.map((v) => v.seen.length);
    await server.ask({ copy: size }, 'copied');
    await allSee(viewers, 'clipboardGrab', from);
    await measure(server, `the desktop copies, ${viewers.length} paste at once`, async () => {
      const ok = await pasteAll(viewers, size);
      return `${ok}/${viewers.length} got it; ${await retained(server)}`;
    });
    for (const v of viewers) v.client.close();
  });

  let aloneMs = 0;
  let floodMs = 0;
  for (const hostileCount of [0, count]) {
    await onFreshServer(async (server) => {
      const good = await connect(server.port);
      const hostile = await connectAll(server, hostileCount);
      const from = [good.seen.length];
      await server.ask({ copy: size }, 'copied');
      await allSee([good], 'clipboardGrab', from);
      const name =
        hostileCount === 0 ? 'a viewer pastes, nobody hostile' : `a viewer pastes while ${hostileCount} are hostile`;
      await measure(server, name, async () => {
        // Attackers whose agent was reset wait for tokens that never come: their sends are not awaited.
        const attacks = hostile.map((v, i) => HOSTILE[i % HOSTILE.length]!.run(v, size).catch(() => undefined));
        const t0 = performance.now();
        const ok = await pasteAll([good], size);
        const ms = performance.now() - t0;
        if (hostileCount === 0) aloneMs = ms;
        else floodMs = ms;
        await Promise.race([Promise.all(attacks), new Promise((r) => setTimeout(r, 10_000))]);
        const closed = hostile.filter((v) => v.client.channels.get(ChannelType.Main)!.isClosed).length;
        return `${ok === 1 ? 'ok' : 'FAILED'} in ${ms.toFixed(0)} ms; ${closed}/${hostileCount} hostile closed; ${await retained(server)}`;
      });
      for (const v of [good, ...hostile]) v.client.close();
    });
  }
  console.log(`hostile viewers, round robin: ${HOSTILE.map((h) => h.name).join(', ')}`);
  console.log(`the good viewer's paste with them / without: ${(floodMs / aloneMs).toFixed(1)}x`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
