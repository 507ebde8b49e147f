import { AgentReassembler, chunkAgentMessage, type AgentRawMessage } from '../protocol/agent.js';
import { encodeAgentDataToServer, encodeAgentStart, encodeAgentTokenToServer } from '../protocol/main.js';
import type { OutMessage } from '../protocol/message.js';

/** AGENT_START's "no limit": the agent may send as it likes, we never give tokens back (spice-gtk does this). */
export const UNLIMITED_TOKENS = 0xffffffff;

export interface AgentLinkOptions {
  /** Puts one main-channel message on the wire. */
  send(m: OutMessage): void;
  /** Chunks the agent may send before we give tokens back, told by AGENT_START; UNLIMITED_TOKENS for no limit. */
  ourTokens: number;
  /** The largest agent message of a type we reassemble (a larger one is a protocol error). */
  maxMessage(type: number): number;
  /** Chunks waiting for the server's tokens; a message that would queue past this is refused. */
  maxQueuedChunks: number;
}

interface Waiting {
  chunks: Buffer[];
  /** The next chunk to go. */
  at: number;
  sent: () => void;
}

/**
 * A viewer's end of the agent's transport over the main channel, below any agent message's
 * meaning: our messages cut into 2048-byte chunks that go only while the server has given tokens
 * (one chunk a token; the server closes a viewer that sends more), and the agent's chunks
 * reassembled into messages, giving tokens back as we consume them. Messages leave whole and in
 * order: the chunks of two never interleave. Used by the browser viewer, the bench and the tests'
 * agent viewer, which differ in what they say, not in how it travels.
 */
export class AgentLink {
  private readonly reassembler: AgentReassembler;
  private serverTokens = 0;
  private consumed = 0;
  private readonly queue: Waiting[] = [];
  private queuedChunks = 0;

  constructor(private readonly opts: AgentLinkOptions) {
    this.reassembler = new AgentReassembler(opts.maxMessage);
  }

  /** Tokens the server has given and we have not spent. */
  get tokens(): number {
    return this.serverTokens;
  }

  /** The agent (re)started with `serverTokens` for us: AGENT_START tells it ours; all in flight is forgotten. */
  start(serverTokens: number): void {
    this.reset();
    this.serverTokens = serverTokens;
    this.opts.send(encodeAgentStart(this.opts.ourTokens));
  }

  /** The agent went away (or restarts): nothing half received or waiting to go is kept. */
  reset(): void {
    this.serverTokens = 0;
    this.consumed = 0;
    this.queue.length = 0;
    this.queuedChunks = 0;
    this.reassembler.reset();
  }

  /**
   * The server's token count starts again (MAIN_INIT, AGENT_CONNECTED_TOKENS) without an
   * AGENT_START from us: the half-received message is gone, our queued messages go on these tokens.
   */
  resume(serverTokens: number): void {
    this.reassembler.reset();
    this.serverTokens = serverTokens;
    this.flush();
  }

  /** The server gave tokens back (AGENT_TOKEN): what was waiting for them goes. */
  addTokens(n: number): void {
    this.serverTokens += n;
    this.flush();
  }

  /**
   * Queue one message; it leaves as tokens allow. Resolves once its last chunk is on the wire;
   * false (nothing queued) when the queue is full, as it is when the agent stopped taking data.
   */
  send(type: number, body: Buffer): Promise<void> | false {
    const chunks = chunkAgentMessage(type, body);
    if (this.queuedChunks + chunks.length > this.opts.maxQueuedChunks) return false;
    this.queuedChunks += chunks.length;
    const done = new Promise<void>((sent) => this.queue.push({ chunks, at: 0, sent }));
    this.flush();
    return done;
  }

  /** One AGENT_DATA of any bytes, now, spending a token whether there is one or not (malformed traffic, tests). */
  sendRawChunk(chunk: Buffer): void {
    this.serverTokens--;
    this.opts.send(encodeAgentDataToServer(chunk));
  }

  /**
   * One AGENT_DATA from the server: gives tokens back every half window, returns the message it
   * completes. Throws the reassembler's ProtocolError on a malformed chunk (the caller decides
   * whether that ends the session or only the message: `dropPartial` keeps the link going).
   */
  receive(chunk: Buffer): AgentRawMessage | undefined {
    if (this.opts.ourTokens !== UNLIMITED_TOKENS && ++this.consumed >= this.opts.ourTokens / 2) {
      this.opts.send(encodeAgentTokenToServer(this.consumed));
      this.consumed = 0;
    }
    return this.reassembler.push(chunk);
  }

  /** Forget the agent message half received (after a malformed chunk); tokens and our queue stay. */
  dropPartial(): void {
    this.reassembler.reset();
  }

  private flush(): void {
    while (this.serverTokens > 0 && this.queue.length > 0) {
      const head = this.queue[0]!;
      this.serverTokens--;
      this.queuedChunks--;
      this.opts.send(encodeAgentDataToServer(head.chunks[head.at++]!));
      if (head.at === head.chunks.length) {
        this.queue.shift();
        head.sent();
      }
    }
  }
}
