import { describe, expect, it } from 'vitest';
import {
  AGENT_HEADER_SIZE,
  AGENT_MAX_CHUNK,
  AgentClipboardType,
  AgentMsg,
  AgentReassembler,
  chunkAgentMessage,
  decodeAgentMessage,
  encodeAgentMonitorsConfig,
  encodeAgentReply,
  encodeAnnounceCapabilities,
  encodeClipboard,
  encodeClipboardGrab,
  encodeClipboardRelease,
  encodeClipboardRequest,
  encodeFileXferData,
  encodeFileXferStart,
  encodeFileXferStatus,
  encodeMaxClipboard,
  parseFileXferKeyFile,
  type AgentMessage,
  type AgentRawMessage,
} from '../src/protocol/index.js';

const sel = { selection: true };
const noSel = { selection: false };
const anySize = (): number => 1 << 20;

/** The messages the issue needs, as (type, body, decoded) triples. */
const samples: { type: number; body: Buffer; decoded: AgentMessage }[] = [
  {
    type: AgentMsg.AnnounceCapabilities,
    body: encodeAnnounceCapabilities(true, [0x166]),
    decoded: { kind: 'announceCapabilities', request: true, caps: [0x166] },
  },
  {
    type: AgentMsg.ClipboardGrab,
    body: encodeClipboardGrab(1, [AgentClipboardType.Utf8Text, AgentClipboardType.Png], sel),
    decoded: { kind: 'clipboardGrab', selection: 1, types: [1, 2] },
  },
  {
    type: AgentMsg.ClipboardRequest,
    body: encodeClipboardRequest(0, AgentClipboardType.Utf8Text, sel),
    decoded: { kind: 'clipboardRequest', selection: 0, type: 1 },
  },
  {
    type: AgentMsg.Clipboard,
    body: encodeClipboard(1, AgentClipboardType.Utf8Text, Buffer.from('héllo'), sel),
    decoded: { kind: 'clipboard', selection: 1, type: 1, data: Buffer.from('héllo') },
  },
  {
    type: AgentMsg.ClipboardRelease,
    body: encodeClipboardRelease(1, sel),
    decoded: { kind: 'clipboardRelease', selection: 1 },
  },
  {
    type: AgentMsg.MonitorsConfig,
    body: encodeAgentMonitorsConfig(0, [{ width: 1280, height: 800, depth: 32, x: 0, y: 0 }]),
    decoded: { kind: 'monitorsConfig', flags: 0, monitors: [{ width: 1280, height: 800, depth: 32, x: 0, y: 0 }] },
  },
  { type: AgentMsg.Reply, body: encodeAgentReply(2, 1), decoded: { kind: 'reply', type: 2, error: 1 } },
  {
    type: AgentMsg.FileXferStart,
    body: encodeFileXferStart(7, 'a b=c.txt', 12345),
    decoded: { kind: 'fileXferStart', id: 7, name: 'a b=c.txt', size: 12345 },
  },
  {
    type: AgentMsg.FileXferStatus,
    body: encodeFileXferStatus(7, 0),
    decoded: { kind: 'fileXferStatus', id: 7, result: 0, data: Buffer.alloc(0) },
  },
  {
    type: AgentMsg.FileXferData,
    body: encodeFileXferData(7, Buffer.from('abc')),
    decoded: { kind: 'fileXferData', id: 7, data: Buffer.from('abc') },
  },
  { type: AgentMsg.MaxClipboard, body: encodeMaxClipboard(-1), decoded: { kind: 'maxClipboard', max: -1 } },
];

function wire(type: number, body: Buffer): Buffer {
  return Buffer.concat(chunkAgentMessage(type, body));
}

function feed(r: AgentReassembler, chunks: Buffer[]): AgentRawMessage[] {
  const out: AgentRawMessage[] = [];
  for (const c of chunks) {
    const m = r.push(c);
    if (m) out.push(m);
  }
  return out;
}

