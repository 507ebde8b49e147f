import {
  AgentCap,
  AgentClipboardType,
  AgentMsg,
  AgentReassembler,
  AgentReplyError,
  AgentSelection,
  chunkAgentMessage,
  decodeAgentMessage,
  encodeAgentMonitorsConfig,
  encodeAnnounceCapabilities,
  encodeClipboard,
  encodeClipboardGrab,
  encodeClipboardRequest,
  type AgentCodecOptions,
  type AgentMessage,
} from '../protocol/agent.js';
import { capWords, hasCap } from '../protocol/caps.js';
import {
  encodeAgentDataToServer,
  encodeAgentStart,
  encodeAgentTokenToServer,
  type MainServerMessage,
} from '../protocol/main.js';
import type { OutMessage } from '../protocol/message.js';

/** Chunks the agent may send us before we give tokens back. */
const OUR_TOKENS = 16;
/** The largest clipboard this viewer takes (the server's default limit). */
const MAX_CLIPBOARD = 16 << 20;
/** Our agent chunks waiting for tokens: past this a clipboard is dropped rather than queued. */
const MAX_QUEUED_CHUNKS = 2 * ((MAX_CLIPBOARD >> 11) + 1);

/** What this viewer's agent side does: resize by MONITORS_CONFIG, the clipboard by demand, per selection. */
const OUR_CAPS = capWords([
  AgentCap.MonitorsConfig,
  AgentCap.Reply,
  AgentCap.ClipboardByDemand,
  AgentCap.ClipboardSelection,
]);

/** What the browser's clipboard holds, offered to the desktop: its text, its PNG image, or both. */
export interface ClipboardOffer {
  text?: string;
  png?: Uint8Array;
}

/** What the agent does to the page (clipboard API, the canvas's fit). */
export interface AgentPage {
  /** The desktop copied: put its text (or PNG) in the browser's clipboard. */
  desktopCopied(type: 'text' | 'png', data: Uint8Array): void;
  /** A resize was answered: false when the desktop could not take the size (the page scales instead). */
  resized(ok: boolean): void;
  /** The agent told what it can do: the page may now ask for its size and offer its clipboard. */
  agentReady(): void;
}

/**
 * The viewer's side of the guest agent on the main channel (spice-vdagent talks to this as to
 * spice-gtk): tokens both ways, capabilities, the clipboard by demand in both directions, and
 * MONITORS_CONFIG so the desktop follows the window. No DOM here: the page is behind `AgentPage`.
 */
export class AgentClient {
  private readonly reassembler = new AgentReassembler((type) =>
    type === AgentMsg.Clipboard ? MAX_CLIPBOARD + 8 : 1 << 16,
  );
  private serverTokens = 0;
  private consumed = 0;
  private readonly queue: Buffer[] = [];
  private serverCaps: number[] = [];
  private running = false;
  /** What this viewer offered in its last grab, by agent clipboard type, answered when the desktop pastes. */
  private offered: Map<number, Uint8Array> | undefined;
  /** The desktop's size last asked for, so a window that did not change asks nothing. */
  private lastSize = '';

  constructor(
    private readonly send: (m: OutMessage) => void,
    private readonly page: AgentPage,
  ) {}

  get connected(): boolean {
    return this.running;
  }

  get canResize(): boolean {
    return this.running && hasCap(this.serverCaps, AgentCap.MonitorsConfig);
  }

  get hasClipboard(): boolean {
    return this.running && hasCap(this.serverCaps, AgentCap.ClipboardByDemand);
  }

  private get codec(): AgentCodecOptions {
    return { selection: hasCap(this.serverCaps, AgentCap.ClipboardSelection) };
  }

  /** MAIN_INIT said whether an agent is there and how many chunks it takes. */
  init(agentConnected: boolean, tokens: number): void {
    if (agentConnected) this.start(tokens);
  }

  /** Main channel messages about the agent. */
  handle(m: MainServerMessage): void {
    switch (m.kind) {
      case 'agentConnected':
        return this.start(0);
      case 'agentConnectedTokens':
        return this.start(m.numTokens);
      case 'agentDisconnected':
        this.running = false;
        this.reassembler.reset();
        this.queue.length = 0;
        return;
      case 'agentToken':
        this.serverTokens += m.numTokens;
        return this.flush();
      case 'agentData':
        return this.data(m.data);
      default:
        return;
    }
  }

