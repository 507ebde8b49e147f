/**
 * How fast a paste crosses the agent both ways, and what it costs in memory: a viewer's copy pasted
 * into the demo desktop (the demo's clipboard asks, REQUEST goes to the viewer, its CLIPBOARD comes
 * back in 2048-byte chunks paced by the tokens spiced gives back; the terminal's drawing of the
 * text is not timed) and the demo's copy pasted by a viewer. Server and viewer share this
 * process (the viewer is the project's headless client speaking the agent by hand), so each time
 * includes both sides' work; it is the agent's round trip on loopback, not a network figure.
 *
 *   npm run build && node dist/bench/agent-paste.js
 */
import { pathToFileURL } from 'node:url';
import { AgentLink, UNLIMITED_TOKENS } from '../src/client/agent-link.js';
import { SpiceClient } from '../src/client/client.js';
import type { ClientChannel } from '../src/client/channel.js';
import {
  AgentCap,
  AgentClipboardType,
  AgentMsg,
  capWords,
  ChannelType,
  decodeAgentMessage,
  decodeMainServerMessage,
  encodeAnnounceCapabilities,
  encodeClipboard,
  encodeClipboardGrab,
  encodeClipboardRequest,
  MainCap,
  type AgentMessage,
} from '../src/protocol/index.js';
import { AGENT_TOKENS } from '../src/agent/endpoint.js';
import { SpiceServer } from '../src/server/server.js';
import { DemoSource } from '../src/sources/demo/demo-source.js';
import { benchText as text } from './agent-text.js';
import { median } from './common.js';

const sel = { selection: true };
const SIZES = [64 << 10, 1 << 20, 5 << 20, 15 << 20];
const RUNS = 5;

/** The viewer's agent: its messages through an AgentLink, and answers to REQUESTs with `offer`. */
export class BenchAgent {
  private readonly link: AgentLink;
  private messageWaiter: ((m: AgentMessage) => void) | undefined;
  offer: Buffer = Buffer.alloc(0);

  /** `observe` sees every agent message this viewer receives. */
  constructor(
    main: ClientChannel,
    private readonly observe?: (m: AgentMessage) => void,
  ) {
    this.link = new AgentLink({
      send: (m) => main.send(m),
      ourTokens: UNLIMITED_TOKENS,
      maxMessage: () => 64 << 20,
      maxQueuedChunks: Infinity,
    });
    main.on('message', (type, body) => {
      const m = decodeMainServerMessage(type, body);
      if (m?.kind === 'agentToken') this.link.addTokens(m.numTokens);
      else if (m?.kind === 'agentData') {
        const raw = this.link.receive(m.data);
        if (raw) this.onMessage(decodeAgentMessage(raw.type, raw.body, sel));
      }
    });
  }

  /** AGENT_START, with the tokens MAIN_INIT gave. */
  start(serverTokens: number): void {
    this.link.start(serverTokens);
  }

  private onMessage(m: AgentMessage): void {
    this.observe?.(m);
    if (m.kind === 'clipboardRequest') {
      void this.send(AgentMsg.Clipboard, encodeClipboard(0, AgentClipboardType.Utf8Text, this.offer, sel));
    }
    this.messageWaiter?.(m);
  }

  next(kind: AgentMessage['kind']): Promise<AgentMessage> {
    return new Promise((resolve) => {
      this.messageWaiter = (m) => {
        if (m.kind !== kind) return;
        this.messageWaiter = undefined;
        resolve(m);
      };
    });
  }

  /** One message, whole and after those sent before it; resolves once its last chunk is on the wire. */
  send(type: number, body: Buffer): Promise<void> {
    return this.link.send(type, body) || Promise.reject(new Error('agent queue full'));
  }
}

/** The token windows compared: near spice-server's (10) and spiced's default. */
const WINDOWS = [32, AGENT_TOKENS];

interface Rig {
  tokens: number;
  source: DemoSource;
  server: SpiceServer;
  client: SpiceClient;
  agent: BenchAgent;
}

