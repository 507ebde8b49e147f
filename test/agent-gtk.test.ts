import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UploadDir } from '../src/agent/upload-dir.js';
import { SpiceClient } from '../src/client/client.js';
import { AGENT_MAX_CHUNK, MainCap } from '../src/protocol/index.js';
import { SpiceServer } from '../src/server/server.js';
import { DemoSource } from '../src/sources/demo/demo-source.js';
import { memoryLogger } from '../src/util/log.js';
import { AgentViewer } from './helpers/agent-viewer.js';
import { GtkAgent } from './helpers/gtk-agent.js';
import { lacking, skipNote } from './helpers/probes.js';
import { diffPixels, readImage } from './helpers/tools.js';

const why = lacking('spice-glib');
const CTRL = 0x1d;
const KEY_V = 0x2f;

describe.skipIf(why !== '')(`the agent with spice-gtk's main channel${skipNote(why)}`, () => {
  const work = mkdtempSync(join(tmpdir(), 'spiced-agent-gtk-'));
  const uploadsDir = mkdtempSync(join(tmpdir(), 'spiced-agent-gtk-up-'));
  const source = new DemoSource({ still: true, width: 1024, height: 768 });
  const { logger, records } = memoryLogger('debug');
  const uploads = new UploadDir(uploadsDir, logger);
  const server = new SpiceServer({ source, port: 0, log: logger, agent: { maxClipboard: 8 << 20, uploads } });
  let a: GtkAgent;
  let b: GtkAgent;
  const file = (name: string): string => join(work, name);

  function ctrlV(): void {
    source.input({ kind: 'key', scancode: CTRL, down: true });
    source.input({ kind: 'key', scancode: KEY_V, down: true });
    source.input({ kind: 'key', scancode: KEY_V, down: false });
    source.input({ kind: 'key', scancode: CTRL, down: false });
  }

  /** Text of `size` printable bytes with line breaks, as a large paste would be. */
  function bigText(size: number, seed: number): Buffer {
    const out = Buffer.alloc(size);
    for (let i = 0; i < size; i++) out[i] = i % 100 === 99 ? 0x0a : 0x21 + ((i * seed) % 90);
    return out;
  }

  /** The viewer's framebuffer, captured until it equals the server's (the last band may be on its way). */
  async function sameAsServer(v: GtkAgent, name: string): Promise<number> {
    let diff = -1;
    for (let i = 0; i < 20 && diff !== 0; i++) {
      const from = v.events.length;
      v.send(`shot ${file(name)}`);
      await v.next('shot', () => true, from);
      diff = diffPixels(readImage(file(name)), server.desktop.primary!);
      if (diff !== 0) await new Promise((r) => setTimeout(r, 100));
    }
    return diff;
  }

  beforeAll(async () => {
    await server.start();
    a = new GtkAgent(`spice://127.0.0.1:${server.port}`);
    b = new GtkAgent(`spice://127.0.0.1:${server.port}`);
    await Promise.all([a.next('ready'), b.next('ready')]);
  });

  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await server.stop();
  });

  it("pastes spice-gtk's copy into the demo terminal and offers it to the other spice-gtk", async () => {
    writeFileSync(file('a.txt'), 'echo copied in spice-gtk\n');
    const fromB = b.events.length;
    a.send(`grab 0 ${file('a.txt')}`);
    await b.next('grab', (e) => e.selection === 0, fromB);
    ctrlV();
    await waitFor(() => source.lastPaste === 'echo copied in spice-gtk\n', 'the paste in the demo');
    const from = b.events.length;
    b.send(`request 0 ${file('b-got.txt')}`);
    await b.next('clipboard', () => true, from);
    expect(readFileSync(file('b-got.txt'), 'utf8')).toBe('echo copied in spice-gtk\n');
  });

  it('carries a 5 MiB paste both ways', async () => {
    const up = bigText(5 << 20, 7);
    writeFileSync(file('big-up.txt'), up);
    const fromB = b.events.length;
    a.send(`grab 0 ${file('big-up.txt')}`);
    await b.next('grab', () => true, fromB);
    ctrlV();
    await waitFor(() => source.lastPaste?.length === up.length, 'the 5 MiB paste in the demo', 30_000);
    expect(source.lastPaste === up.toString('latin1')).toBe(true);

    const down = bigText(5 << 20, 13);
    const fromA = a.events.length;
    source.clipboard.copy(down.toString('latin1'));
    await a.next('grab', () => true, fromA);
    a.send(`request 0 ${file('big-down.txt')}`);
    await a.next('clipboard', () => true, fromA, 30_000);
    expect(readFileSync(file('big-down.txt')).equals(down)).toBe(true);
  });

  it("resizes the desktop from 1024x768 to 1280x800 and back; both viewers show the server's frame", async () => {
    const fromA = a.events.length;
    const fromB = b.events.length;
    a.send('resize 1280 800');
    await a.next('primary', (e) => e.width === 1280 && e.height === 800, fromA);
    await b.next('primary', (e) => e.width === 1280 && e.height === 800, fromB);
    expect(await sameAsServer(a, 'a-1280.png')).toBe(0);
    expect(await sameAsServer(b, 'b-1280.png')).toBe(0);
    const fromA2 = a.events.length;
    b.send('resize 1024 768');
    await a.next('primary', (e) => e.width === 1024 && e.height === 768, fromA2);
    expect(await sameAsServer(a, 'a-1024.png')).toBe(0);
    expect(await sameAsServer(b, 'b-1024.png')).toBe(0);
  });

  it('writes a dropped file byte-exact and refuses a hostile name', async () => {
    const data = bigText(1 << 20, 3);
    writeFileSync(file('drop.bin'), data);
    const from = a.events.length;
    a.send(`sendfile ${file('drop.bin')}`);
    expect((await a.next('file', () => true, from)).ok).toBe(true);
    expect(readFileSync(join(uploadsDir, 'drop.bin')).equals(data)).toBe(true);
    // spice-gtk sends base names, so what it can send that is hostile is a control character.
    writeFileSync(file('tab\tname.txt'), 'x');
    const from2 = a.events.length;
    a.send(`sendfile ${file('tab\tname.txt')}`);
    const refused = await a.next('file', () => true, from2);
    expect(refused.ok).toBe(false);
    expect(records.some((r) => /refused: name .* has a control character/.test(r.message))).toBe(true);
  });

  it('malformed agent traffic from a raw viewer resets its agent; spice-gtk keeps pasting', async () => {
    const raw = new SpiceClient({
      port: server.port,
      mainCaps: [MainCap.NameAndUuid, MainCap.AgentConnectedTokens],
      channels: [],
    });
    await raw.connect();
    const bad = new AgentViewer(raw);
    await bad.start();
    await bad.next('announceCapabilities');
    bad.sendRawChunk(Buffer.alloc(AGENT_MAX_CHUNK + 1));
    await bad.until(() => bad.events.includes('disconnected'), 5000, "the raw viewer's agent reset");
    const fromA = a.events.length;
    source.clipboard.copy('after the bad viewer');
    await a.next('grab', () => true, fromA);
    a.send(`request 0 ${file('after.txt')}`);
    await a.next('clipboard', () => true, fromA);
    expect(readFileSync(file('after.txt'), 'utf8')).toBe('after the bad viewer');
    raw.close();
  });
});

function waitFor(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const timer = setInterval(() => {
      if (pred()) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - t0 > timeoutMs) {
        clearInterval(timer);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 20);
  });
}