  /** The desktop should take this size (the window's); repeated sizes are not sent again. */
  resize(width: number, height: number): void {
    const key = `${width}x${height}`;
    if (!this.canResize || key === this.lastSize || width < 1 || height < 1) return;
    this.lastSize = key;
    this.message(AgentMsg.MonitorsConfig, encodeAgentMonitorsConfig(0, [{ width, height, depth: 32, x: 0, y: 0 }]));
  }

  /** The browser's clipboard holds `offer`: offer its types to the desktop (data sent when it pastes). */
  grab(offer: ClipboardOffer): void {
    if (!this.hasClipboard) return;
    const offered = new Map<number, Uint8Array>();
    if (offer.text) offered.set(AgentClipboardType.Utf8Text, new TextEncoder().encode(offer.text));
    if (offer.png && offer.png.length > 0) offered.set(AgentClipboardType.Png, offer.png);
    if (offered.size === 0) return;
    this.offered = offered;
    this.message(
      AgentMsg.ClipboardGrab,
      encodeClipboardGrab(AgentSelection.Clipboard, [...offered.keys()], this.codec),
    );
  }

  private start(tokens: number): void {
    this.running = true;
    this.serverTokens = tokens;
    this.consumed = 0;
    this.queue.length = 0;
    this.lastSize = '';
    this.reassembler.reset();
    this.send(encodeAgentStart(OUR_TOKENS));
    this.message(AgentMsg.AnnounceCapabilities, encodeAnnounceCapabilities(true, OUR_CAPS));
  }

  private message(type: number, body: Buffer): void {
    const chunks = chunkAgentMessage(type, body);
    if (this.queue.length + chunks.length > MAX_QUEUED_CHUNKS) {
      console.warn(`spiced viewer: the agent is not taking data; agent message ${type} dropped`);
      return;
    }
    this.queue.push(...chunks);
    this.flush();
  }

  private flush(): void {
    while (this.serverTokens > 0 && this.queue.length > 0) {
      this.serverTokens--;
      this.send(encodeAgentDataToServer(this.queue.shift()!));
    }
  }

  private data(chunk: Buffer): void {
    if (++this.consumed >= OUR_TOKENS / 2) {
      this.send(encodeAgentTokenToServer(this.consumed));
      this.consumed = 0;
    }
    try {
      const raw = this.reassembler.push(chunk);
      if (raw) this.onMessage(decodeAgentMessage(raw.type, raw.body, this.codec));
    } catch (err) {
      this.reassembler.reset();
      console.error('spiced viewer: bad agent message', err);
    }
  }

  private onMessage(m: AgentMessage): void {
    switch (m.kind) {
      case 'announceCapabilities':
        this.serverCaps = m.caps;
        if (m.request) this.message(AgentMsg.AnnounceCapabilities, encodeAnnounceCapabilities(false, OUR_CAPS));
        this.page.agentReady();
        return;
      case 'clipboardGrab': {
        if (m.selection !== AgentSelection.Clipboard) return;
        const type = m.types.includes(AgentClipboardType.Utf8Text)
          ? AgentClipboardType.Utf8Text
          : m.types.includes(AgentClipboardType.Png)
            ? AgentClipboardType.Png
            : undefined;
        this.offered = undefined;
        if (type !== undefined)
          this.message(AgentMsg.ClipboardRequest, encodeClipboardRequest(AgentSelection.Clipboard, type, this.codec));
        return;
      }
      case 'clipboard':
        if (m.selection !== AgentSelection.Clipboard) return;
        if (m.type === AgentClipboardType.Utf8Text) this.page.desktopCopied('text', m.data);
        else if (m.type === AgentClipboardType.Png) this.page.desktopCopied('png', m.data);
        return;
      case 'clipboardRequest': {
        if (m.selection !== AgentSelection.Clipboard) return;
        // Nothing of that type: an empty answer, which the desktop takes as "no data".
        const data = this.offered?.get(m.type) ?? new Uint8Array(0);
        this.message(AgentMsg.Clipboard, encodeClipboard(AgentSelection.Clipboard, m.type, data, this.codec));
        return;
      }
      case 'reply':
        if (m.type === AgentMsg.MonitorsConfig) this.page.resized(m.error === AgentReplyError.Success);
        return;
      default:
        return;
    }
  }
}
