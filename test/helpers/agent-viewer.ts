import { AgentLink, UNLIMITED_TOKENS } from '../../src/client/agent-link.js';
import type { ClientChannel } from '../../src/client/channel.js';
import type { SpiceClient } from '../../src/client/client.js';
import {
  AgentCap,
  AgentClipboardType,
  encodeClipboard,
  capWords,
  ChannelType,
  decodeAgentMessage,
  decodeMainServerMessage,
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
 * A viewer's agent side over the project's headless client's main channel: its messages travel by
 * the client's AgentLink (2048-byte chunks, waiting for the server's tokens as spice-gtk does,
 * reassembly); this records what arrives and the main channel's agent events, answers REQUESTs
 * from `serve`, and can send malformed traffic on purpose.
 */
export class AgentViewer {
  readonly main: ClientChannel;
  readonly messages: AgentMessage[] = [];
  readonly events: string[] = [];
  /** Clipboard data this viewer hands out when the server asks (REQUEST), by selection number. */
  readonly serve = new Map<number, Buffer>();
  private readonly link: AgentLink;
  private waiters: (() => void)[] = [];

  constructor(readonly client: SpiceClient) {
    this.main = client.channels.get(ChannelType.Main)!;
    this.link = new AgentLink({
      send: (m) => this.main.send(m),
      ourTokens: UNLIMITED_TOKENS,
      maxMessage: () => 64 << 20,
      maxQueuedChunks: Infinity,
    });
    this.link.resume(client.init!.agentTokens);
    this.main.on('message', (type, body) => this.onMain(type, body));
  }

  /** Tokens the server has given and this viewer has not spent. */
  get tokens(): number {
    return this.link.tokens;
  }

  private onMain(type: number, body: Buffer): void {
    const m = decodeMainServerMessage(type, body);
    if (!m) return;
    if (m.kind === 'agentToken') this.link.addTokens(m.numTokens);
    else if (m.kind === 'agentDisconnected') this.events.push('disconnected');
    else if (m.kind === 'agentConnected') this.events.push('connected');
    else if (m.kind === 'agentConnectedTokens') {
      this.events.push('connectedTokens');
      this.link.resume(m.numTokens);
    } else if (m.kind === 'agentData') {
      const raw = this.link.receive(m.data);
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
    this.link.start(this.link.tokens);
    return this.send(AgentMsg.AnnounceCapabilities, encodeAnnounceCapabilities(true, capWords(caps)));
  }

  /** One agent message, whole and after those sent before; resolves once its last chunk is on the wire. */
  send(type: number, body: Buffer): Promise<void> {
    return this.link.send(type, body) || Promise.reject(new Error('agent queue full'));
  }

  /** One AGENT_DATA with any bytes at all, tokens or not (malformed traffic). */
  sendRawChunk(chunk: Buffer): void {
    this.link.sendRawChunk(chunk);
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
