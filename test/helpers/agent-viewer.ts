import type { ClientChannel } from '../../src/client/channel.js';
import type { SpiceClient } from '../../src/client/client.js';
import {
  AgentCap,
  AgentClipboardType,
  encodeClipboard,
  AgentReassembler,
  capWords,
  ChannelType,
  chunkAgentMessage,
  decodeAgentMessage,
  decodeMainServerMessage,
  encodeAgentDataToServer,
  encodeAgentStart,
  encodeAnnounceCapabilities,
  AgentMsg,
  type AgentMessage,
} from '../../src/protocol/index.js';

/** The capabilities spice-gtk 0.42 announces as a client (by-demand clipboard with selections). */
const GTK_LIKE_CAPS = [
  AgentCap.MouseState,
  AgentCap.MonitorsConfig,
  AgentCap.Reply,
  AgentCap.DisplayConfig,
  AgentCap.ClipboardByDemand,
  AgentCap.ClipboardSelection,
  AgentCap.MonitorsConfigPosition,
  AgentCap.FileXferDetailedErrors,
];

/**
 * A viewer's agent side, spoken by hand over the project's headless client's main channel: it
 * chunks at 2048 bytes, counts the tokens the server gives (and waits for more, as spice-gtk does),
 * reassembles what the server sends and records the main channel's agent events.
 */
export class AgentViewer {
  readonly main: ClientChannel;
  readonly messages: AgentMessage[] = [];
  readonly events: string[] = [];
  tokens: number;
  /** Clipboard data this viewer hands out when the server asks (REQUEST), by selection number. */
  readonly serve = new Map<number, Buffer>();
  private readonly reassembler = new AgentReassembler(() => 64 << 20);
  private waiters: (() => void)[] = [];

  constructor(readonly client: SpiceClient) {
    this.main = client.channels.get(ChannelType.Main)!;
    this.tokens = client.init!.agentTokens;
    this.main.on('message', (type, body) => this.onMain(type, body));
  }

  private onMain(type: number, body: Buffer): void {
    const m = decodeMainServerMessage(type, body);
    if (!m) return;
    if (m.kind === 'agentToken') this.tokens += m.numTokens;
    else if (m.kind === 'agentDisconnected') this.events.push('disconnected');
    else if (m.kind === 'agentConnected') this.events.push('connected');
    else if (m.kind === 'agentConnectedTokens') {
      this.events.push('connectedTokens');
      this.tokens = m.numTokens;
      this.reassembler.reset();
    } else if (m.kind === 'agentData') {
      const raw = this.reassembler.push(m.data);
      if (raw) this.onAgent(decodeAgentMessage(raw.type, raw.body, { selection: true }));
    } else return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private onAgent(m: AgentMessage): void {
    this.messages.push(m);
    if (m.kind !== 'clipboardRequest') return;
    const data = this.serve.get(m.selection);
    const body = encodeClipboard(m.selection, data ? m.type : AgentClipboardType.None, data ?? Buffer.alloc(0), {
      selection: true,
    });
    void this.send(AgentMsg.Clipboard, body);
  }

  /** AGENT_START with unlimited tokens (as spice-gtk) and the capability announcement. */
  start(caps: readonly number[] = GTK_LIKE_CAPS): Promise<void> {
    this.main.send(encodeAgentStart(0xffffffff));
    return this.send(AgentMsg.AnnounceCapabilities, encodeAnnounceCapabilities(true, capWords(caps)));
  }

  private chain: Promise<void> = Promise.resolve();

  /** One agent message, chunked; waits for tokens whenever it has none left. Messages never interleave. */
  send(type: number, body: Buffer): Promise<void> {
    const sent = this.chain.then(() => this.sendNow(type, body));
    this.chain = sent.catch(() => undefined);
    return sent;
  }

  private async sendNow(type: number, body: Buffer): Promise<void> {
    for (const chunk of chunkAgentMessage(type, body)) {
      if (this.tokens <= 0) await this.until(() => this.tokens > 0, 5000, 'agent tokens');
      this.tokens--;
      this.main.send(encodeAgentDataToServer(chunk));
    }
  }

  /** One AGENT_DATA with any bytes at all, tokens or not (malformed traffic). */
  sendRawChunk(chunk: Buffer): void {
    this.tokens--;
    this.main.send(encodeAgentDataToServer(chunk));
  }

  /** Resolve once `pred` holds: checked on every agent event and every 20 ms (for state elsewhere). */
  until(pred: () => boolean, timeoutMs = 5000, what = 'agent condition'): Promise<void> {
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (err?: Error): void => {
        done = true;
        clearTimeout(timer);
        clearInterval(poll);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const poll = setInterval(() => check(), 20);
      const check = (): void => {
        if (done) return;
        if (pred()) finish();
        else this.waiters.push(check);
      };
      check();
    });
  }

  /** The first message received (from index `from`) of a kind that passes `pred`. */
  async next<K extends AgentMessage['kind']>(
    kind: K,
    pred: (m: Extract<AgentMessage, { kind: K }>) => boolean = () => true,
    from = 0,
    timeoutMs = 5000,
  ): Promise<Extract<AgentMessage, { kind: K }>> {
    let found: Extract<AgentMessage, { kind: K }> | undefined;
    await this.until(
      () => {
        found = this.messages
          .slice(from)
          .find(
            (m): m is Extract<AgentMessage, { kind: K }> =>
              m.kind === kind && pred(m as Extract<AgentMessage, { kind: K }>),
          );
        return found !== undefined;
      },
      timeoutMs,
      `agent ${kind}`,
    );
    return found!;
  }
}
