import { describe, expect, it } from 'vitest';
import { AgentLink, UNLIMITED_TOKENS } from '../src/client/agent-link.js';
import {
  AGENT_MAX_CHUNK,
  AgentMsg,
  AgentReassembler,
  chunkAgentMessage,
  decodeMainClientMessage,
  type MainClientMessage,
} from '../src/protocol/index.js';
import type { OutMessage } from '../src/protocol/message.js';

/** A link whose main-channel messages are decoded into `sent`, as the server would read them. */
function link(ourTokens: number, maxQueuedChunks = Infinity): { link: AgentLink; sent: MainClientMessage[] } {
  const sent: MainClientMessage[] = [];
  const send = (m: OutMessage): void => {
    const body = Buffer.concat(m.parts);
    sent.push(decodeMainClientMessage(m.type, body)!);
  };
  return { link: new AgentLink({ send, ourTokens, maxMessage: () => 1 << 24, maxQueuedChunks }), sent };
}

/** The agent messages the server would reassemble from the AGENT_DATA in `sent`. */
function agentMessages(sent: MainClientMessage[]): { type: number; body: Buffer }[] {
  const r = new AgentReassembler(() => 1 << 24);
  const out: { type: number; body: Buffer }[] = [];
  for (const m of sent) {
    if (m.kind !== 'agentData') continue;
    const raw = r.push(m.data);
    if (raw) out.push({ type: raw.type, body: Buffer.from(raw.body) });
  }
  return out;
}

const dataCount = (sent: MainClientMessage[]): number => sent.filter((m) => m.kind === 'agentData').length;

describe('AgentLink', () => {
  it('sends one chunk a token, the rest when tokens come back, messages whole and in order', async () => {
    const { link: l, sent } = link(UNLIMITED_TOKENS);
    l.start(2);
    expect(sent[0]).toMatchObject({ kind: 'agentStart', numTokens: UNLIMITED_TOKENS });
    const big = Buffer.alloc(5 * AGENT_MAX_CHUNK, 7);
    const first = l.send(AgentMsg.Clipboard, big);
    const second = l.send(AgentMsg.Reply, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(first).not.toBe(false);
    expect(dataCount(sent)).toBe(2);
    expect(l.tokens).toBe(0);
    let secondDone = false;
    void (second as Promise<void>).then(() => (secondDone = true));
    l.addTokens(3);
    expect(dataCount(sent)).toBe(5);
    await Promise.resolve();
    expect(secondDone).toBe(false);
    l.addTokens(10);
    await first;
    await second;
    expect(l.tokens).toBe(10 - (chunkAgentMessage(AgentMsg.Clipboard, big).length - 5) - 1);
    const got = agentMessages(sent);
    expect(got.map((m) => m.type)).toEqual([AgentMsg.Clipboard, AgentMsg.Reply]);
    expect(got[0]!.body.equals(big)).toBe(true);
  });

  it('refuses a message that would queue past the limit, and queues nothing of it', () => {
    const { link: l, sent } = link(UNLIMITED_TOKENS, 4);
    l.start(0);
    expect(l.send(AgentMsg.Clipboard, Buffer.alloc(3 * AGENT_MAX_CHUNK))).not.toBe(false);
    expect(l.send(AgentMsg.Clipboard, Buffer.alloc(2 * AGENT_MAX_CHUNK))).toBe(false);
    l.addTokens(100);
    expect(agentMessages(sent)).toHaveLength(1);
  });

  it('gives tokens back every half window it consumes, and none when unlimited', () => {
    const { link: l, sent } = link(16);
    l.start(0);
    const chunks = chunkAgentMessage(AgentMsg.Clipboard, Buffer.alloc(20 * AGENT_MAX_CHUNK, 1));
    let whole = 0;
    for (const c of chunks) if (l.receive(c)) whole++;
    expect(whole).toBe(1);
    const given = sent.filter((m) => m.kind === 'agentToken').map((m) => (m.kind === 'agentToken' ? m.numTokens : 0));
    expect(given).toEqual([8, 8]);

    const unlimited = link(UNLIMITED_TOKENS);
    unlimited.link.start(0);
    for (const c of chunks) unlimited.link.receive(c);
    expect(unlimited.sent.some((m) => m.kind === 'agentToken')).toBe(false);
  });

  it('start forgets what waited; resume keeps it for the new tokens and drops the half-received message', async () => {
    const { link: l, sent } = link(UNLIMITED_TOKENS);
    l.start(0);
    void l.send(AgentMsg.Reply, Buffer.alloc(8));
    l.start(0);
    l.addTokens(5);
    expect(dataCount(sent)).toBe(0);

    const other = link(UNLIMITED_TOKENS);
    other.link.start(0);
    const kept = other.link.send(AgentMsg.Reply, Buffer.alloc(8));
    const half = chunkAgentMessage(AgentMsg.Clipboard, Buffer.alloc(2 * AGENT_MAX_CHUNK))[0]!;
    expect(other.link.receive(half)).toBeUndefined();
    other.link.resume(1);
    await kept;
    expect(dataCount(other.sent)).toBe(1);
    // After resume a whole new message reassembles from its first chunk: the half one is gone.
    const reply = chunkAgentMessage(AgentMsg.Reply, Buffer.alloc(8))[0]!;
    expect(other.link.receive(reply)?.type).toBe(AgentMsg.Reply);
  });

  it('a malformed chunk throws; dropPartial lets the next message through with tokens and queue kept', () => {
    const { link: l } = link(UNLIMITED_TOKENS);
    l.start(3);
    const bad = Buffer.alloc(AGENT_MAX_CHUNK + 1);
    expect(() => l.receive(bad)).toThrow();
    l.dropPartial();
    expect(l.tokens).toBe(3);
    const reply = chunkAgentMessage(AgentMsg.Reply, Buffer.alloc(8))[0]!;
    expect(l.receive(reply)?.type).toBe(AgentMsg.Reply);
  });
});
