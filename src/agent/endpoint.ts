import {
  AgentCap,
  AgentClipboardType,
  AgentMsg,
  AgentReassembler,
  AgentReplyError,
  chunkAgentMessage,
  decodeAgentMessage,
  encodeAgentReply,
  encodeAnnounceCapabilities,
  encodeClipboard,
  encodeClipboardGrab,
  encodeClipboardRelease,
  encodeClipboardRequest,
  FileXferResult,
  type AgentMessage,
  type AgentMonitor,
} from '../protocol/agent.js';
import { capWords, hasCap } from '../protocol/caps.js';
import { ProtocolError } from '../protocol/errors.js';
import type { OutMessage } from '../protocol/message.js';
import {
  encodeAgentConnected,
  encodeAgentConnectedTokens,
  encodeAgentDisconnected,
  encodeAgentToken,
} from '../protocol/main.js';
import type { ClipboardSelection, ClipboardType } from '../seam/desktop-agent.js';
import type { Logger } from '../util/log.js';
import { clipboardTypeFromWire, clipboardTypeToWire, selectionFromWire, selectionToWire } from './clipboard-wire.js';
import type { AgentHub, AgentPeer } from './hub.js';
import type { FileUploads } from './file-upload.js';

/**
 * AGENT_DATA messages a viewer may send before spiced gives tokens back (spice-server gives 10, for
 * a guest's virtio queue behind it). spiced handles each chunk as it comes, so the window only
 * paces the viewer: a wider one spares a large paste token round trips (bench/agent-paste.ts
 * compares windows; docs/performance.md has the figures). Tokens go back in batches of half.
 */
export const AGENT_TOKENS = 256;
/** A viewer whose agent has been reset this many times for bad input is closed instead. */
const MAX_RESETS = 5;
/** Largest monitor spiced will try to lay a desktop out for. */
const MAX_MONITOR_SIDE = 16384;
/** FILE_XFER_DATA: spice-gtk sends 64 KiB per message; anything up to 1 MiB is accepted. */
const MAX_FILE_DATA = 1 << 20;
/** Every other message the agent takes is small (capabilities, monitors, a key file, a reply). */
const MAX_SMALL_MESSAGE = 16 * 1024;

/**
 * Clipboard messages as chunks, encoded once per data and wire form: when many viewers paste the
 * same data (the hub shares one read), their queues hold views of one copy, not a copy each.
 */
const encodedClipboards = new WeakMap<Uint8Array, Map<string, Buffer[]>>();

/** What the agent needs from the main channel client it rides on. */
export interface AgentLink {
  readonly peer: string;
  readonly log: Logger;
  /** A main channel message (AGENT_TOKEN, AGENT_CONNECTED...). */
  send(m: OutMessage): void;
  /** Chunks of VDAgentMessages, each one AGENT_DATA, in this order. */
  sendAgentData(chunks: Buffer[]): void;
  /** Close the viewer (the fatal path: logged with the peer). */
  fail(reason: string): void;
  /** The viewer understands AGENT_CONNECTED_TOKENS (main channel cap). */
  readonly connectedTokens: boolean;
}

/**
 * The guest agent spiced plays for one viewer on its main channel: tokens both ways, chunk
 * reassembly, capabilities, and the translation between agent messages and the hub's calls.
 * Bad input (a chunk over 2048 bytes, a lying size, an unknown type, an oversize paste) resets
 * this viewer's agent: the partial message is dropped, its grabs released, and the viewer is told
 * the agent went away and came back (AGENT_DISCONNECTED, AGENT_CONNECTED), as when a guest's
 * agent restarts. More AGENT_DATA than tokens, or repeated resets, close the viewer.
 */
export class AgentEndpoint implements AgentPeer {
  private readonly reassembler: AgentReassembler;
  /** AGENT_START seen since the agent was last (re)announced. */
  private started = false;
  /** After a reset announced with fresh tokens, the client's count restarts at AGENT_START. */
  private freshTokensAtStart = false;
  /** AGENT_DATA the viewer may still send, as spiced counts. */
  private clientTokens: number;
  private consumed = 0;
  private tokenReturnScheduled = false;
  /** AGENT_DATA spiced may still send (the viewer's AGENT_START and AGENT_TOKEN). */
  private serverTokens = 0;
  private readonly outQueue: Buffer[] = [];
  private outBytes = 0;
  private viewerCaps: number[] = [];
  private capsReceived = false;
  private resets = 0;
  private closed = false;
  maxClipboard = Number.POSITIVE_INFINITY;

