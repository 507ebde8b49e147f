import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import { sameRgb } from '../src/display/pixels.js';
import {
  AGENT_MAX_CHUNK,
  AgentCap,
  AgentClipboardType,
  AgentMsg,
  chunkAgentMessage,
  encodeAgentDataToServer,
  encodeAgentMonitorsConfig,
  encodeAgentReply,
  encodeClipboard,
  encodeClipboardGrab,
  encodeClipboardRequest,
  hasCap,
  MainCap,
  packKeyCode,
} from '../src/protocol/index.js';
import { SpiceServer } from '../src/server/server.js';
import { DemoSource } from '../src/sources/demo/demo-source.js';
import { memoryLogger } from '../src/util/log.js';
import { AgentViewer } from './helpers/agent-viewer.js';

const sel = { selection: true };
const MAX_CLIPBOARD = 6 << 20;
const CTRL = 0x1d;
const KEY_V = 0x2f;
/** Scancodes of the characters the tests type into the demo terminal. */
const KEYS: Record<string, number> = { c: 0x2e, o: 0x18, p: 0x19, y: 0x15, ' ': 0x39, a: 0x1e, b: 0x30, '\n': 0x1c };

describe('the agent spiced plays on the main channel, with the demo desktop', () => {
  const source = new DemoSource({ still: true, width: 1024, height: 768 });
  const { logger, records } = memoryLogger('debug');
  const server = new SpiceServer({ source, port: 0, log: logger, agent: { maxClipboard: MAX_CLIPBOARD } });
  let a: AgentViewer;
  let b: AgentViewer;

  async function viewer(): Promise<AgentViewer> {
    const client = new SpiceClient({
      port: server.port,
      mainCaps: [MainCap.NameAndUuid, MainCap.AgentConnectedTokens],
    });
    await client.connect();
    await client.waitFor(() => client.display.marks > 0, 5000, 'first frame');
    const v = new AgentViewer(client);
    await v.start();
    await v.next('announceCapabilities');
    return v;
  }

  function ctrlV(v: AgentViewer): void {
    v.client.sendInput({ kind: 'keyDown', code: packKeyCode(CTRL, true) });
    v.client.tapKey(KEY_V);
    v.client.sendInput({ kind: 'keyUp', code: packKeyCode(CTRL, false) });
  }

  function typeLine(v: AgentViewer, text: string): void {
    for (const ch of text) v.client.tapKey(KEYS[ch]!);
  }

  beforeAll(async () => {
    await server.start();
    a = await viewer();
    b = await viewer();
  });

  afterAll(async () => {
    a.client.close();
    b.client.close();
    await server.stop();
  });

  it('announces the agent in MAIN_INIT and answers the capability request with what it handles', async () => {
    expect(a.client.init?.agentConnected).toBe(1);
    expect(a.client.init?.agentTokens).toBeGreaterThan(0);
    const caps = (await a.next('announceCapabilities')).caps;
    for (const cap of [
      AgentCap.ClipboardByDemand,
      AgentCap.ClipboardSelection,
      AgentCap.MonitorsConfig,
      AgentCap.Reply,
    ]) {
      expect(hasCap(caps, cap)).toBe(true);
    }
    expect(hasCap(caps, AgentCap.FileXferDisabled)).toBe(true);
    expect(hasCap(caps, AgentCap.ClipboardGrabSerial)).toBe(false);
  });

  it("pastes a viewer's copy into the demo terminal, and offers it to the other viewer", async () => {
    const fromB = b.messages.length;
    a.serve.set(0, Buffer.from('echo pasted from A\n'));
    await a.send(AgentMsg.ClipboardGrab, encodeClipboardGrab(0, [AgentClipboardType.Utf8Text], sel));
    await b.next('clipboardGrab', (m) => m.selection === 0 && m.types.includes(AgentClipboardType.Utf8Text), fromB);
    ctrlV(a);
    await a.until(() => source.lastPaste === 'echo pasted from A\n', 5000, 'the paste in the demo');
    const fromB2 = b.messages.length;
    await b.send(AgentMsg.ClipboardRequest, encodeClipboardRequest(0, AgentClipboardType.Utf8Text, sel));
    const got = await b.next('clipboard', () => true, fromB2);
    expect(got.data.toString()).toBe('echo pasted from A\n');
  });

  it("offers what the demo copies to every viewer, and a viewer's paste gets it", async () => {
    const fromA = a.messages.length;
    const fromB = b.messages.length;
    typeLine(b, 'copy abba\n');
    await a.next('clipboardGrab', (m) => m.selection === 0, fromA);
    await b.next('clipboardGrab', (m) => m.selection === 0, fromB);
    await a.send(AgentMsg.ClipboardRequest, encodeClipboardRequest(0, AgentClipboardType.Utf8Text, sel));
    const got = await a.next('clipboard', () => true, fromA);
    expect(got.type).toBe(AgentClipboardType.Utf8Text);
    expect(got.data.toString()).toBe('abba');
  });

  it('carries a 5 MiB paste both ways, giving tokens back as it goes', async () => {
    const big = Buffer.alloc(5 << 20);
    for (let i = 0; i < big.length; i++) big[i] = 0x21 + ((i * 31) % 90);
    big[1000] = 0x0a;
    a.serve.set(0, big);
    const offered = b.messages.length;
    await a.send(AgentMsg.ClipboardGrab, encodeClipboardGrab(0, [AgentClipboardType.Utf8Text], sel));
    // The grab has reached the server once it is offered to the other viewer; the keys come by
    // another connection and must not overtake it.
    await b.next('clipboardGrab', () => true, offered);
    ctrlV(a);
    await a.until(() => source.lastPaste?.length === big.length, 20_000, 'the 5 MiB paste in the demo');
    expect(source.lastPaste === big.toString('latin1')).toBe(true);
    // And back: the demo owns it now, a viewer pastes it.
    source.clipboard.copy(big.toString('latin1'));
    const fromB = b.messages.length;
    await b.next('clipboardGrab', () => true, fromB);
    await b.send(AgentMsg.ClipboardRequest, encodeClipboardRequest(0, AgentClipboardType.Utf8Text, sel));
    const got = await b.next('clipboard', () => true, fromB, 20_000);
    expect(got.data.equals(big)).toBe(true);
  });

  it('resizes the demo on MONITORS_CONFIG; every viewer gets the new surface and the same pixels', async () => {
    const fromA = a.messages.length;
    const mon = (w: number, h: number): Buffer =>
      encodeAgentMonitorsConfig(0, [{ width: w, height: h, depth: 32, x: 0, y: 0 }]);
    await a.send(AgentMsg.MonitorsConfig, mon(800, 600));
    const reply = await a.next('reply', (m) => m.type === AgentMsg.MonitorsConfig, fromA);
    expect(reply.error).toBe(1);
    expect(source.layout.width).toBe(800);
    for (const v of [a, b]) {
      await v.client.waitFor(
        () => v.client.display.primary?.width === 800 && sameRgb(v.client.display.primary, source.render()),
        10_000,
        '800x600',
      );
    }
    await b.send(AgentMsg.MonitorsConfig, mon(1024, 768));
    for (const v of [a, b]) {
      await v.client.waitFor(
        () => v.client.display.primary?.width === 1024 && sameRgb(v.client.display.primary, source.render()),
        10_000,
        '1024x768',
      );
    }
  });

  it("viewers pasting one viewer's copy together share one REQUEST to it, and all get the data", async () => {
    const c = await viewer();
    try {
      const data = Buffer.alloc(2 << 20, 0x5a);
      a.serve.set(0, data);
      const fromB = b.messages.length;
      const fromC = c.messages.length;
      await a.send(AgentMsg.ClipboardGrab, encodeClipboardGrab(0, [AgentClipboardType.Utf8Text], sel));
      await b.next('clipboardGrab', () => true, fromB);
      await c.next('clipboardGrab', () => true, fromC);
      const asked = a.messages.length;
      const request = encodeClipboardRequest(0, AgentClipboardType.Utf8Text, sel);
      await Promise.all([b.send(AgentMsg.ClipboardRequest, request), c.send(AgentMsg.ClipboardRequest, request)]);
      const [gotB, gotC] = await Promise.all([
        b.next('clipboard', () => true, fromB, 10_000),
        c.next('clipboard', () => true, fromC, 10_000),
      ]);
      expect(gotB.data.equals(data) && gotC.data.equals(data)).toBe(true);
      expect(a.messages.slice(asked).filter((m) => m.kind === 'clipboardRequest')).toHaveLength(1);
    } finally {
      c.client.close();
    }
  });

  describe("bad agent traffic resets that viewer's agent and leaves the other viewer served", () => {
    const cases: [string, () => Buffer][] = [
      ['a chunk over 2048 bytes', () => Buffer.alloc(AGENT_MAX_CHUNK + 1)],
      [
        'a message whose size lies',
        () => {
          const c = chunkAgentMessage(AgentMsg.Reply, encodeAgentReply(2, 1))[0]!;
          c.writeUInt32LE(4, 16);
          return c;
        },
      ],
      ['an unknown type', () => chunkAgentMessage(77, Buffer.alloc(4))[0]!],
      [
        'a large clipboard nobody asked for',
        () => chunkAgentMessage(AgentMsg.Clipboard, encodeClipboard(0, 1, Buffer.alloc(64 << 10), sel))[0]!,
      ],
      [
        'a paste larger than --max-clipboard',
        () => chunkAgentMessage(AgentMsg.Clipboard, encodeClipboard(0, 1, Buffer.alloc(MAX_CLIPBOARD + 1), sel))[0]!,
      ],
    ];
    for (const [what, bad] of cases) {
      it(what, async () => {
        // A owns the clipboard; its reset must release it for B.
        a.serve.set(0, Buffer.from('owned by A'));
        await a.send(AgentMsg.ClipboardGrab, encodeClipboardGrab(0, [AgentClipboardType.Utf8Text], sel));
        const fromB = b.messages.length;
        await b.next('clipboardGrab', () => true, fromB);
        const before = a.events.length;
        a.sendRawChunk(bad());
        await a.until(() => a.events.slice(before).join() === 'disconnected,connectedTokens', 5000, 'agent reset');
        await b.next('clipboardRelease', (m) => m.selection === 0, fromB);
        expect(records.some((r) => r.level === 'warn' && /agent of .* reset/.test(r.message))).toBe(true);
        // A's agent comes back; B was never disturbed and still pastes from the demo.
        const fromA = a.messages.length;
        await a.start();
        await a.next('announceCapabilities', () => true, fromA);
        source.clipboard.copy(`still here after ${what}`);
        await b.send(AgentMsg.ClipboardRequest, encodeClipboardRequest(0, AgentClipboardType.Utf8Text, sel));
        const got = await b.next('clipboard', (m) => m.data.toString().startsWith('still here'), fromB);
        expect(got.data.toString()).toBe(`still here after ${what}`);
      });
    }

    it('more AGENT_DATA than tokens closes that viewer only', async () => {
      const c = await viewer();
      const closed = new Promise<void>((r) => c.client.once('closed', () => r()));
      const reply = chunkAgentMessage(AgentMsg.Reply, encodeAgentReply(2, 1))[0]!;
      c.main.socket.cork();
      for (let i = 0; i < c.tokens + 8; i++) c.main.send(encodeAgentDataToServer(reply));
      c.main.socket.uncork();
      await closed;
      expect(records.some((r) => /more AGENT_DATA than the \d+ tokens/.test(r.message))).toBe(true);
      const fromB = b.messages.length;
      await b.send(AgentMsg.ClipboardRequest, encodeClipboardRequest(0, AgentClipboardType.Utf8Text, sel));
      await b.next('clipboard', () => true, fromB);
    });
  });
});
