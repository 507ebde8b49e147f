import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UploadDir } from '../src/agent/upload-dir.js';
import { SpiceClient } from '../src/client/client.js';
import {
  AgentCap,
  AgentMsg,
  encodeFileXferData,
  encodeFileXferStart,
  encodeFileXferStatus,
  FileXferResult,
  hasCap,
  MainCap,
} from '../src/protocol/index.js';
import { SpiceServer } from '../src/server/server.js';
import { DemoSource } from '../src/sources/demo/demo-source.js';
import { memoryLogger } from '../src/util/log.js';
import { AgentViewer } from './helpers/agent-viewer.js';

const MAX_FILE = 1 << 20;

describe('files dropped into the desktop (--upload-dir)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spiced-upload-'));
  const { logger, records } = memoryLogger('debug');
  const uploads = new UploadDir(dir, logger, { maxFileBytes: MAX_FILE, maxPerViewer: 8, maxTotal: 32 });
  const server = new SpiceServer({ source: new DemoSource({ still: true }), port: 0, log: logger, agent: { uploads } });
  const plain = new SpiceServer({ source: new DemoSource({ still: true }), port: 0, log: logger });
  let v: AgentViewer;
  let nextId = 1;

  async function viewer(port: number): Promise<AgentViewer> {
    const client = new SpiceClient({
      port,
      mainCaps: [MainCap.NameAndUuid, MainCap.AgentConnectedTokens],
      channels: [],
    });
    await client.connect();
    const a = new AgentViewer(client);
    await a.start();
    await a.next('announceCapabilities');
    return a;
  }

  async function status(a: AgentViewer, id: number, from: number): Promise<number> {
    return (await a.next('fileXferStatus', (m) => m.id === id, from)).result;
  }

  /** Send a whole file as spice-gtk does: START, wait for CAN_SEND_DATA, DATA in 64 KiB pieces. */
  async function send(a: AgentViewer, name: string, data: Buffer): Promise<{ id: number; result: number }> {
    const id = nextId++;
    const from = a.messages.length;
    await a.send(AgentMsg.FileXferStart, encodeFileXferStart(id, name, data.length));
    const first = await status(a, id, from);
    if (first !== FileXferResult.CanSendData) return { id, result: first };
    const after = a.messages.length;
    for (let at = 0; at < data.length; at += 65536) {
      await a.send(AgentMsg.FileXferData, encodeFileXferData(id, data.subarray(at, at + 65536)));
    }
    return { id, result: await status(a, id, after) };
  }

  const leftovers = (): string[] => readdirSync(dir).filter((f) => f.startsWith('.spiced-upload-'));

  beforeAll(async () => {
    await server.start();
    await plain.start();
    v = await viewer(server.port);
  });

  afterAll(async () => {
    v.client.close();
    await server.stop();
    await plain.stop();
  });

  it('writes a dropped file byte-exact, and never overwrites: a second one gets a free name', async () => {
    expect(hasCap((await v.next('announceCapabilities')).caps, AgentCap.FileXferDisabled)).toBe(false);
    const data = Buffer.alloc(300_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131) & 0xff;
    expect((await send(v, 'photo.raw', data)).result).toBe(FileXferResult.Success);
    expect(readFileSync(join(dir, 'photo.raw')).equals(data)).toBe(true);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    expect((await send(v, 'notes.txt', Buffer.from('theirs'))).result).toBe(FileXferResult.Success);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(join(dir, 'notes (2).txt'), 'utf8')).toBe('theirs');
    expect((await send(v, 'empty', Buffer.alloc(0))).result).toBe(FileXferResult.Success);
    expect(readFileSync(join(dir, 'empty')).length).toBe(0);
  });

  it('refuses hostile names with an error and writes nothing', async () => {
    const before = readdirSync(dir).length;
    for (const name of ['../escape.txt', 'a/b', '..', 'C:\\x', 'bell\x07']) {
      expect((await send(v, name, Buffer.from('x'))).result).toBe(FileXferResult.Error);
    }
    expect(readdirSync(dir).length).toBe(before);
    expect(records.some((r) => /refused: name "\.\.\/escape\.txt" has a path separator/.test(r.message))).toBe(true);
  });

  it('answers a file over the limit with NOT_ENOUGH_SPACE and the room there is', async () => {
    const id = nextId++;
    const from = v.messages.length;
    await v.send(AgentMsg.FileXferStart, encodeFileXferStart(id, 'big.iso', MAX_FILE + 1));
    const st = await v.next('fileXferStatus', (m) => m.id === id, from);
    expect(st.result).toBe(FileXferResult.NotEnoughSpace);
    expect(Number(st.data.readBigUInt64LE(0))).toBeLessThanOrEqual(MAX_FILE);
  });

  it('removes the partial file when the viewer cancels, sends too much, or leaves', async () => {
    const start = async (a: AgentViewer, name: string, size: number): Promise<number> => {
      const id = nextId++;
      const from = a.messages.length;
      await a.send(AgentMsg.FileXferStart, encodeFileXferStart(id, name, size));
      expect(await status(a, id, from)).toBe(FileXferResult.CanSendData);
      await a.send(AgentMsg.FileXferData, encodeFileXferData(id, Buffer.alloc(1000, 1)));
      return id;
    };
    const cancelled = await start(v, 'cancelled.bin', 5000);
    await v.until(() => leftovers().length === 1, 5000, 'the partial file');
    await v.send(AgentMsg.FileXferStatus, encodeFileXferStatus(cancelled, FileXferResult.Cancelled));
    await v.until(() => leftovers().length === 0, 5000, 'the partial file removed after cancel');

    const over = await start(v, 'over.bin', 1500);
    const from = v.messages.length;
    await v.send(AgentMsg.FileXferData, encodeFileXferData(over, Buffer.alloc(1000, 2)));
    expect(await status(v, over, from)).toBe(FileXferResult.Error);
    await v.until(() => leftovers().length === 0, 5000, 'the partial file removed after too much data');

    const other = await viewer(server.port);
    await start(other, 'left.bin', 5000);
    other.client.close();
    await v.until(() => leftovers().length === 0, 5000, 'the partial file removed after the viewer left');
    expect(readdirSync(dir).some((f) => /cancelled|over|left/.test(f))).toBe(false);
  });

  it('holds to 8 transfers at once per viewer even when the STARTs come in one burst', async () => {
    const from = v.messages.length;
    const ids = Array.from({ length: 10 }, () => nextId++);
    // One write: every START is read before the first one's file is open.
    v.main.socket.cork();
    await Promise.all(ids.map((id) => v.send(AgentMsg.FileXferStart, encodeFileXferStart(id, `burst-${id}.bin`, 100))));
    v.main.socket.uncork();
    const results = await Promise.all(ids.map((id) => status(v, id, from)));
    expect(results.filter((r) => r === FileXferResult.CanSendData)).toHaveLength(8);
    expect(results.filter((r) => r === FileXferResult.Error)).toHaveLength(2);
    expect(records.some((r) => /too many transfers at once \(8 of this viewer/.test(r.message))).toBe(true);
    for (const id of ids) await v.send(AgentMsg.FileXferStatus, encodeFileXferStatus(id, FileXferResult.Cancelled));
    await v.until(() => leftovers().length === 0, 5000, "the burst's partial files removed");
  });

  it('without --upload-dir announces FILE_XFER_DISABLED and answers a transfer with DISABLED', async () => {
    const a = await viewer(plain.port);
    try {
      expect(hasCap((await a.next('announceCapabilities')).caps, AgentCap.FileXferDisabled)).toBe(true);
      expect((await send(a, 'x.txt', Buffer.from('x'))).result).toBe(FileXferResult.Disabled);
    } finally {
      a.client.close();
    }
  });
});