  constructor(
    private readonly link: AgentLink,
    private readonly hub: AgentHub,
    private readonly uploads: FileUploads | undefined,
  ) {
    this.reassembler = new AgentReassembler((type) => this.maxMessageSize(type));
    this.clientTokens = hub.policy.tokens;
  }

  /** Tokens the viewer is given at the start (MAIN_INIT) and after a reset. */
  get window(): number {
    return this.hub.policy.tokens;
  }

  private get tokenBatch(): number {
    return Math.max(1, this.window >> 1);
  }

  get peer(): string {
    return this.link.peer;
  }

  get clipboardReady(): boolean {
    return this.capsReceived && this.hub.clipboardOffered && hasCap(this.viewerCaps, AgentCap.ClipboardByDemand);
  }

  private get selectionShared(): boolean {
    return this.hub.clipboardOffered && hasCap(this.viewerCaps, AgentCap.ClipboardSelection);
  }

  /** The capabilities spiced's agent announces: only what it handles. */
  ownCaps(): number[] {
    const caps: number[] = [AgentCap.Reply, AgentCap.MaxClipboard, AgentCap.FileXferDetailedErrors];
    if (this.hub.clipboardOffered) {
      caps.push(AgentCap.ClipboardByDemand, AgentCap.ClipboardSelection, AgentCap.GuestLineEndLf);
    }
    if (this.hub.resizeOffered) caps.push(AgentCap.MonitorsConfig);
    if (!this.uploads) caps.push(AgentCap.FileXferDisabled);
    return caps;
  }

  private maxMessageSize(type: number): number {
    // A large CLIPBOARD only as the answer to a REQUEST: unasked, a viewer cannot make spiced hold it.
    if (type === AgentMsg.Clipboard) {
      return this.hub.awaitsData(this) ? this.hub.policy.maxClipboard + 8 : MAX_SMALL_MESSAGE;
    }
    if (type === AgentMsg.FileXferData) return MAX_FILE_DATA + 12;
    return MAX_SMALL_MESSAGE;
  }

  // -- main channel messages --------------------------------------------------------------------

  onStart(tokens: number): void {
    this.started = true;
    this.serverTokens = tokens;
    if (this.freshTokensAtStart) {
      this.freshTokensAtStart = false;
      this.clientTokens = this.window;
      this.consumed = 0;
    }
    this.flushOut();
    if (this.consumed >= this.tokenBatch) this.scheduleTokenReturn();
  }

  onToken(tokens: number): void {
    this.serverTokens = Math.min(0xffffffff, this.serverTokens + tokens);
    this.flushOut();
  }

  onData(chunk: Buffer): void {
    if (--this.clientTokens < 0) {
      this.link.fail(`sent more AGENT_DATA than the ${this.window} tokens it was given`);
      return;
    }
    this.consumed++;
    if (this.consumed >= this.tokenBatch) this.scheduleTokenReturn();
    if (!this.started) {
      this.link.log.debug(`agent data from ${this.peer} before AGENT_START dropped`);
      return;
    }
    try {
      const raw = this.reassembler.push(chunk);
      if (!raw) return;
      this.handle(decodeAgentMessage(raw.type, raw.body, { selection: this.selectionShared }));
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.reset(`${err.code}: ${err.message}`);
    }
  }

  /**
   * Tokens go back once the messages that came in one read are handled, not one by one: a viewer
   * that waits for its tokens never runs out, and one that ignores them and sends a burst is seen.
   */
  private scheduleTokenReturn(): void {
    if (this.tokenReturnScheduled) return;
    this.tokenReturnScheduled = true;
    setImmediate(() => {
      const giveBack = (): void => {
        this.tokenReturnScheduled = false;
        // Not between a reset and AGENT_START: the viewer's count restarts there.
        if (this.closed || this.freshTokensAtStart || this.consumed === 0) return;
        this.link.send(encodeAgentToken(this.consumed));
        this.clientTokens += this.consumed;
        this.consumed = 0;
      };
      if (this.uploads) this.uploads.whenDrained(this, giveBack);
      else giveBack();
    });
  }