describe('agent messages (vd_agent.h)', () => {
  it('decodes what it encodes, for every message type the agent uses', () => {
    for (const s of samples) {
      const [raw] = feed(new AgentReassembler(anySize), chunkAgentMessage(s.type, s.body));
      expect(raw?.type).toBe(s.type);
      expect(decodeAgentMessage(s.type, raw!.body, sel)).toEqual(s.decoded);
    }
  });

  it('reassembles every message split at every offset, in one reassembler reused', () => {
    const r = new AgentReassembler(anySize);
    for (const s of samples) {
      const bytes = wire(s.type, s.body);
      for (let cut = 0; cut <= bytes.length; cut++) {
        const msgs = feed(r, [bytes.subarray(0, cut), bytes.subarray(cut)]);
        expect(msgs).toHaveLength(1);
        expect(decodeAgentMessage(s.type, msgs[0]!.body, sel)).toEqual(s.decoded);
        expect(r.idle).toBe(true);
      }
    }
  });

  it('chunks a large message at 2048 bytes with the header in the first chunk, and reassembles it', () => {
    const data = Buffer.alloc(5 * 1024 * 1024 + 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const body = encodeClipboard(0, AgentClipboardType.Utf8Text, data, sel);
    const chunks = chunkAgentMessage(AgentMsg.Clipboard, body);
    expect(chunks.every((c) => c.length <= AGENT_MAX_CHUNK)).toBe(true);
    expect(chunks.slice(0, -1).every((c) => c.length === AGENT_MAX_CHUNK)).toBe(true);
    expect(chunks.length).toBe(Math.ceil((body.length + AGENT_HEADER_SIZE) / AGENT_MAX_CHUNK));
    const msgs = feed(new AgentReassembler(() => body.length), chunks);
    expect(msgs).toHaveLength(1);
    const m = decodeAgentMessage(AgentMsg.Clipboard, msgs[0]!.body, sel);
    expect(m.kind === 'clipboard' && m.data.equals(data)).toBe(true);
  });

  it('reads clipboard messages without the selection prefix when CLIPBOARD_SELECTION is not shared', () => {
    const body = encodeClipboardRequest(0, AgentClipboardType.Png, noSel);
    expect(body.length).toBe(4);
    expect(decodeAgentMessage(AgentMsg.ClipboardRequest, body, noSel)).toEqual({
      kind: 'clipboardRequest',
      selection: 0,
      type: 2,
    });
  });

  it('refuses a chunk over 2048 bytes', () => {
    const r = new AgentReassembler(anySize);
    expect(() => r.push(Buffer.alloc(AGENT_MAX_CHUNK + 1))).toThrow(expect.objectContaining({ code: 'OVERSIZE' }));
  });

  it('refuses a size over the limit at the header, before holding the body', () => {
    const r = new AgentReassembler((type) => (type === AgentMsg.Clipboard ? 100 : 10));
    const chunks = chunkAgentMessage(AgentMsg.Clipboard, Buffer.alloc(101));
    expect(() => r.push(chunks[0]!)).toThrow(expect.objectContaining({ code: 'OVERSIZE' }));
    r.reset();
    expect(feed(r, chunkAgentMessage(AgentMsg.Clipboard, Buffer.alloc(100)))).toHaveLength(1);
  });

  it('refuses a chunk that runs past the size its header gave (a message whose size lies)', () => {
    const bytes = wire(AgentMsg.Clipboard, Buffer.alloc(30));
    bytes.writeUInt32LE(10, 16); // claims 10 bytes, carries 30
    const r = new AgentReassembler(anySize);
    expect(() => r.push(bytes)).toThrow(expect.objectContaining({ code: 'BAD_MESSAGE' }));
  });

  it('refuses an unknown type and a wrong protocol number', () => {
    const unknown = wire(99, Buffer.alloc(4));
    expect(() => new AgentReassembler(anySize).push(unknown)).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_MESSAGE' }),
    );
    const proto = wire(AgentMsg.Reply, encodeAgentReply(2, 1));
    proto.writeUInt32LE(2, 0);
    expect(() => new AgentReassembler(anySize).push(proto)).toThrow(expect.objectContaining({ code: 'BAD_VERSION' }));
  });

  it('refuses bodies shorter than their fields and lists that are not whole words', () => {
    expect(() => decodeAgentMessage(AgentMsg.Reply, Buffer.alloc(7), sel)).toThrow(
      expect.objectContaining({ code: 'TRUNCATED' }),
    );
    expect(() => decodeAgentMessage(AgentMsg.ClipboardGrab, Buffer.alloc(6), sel)).toThrow(
      expect.objectContaining({ code: 'BAD_MESSAGE' }),
    );
    const mc = encodeAgentMonitorsConfig(0, [{ width: 1, height: 1, depth: 32, x: 0, y: 0 }]);
    mc.writeUInt32LE(2, 0); // two heads announced, one present
    expect(() => decodeAgentMessage(AgentMsg.MonitorsConfig, mc, sel)).toThrow(
      expect.objectContaining({ code: 'TRUNCATED' }),
    );
    mc.writeUInt32LE(100000, 0);
    expect(() => decodeAgentMessage(AgentMsg.MonitorsConfig, mc, sel)).toThrow(
      expect.objectContaining({ code: 'BAD_MESSAGE' }),
    );
    const data = encodeFileXferData(1, Buffer.from('abcd'));
    data.writeBigUInt64LE(5n, 4);
    expect(() => decodeAgentMessage(AgentMsg.FileXferData, data, sel)).toThrow(
      expect.objectContaining({ code: 'BAD_MESSAGE' }),
    );
  });

  it('parses the key file spice-gtk sends to start a transfer, escapes included', () => {
    const text = Buffer.from('[vdagent-file-xfer]\nname=\\sx\\ty\\\\z.txt\nsize=42\n\0', 'utf8');
    expect(parseFileXferKeyFile(text)).toEqual({ name: ' x\ty\\z.txt', size: 42 });
    expect(() => parseFileXferKeyFile(Buffer.from('[other]\nname=a\nsize=1\n'))).toThrow(
      expect.objectContaining({ code: 'BAD_MESSAGE' }),
    );
    expect(() => parseFileXferKeyFile(Buffer.from('[vdagent-file-xfer]\nname=a\nsize=-1\n'))).toThrow(
      expect.objectContaining({ code: 'BAD_MESSAGE' }),
    );
  });

  it('keeps types it has no use for as ignored, not as errors', () => {
    expect(decodeAgentMessage(AgentMsg.MouseState, Buffer.alloc(13), sel)).toEqual({
      kind: 'ignored',
      type: AgentMsg.MouseState,
    });
  });
});
