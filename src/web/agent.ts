import { AgentLink } from '../client/agent-link.js';
import {
  AgentCap,
  AgentClipboardType,
  AgentMsg,
  AgentReplyError,
  AgentSelection,
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
import type { MainServerMessage } from '../protocol/main.js';
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
  private readonly link: AgentLink;
  private serverCaps: number[] = [];
  private running = false;
  /** What this viewer offered in its last grab, by agent clipboard type, answered when the desktop pastes. */
  private offered: Map<number, Uint8Array> | undefined;
  /** The desktop's size last asked for, so a window that did not change asks nothing. */
  private lastSize = '';

  constructor(
    send: (m: OutMessage) => void,
    private readonly page: AgentPage,
  ) {
    this.link = new AgentLink({
      send,
      ourTokens: OUR_TOKENS,
      maxMessage: (type) => (type === AgentMsg.Clipboard ? MAX_CLIPBOARD + 8 : 1 << 16),
      maxQueuedChunks: MAX_QUEUED_CHUNKS,
    });
  }

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
        this.link.reset();
        return;
      case 'agentToken':
        return this.link.addTokens(m.numTokens);
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
    this.lastSize = '';
    this.link.start(tokens);
    this.message(AgentMsg.AnnounceCapabilities, encodeAnnounceCapabilities(true, OUR_CAPS));
  }

  private message(type: number, body: Buffer): void {
    if (this.link.send(type, body) === false) {
      console.warn(`spiced viewer: the agent is not taking data; agent message ${type} dropped`);
    }
  }

  private data(chunk: Buffer): void {
    try {
      const raw = this.link.receive(chunk);
      if (raw) this.onMessage(decodeAgentMessage(raw.type, raw.body, this.codec));
    } catch (err) {
      // A malformed message is dropped; the agent's later messages still come through.
      this.link.dropPartial();
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