  /** The viewer's main channel closed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.leave(this, 'left');
    this.uploads?.viewerGone(this);
    this.reassembler.reset();
    this.outQueue.length = 0;
  }

  /** Bad input: forget this viewer's agent state and announce a fresh agent, or close the viewer. */
  reset(reason: string): void {
    if (this.closed) return;
    if (++this.resets > MAX_RESETS) {
      this.link.fail(`agent: ${reason} (after ${MAX_RESETS} resets for bad input)`);
      return;
    }
    this.link.log.warn(`agent of ${this.peer} reset: ${reason}`);
    this.hub.leave(this, 'had its agent reset');
    this.uploads?.viewerGone(this);
    this.reassembler.reset();
    this.outQueue.length = 0;
    this.outBytes = 0;
    this.capsReceived = false;
    this.viewerCaps = [];
    this.started = false;
    this.maxClipboard = Number.POSITIVE_INFINITY;
    this.link.send(encodeAgentDisconnected(1));
    if (this.link.connectedTokens) {
      this.freshTokensAtStart = true;
      this.link.send(encodeAgentConnectedTokens(this.window));
    } else {
      this.link.send(encodeAgentConnected());
    }
  }

  // -- agent messages ---------------------------------------------------------------------------

  private handle(m: AgentMessage): void {
    switch (m.kind) {
      case 'announceCapabilities':
        this.viewerCaps = m.caps;
        this.capsReceived = true;
        if (m.request)
          this.sendMessage(AgentMsg.AnnounceCapabilities, encodeAnnounceCapabilities(false, capWords(this.ownCaps())));
        this.hub.join(this);
        return;
      case 'clipboardGrab':
      case 'clipboardRequest':
      case 'clipboard':
      case 'clipboardRelease':
        return this.handleClipboard(m);
      case 'monitorsConfig':
        return this.onMonitorsConfig(m.monitors);
      case 'maxClipboard':
        this.maxClipboard = m.max < 0 ? Number.POSITIVE_INFINITY : m.max;
        return;
      case 'fileXferStart':
      case 'fileXferData':
      case 'fileXferStatus':
        return this.handleFileXfer(m);
      case 'reply':
        this.link.log.debug(`agent reply from ${this.peer}: type ${m.type} error ${m.error}`);
        return;
      case 'ignored':
        this.link.log.debug(`agent message type ${m.type} from ${this.peer} ignored`);
        return;
    }
  }

  private handleClipboard(
    m: Extract<AgentMessage, { kind: 'clipboardGrab' | 'clipboardRequest' | 'clipboard' | 'clipboardRelease' }>,
  ): void {
    if (!this.hub.clipboardOffered) {
      this.link.log.debug(`clipboard message from ${this.peer} ignored: the clipboard is off`);
      return;
    }
    const selection = selectionFromWire(m.selection);
    if (!selection) {
      this.link.log.debug(`clipboard message for selection ${m.selection} from ${this.peer} ignored`);
      return;
    }
    switch (m.kind) {
      case 'clipboardGrab': {
        const types = m.types.map(clipboardTypeFromWire).filter((t): t is ClipboardType => t !== undefined);
        return this.hub.viewerGrab(this, selection, types);
      }
      case 'clipboardRequest':
        return this.hub.viewerRequest(this, selection, clipboardTypeFromWire(m.type));
      case 'clipboard':
        return this.hub.viewerData(this, selection, clipboardTypeFromWire(m.type), m.data);
      case 'clipboardRelease':
        return this.hub.viewerRelease(this, selection);
    }
  }

  private onMonitorsConfig(monitors: readonly AgentMonitor[]): void {
    const head = monitors.find((mon) => mon.width > 0 && mon.height > 0);
    const reply = (ok: boolean): void => {
      const error = ok ? AgentReplyError.Success : AgentReplyError.Error;
      this.sendMessage(AgentMsg.Reply, encodeAgentReply(AgentMsg.MonitorsConfig, error));
    };
    if (!head || head.width > MAX_MONITOR_SIDE || head.height > MAX_MONITOR_SIDE) {
      const what = head ? `${head.width}x${head.height}` : 'no enabled monitor';
      this.link.log.warn(`monitors config from ${this.peer} refused: ${what}`);
      return reply(false);
    }
    void this.hub.monitorsConfig(this.peer, head.width, head.height).then(reply);
  }

