import { afterEach, describe, expect, it } from 'vitest';
import type { ClipboardDirection } from '../src/agent/hub.js';
import { SpiceClient } from '../src/client/client.js';
import {
  AGENT_MAX_CHUNK,
  AgentCap,
  AgentClipboardType,
  AgentMsg,
  encodeClipboardGrab,
  encodeClipboardRequest,
  hasCap,
  MainCap,
} from '../src/protocol/index.js';
import { SpiceServer } from '../src/server/server.js';
import { DemoSource } from '../src/sources/demo/demo-source.js';
import { memoryLogger } from '../src/util/log.js';
import { AgentViewer } from './helpers/agent-viewer.js';

const sel = { selection: true };
const CTRL = 0x1d;
const KEY_V = 0x2f;

/* The clipboard directions (--clipboard) and the hub's rules that need a fresh server each. */
describe('the agent policy between viewers and the demo desktop', () => {
  let server: SpiceServer | undefined;
  let viewers: AgentViewer[] = [];

  async function setUp(clipboard: ClipboardDirection): Promise<{ source: DemoSource; records: { message: string }[] }> {
    const source = new DemoSource({ still: true, width: 640, height: 480 });
    const { logger, records } = memoryLogger('debug');
    server = new SpiceServer({ source, port: 0, log: logger, agent: { clipboard } });
    await server.start();
    return { source, records };
  }

  async function viewer(): Promise<AgentViewer> {
    const client = new SpiceClient({
      port: server!.port,
      mainCaps: [MainCap.NameAndUuid, MainCap.AgentConnectedTokens],
      channels: [],
    });
    await client.connect();
    const v = new AgentViewer(client);
    viewers.push(v);
    await v.start();
    await v.next('announceCapabilities');
    return v;
  }

  function ctrlV(source: DemoSource): void {
    for (const [code, down] of [
      [CTRL, true],
      [KEY_V, true],
      [KEY_V, false],
      [CTRL, false],
    ] as const) {
      source.input({ kind: 'key', scancode: code, down });
    }
  }

  /**
   * For "nothing crosses the policy" checks: what must not arrive never does, however long one
   * waits, so a slow machine can only make them pass for lack of time, never fail.
   */
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 200));

  afterEach(async () => {
    for (const v of viewers) v.client.close();
    viewers = [];
    await server?.stop();
    server = undefined;
  });

  it('offers what the desktop holds to a viewer that joins later', async () => {
    const { source } = await setUp('both');
    source.clipboard.copy('held before you came');
    const late = await viewer();
    await late.next('clipboardGrab', (m) => m.selection === 0);
    await late.send(AgentMsg.ClipboardRequest, encodeClipboardRequest(0, AgentClipboardType.Utf8Text, sel));
    expect((await late.next('clipboard')).data.toString()).toBe('held before you came');
  });

  it('--clipboard off: no clipboard capability, grabs go nowhere', async () => {
    const { source } = await setUp('off');
    const a = await viewer();
    const caps = (await a.next('announceCapabilities')).caps;
    expect(hasCap(caps, AgentCap.ClipboardByDemand)).toBe(false);
    expect(hasCap(caps, AgentCap.MonitorsConfig)).toBe(true);
    source.clipboard.copy('secret');
    await settle();
    expect(a.messages.some((m) => m.kind === 'clipboardGrab')).toBe(false);
  });

  it("--clipboard to-viewer: the desktop's copy goes out, a viewer's copy does not come in", async () => {
    const { source } = await setUp('to-viewer');
    const a = await viewer();
    a.serve.set(0, Buffer.from('from the viewer\n'));
    await a.send(AgentMsg.ClipboardGrab, encodeClipboardGrab(0, [AgentClipboardType.Utf8Text], sel));
    await settle();
    ctrlV(source);
    await settle();
    expect(a.messages.some((m) => m.kind === 'clipboardRequest')).toBe(false);
    expect(source.lastPaste).toBeUndefined();
    source.clipboard.copy('out it goes');
    await a.next('clipboardGrab');
    await a.send(AgentMsg.ClipboardRequest, encodeClipboardRequest(0, AgentClipboardType.Utf8Text, sel));
    expect((await a.next('clipboard')).data.toString()).toBe('out it goes');
  });

  it("--clipboard from-viewer: a viewer's copy comes in, nothing goes out, not even to another viewer", async () => {
    const { source } = await setUp('from-viewer');
    const a = await viewer();
    const b = await viewer();
    a.serve.set(0, Buffer.from('in it comes\n'));
    await a.send(AgentMsg.ClipboardGrab, encodeClipboardGrab(0, [AgentClipboardType.Utf8Text], sel));
    await settle();
    ctrlV(source);
    await a.until(() => source.lastPaste === 'in it comes\n', 5000, 'the paste');
    expect(b.messages.some((m) => m.kind === 'clipboardGrab')).toBe(false);
    source.clipboard.copy('stays here');
    await b.send(AgentMsg.ClipboardRequest, encodeClipboardRequest(0, AgentClipboardType.Utf8Text, sel));
    const answer = await b.next('clipboard');
    expect(answer.type).toBe(AgentClipboardType.None);
    expect(answer.data.length).toBe(0);
    expect(b.messages.some((m) => m.kind === 'clipboardGrab')).toBe(false);
  });

  it('closes a viewer whose agent had to be reset more than 5 times; the other viewer stays', async () => {
    const { records } = await setUp('both');
    const a = await viewer();
    const b = await viewer();
    const closed = new Promise<void>((r) => a.client.once('closed', () => r()));
    for (let i = 0; i < 6; i++) {
      const before = a.events.length;
      a.sendRawChunk(Buffer.alloc(AGENT_MAX_CHUNK + 1));
      if (i < 5) {
        await a.until(() => a.events.length >= before + 2, 5000, `reset ${i + 1}`);
        await a.start();
      }
    }
    await closed;
    expect(records.some((r) => /after 5 resets for bad input/.test(r.message))).toBe(true);
    await b.send(AgentMsg.ClipboardRequest, encodeClipboardRequest(0, AgentClipboardType.Utf8Text, sel));
    await b.next('clipboard');
  });
});