/**
 * A viewer on `port` (main channel only) whose agent has started and exchanged capabilities as
 * spice-gtk's does (clipboard by demand, with selections).
 */
export async function agentViewer(
  port: number,
  observe?: (m: AgentMessage) => void,
): Promise<{ client: SpiceClient; agent: BenchAgent }> {
  const mainCaps = [MainCap.NameAndUuid, MainCap.AgentConnectedTokens];
  const client = new SpiceClient({ port, mainCaps, channels: [] });
  await client.connect();
  const main = client.channels.get(ChannelType.Main)!;
  const agent = new BenchAgent(main, observe);
  agent.start(client.init!.agentTokens);
  const caps = agent.next('announceCapabilities');
  const gtkCaps = [AgentCap.ClipboardByDemand, AgentCap.ClipboardSelection, AgentCap.Reply];
  await agent.send(AgentMsg.AnnounceCapabilities, encodeAnnounceCapabilities(true, capWords(gtkCaps)));
  await caps;
  return { client, agent };
}

async function rig(tokens: number): Promise<Rig> {
  const source = new DemoSource({ still: true, width: 640, height: 480 });
  const server = new SpiceServer({ source, port: 0, warmUp: false, agent: { tokens } });
  await server.start();
  return { tokens, source, server, ...(await agentViewer(server.port)) };
}

/** One paste each way; milliseconds. */
async function pasteBothWays(r: Rig, size: number, seed: number): Promise<[number, number]> {
  r.agent.offer = text(size, seed);
  await r.agent.send(AgentMsg.ClipboardGrab, encodeClipboardGrab(0, [AgentClipboardType.Utf8Text], sel));
  // The grab has no answer: give the server a moment to take it before pasting (not timed).
  await new Promise((res) => setTimeout(res, 30));
  // What the demo's Ctrl+V asks for, without the terminal's drawing of the pasted text.
  const t0 = performance.now();
  const pasted = await r.source.clipboard.paste();
  const up = performance.now() - t0;
  if (pasted?.length !== size) throw new Error(`viewer->desktop paste of ${size} bytes failed`);
  r.source.clipboard.copy(text(size, seed + 1).toString('latin1'));
  const got = r.agent.next('clipboard');
  const t1 = performance.now();
  await r.agent.send(AgentMsg.ClipboardRequest, encodeClipboardRequest(0, AgentClipboardType.Utf8Text, sel));
  const m = await got;
  const down = performance.now() - t1;
  if (m.kind !== 'clipboard' || m.data.length !== size)
    throw new Error(`desktop->viewer paste of ${size} bytes failed`);
  return [up, down];
}

async function main(): Promise<void> {
  const rigs = await Promise.all(WINDOWS.map(rig));
  console.log(`median of ${RUNS} runs per cell, windows run alternately (the machine may be shared)`);
  console.log(
    `size      ${WINDOWS.map((w) => `up ${w} tokens`.padStart(18) + `down ${w} tokens`.padStart(20)).join('')}`,
  );
  for (const size of SIZES) {
    const times = rigs.map(() => ({ up: [] as number[], down: [] as number[] }));
    for (let run = 0; run < RUNS; run++) {
      for (const [i, r] of rigs.entries()) {
        const [up, down] = await pasteBothWays(r, size, 7 + run);
        times[i]!.up.push(up);
        times[i]!.down.push(down);
      }
    }
    const mb = size / (1 << 20);
    const cell = (ms: number): string => `${ms.toFixed(0)} ms ${(mb / (ms / 1000)).toFixed(0)} MB/s`;
    const label = size >= 1 << 20 ? `${mb} MiB` : `${size >> 10} KiB`;
    const cells = times.map((t) => cell(median(t.up)).padStart(18) + cell(median(t.down)).padStart(20));
    console.log(`${label.padEnd(10)}${cells.join('')}`);
  }
  console.log(`RSS after: ${(process.memoryUsage().rss / (1 << 20)).toFixed(0)} MB (both servers and viewers)`);
  for (const r of rigs) {
    r.client.close();
    await r.server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