  private handleFileXfer(
    m: Extract<AgentMessage, { kind: 'fileXferStart' | 'fileXferData' | 'fileXferStatus' }>,
  ): void {
    if (this.uploads) {
      this.uploads.handle(this, m);
      return;
    }
    if (m.kind === 'fileXferStart') {
      this.link.log.info(
        `${this.peer} tried to send ${JSON.stringify(m.name)}: file transfer is off (no --upload-dir)`,
      );
      this.sendFileStatus(m.id, FileXferResult.Disabled);
    }
  }

  // -- to the viewer ----------------------------------------------------------------------------

  sendFileStatus(id: number, result: number, detail?: Uint8Array): void {
    const body = Buffer.alloc(8 + (detail?.length ?? 0));
    body.writeUInt32LE(id, 0);
    body.writeUInt32LE(result, 4);
    if (detail) body.set(detail, 8);
    this.sendMessage(AgentMsg.FileXferStatus, body);
  }

  /** The viewer announced FILE_XFER_DETAILED_ERRORS (status data it can read). */
  get detailedErrors(): boolean {
    return hasCap(this.viewerCaps, AgentCap.FileXferDetailedErrors);
  }

  sendGrab(selection: ClipboardSelection, types: readonly ClipboardType[]): void {
    if (!this.canSend(selection)) return;
    const body = encodeClipboardGrab(selectionToWire(selection), types.map(clipboardTypeToWire), this.codec());
    this.sendMessage(AgentMsg.ClipboardGrab, body);
  }

  sendRelease(selection: ClipboardSelection): void {
    if (!this.canSend(selection)) return;
    this.sendMessage(AgentMsg.ClipboardRelease, encodeClipboardRelease(selectionToWire(selection), this.codec()));
  }

  sendRequest(selection: ClipboardSelection, type: ClipboardType): void {
    if (!this.canSend(selection)) return;
    const body = encodeClipboardRequest(selectionToWire(selection), clipboardTypeToWire(type), this.codec());
    this.sendMessage(AgentMsg.ClipboardRequest, body);
  }

  sendClipboard(selection: ClipboardSelection, type: ClipboardType | undefined, data: Uint8Array): void {
    if (!this.canSend(selection)) return;
    const wire = type === undefined ? AgentClipboardType.None : clipboardTypeToWire(type);
    const key = `${selection}/${wire}/${this.selectionShared}`;
    let forms = encodedClipboards.get(data);
    if (!forms) encodedClipboards.set(data, (forms = new Map()));
    let chunks = forms.get(key);
    if (!chunks) {
      const body = encodeClipboard(selectionToWire(selection), wire, data, this.codec());
      forms.set(key, (chunks = chunkAgentMessage(AgentMsg.Clipboard, body)));
    }
    this.queueChunks(chunks);
  }

  /** Without CLIPBOARD_SELECTION on both sides, only CLIPBOARD exists. */
  private canSend(selection: ClipboardSelection): boolean {
    return this.clipboardReady && (selection === 'clipboard' || this.selectionShared);
  }

  private codec(): { selection: boolean } {
    return { selection: this.selectionShared };
  }

  private sendMessage(type: number, body: Buffer): void {
    this.queueChunks(chunkAgentMessage(type, body));
  }

  private queueChunks(chunks: readonly Buffer[]): void {
    if (this.closed || !this.started) return;
    for (const c of chunks) {
      this.outQueue.push(c);
      this.outBytes += c.length;
    }
    // A viewer that gives no tokens back cannot make spiced hold more than two full clipboards.
    if (this.outBytes > 2 * this.hub.policy.maxClipboard + MAX_FILE_DATA) {
      this.reset(`${this.outBytes} bytes of agent data wait for tokens the viewer does not give`);
      return;
    }
    this.flushOut();
  }

  private flushOut(): void {
    if (!this.started || this.outQueue.length === 0 || this.serverTokens === 0) return;
    const n = Math.min(this.serverTokens, this.outQueue.length);
    const batch = this.outQueue.splice(0, n);
    this.serverTokens -= n;
    for (const c of batch) this.outBytes -= c.length;
    this.link.sendAgentData(batch);
  }
}
