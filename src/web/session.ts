import { ChannelType, DisplayCap, MainCap, MouseMode, PlaybackCap } from '../protocol/constants.js';
import { decodeCursorServerMessage, type CursorServerMessage } from '../protocol/cursor.js';
import { decodeDisplayServerMessage, type DisplayServerMessage } from '../protocol/display.js';
import { decodeInputsServerMessage, encodeInputsClientMessage, type InputsClientMessage } from '../protocol/inputs.js';
import {
  decodePlaybackServerMessage,
  decodeRecordServerMessage,
  type PlaybackServerMessage,
} from '../protocol/playback.js';
import { Microphone } from './microphone.js';
import {
  decodeMainServerMessage,
  encodeAttachChannels,
  encodeMouseModeRequest,
  type ChannelId,
  type MainInit,
} from '../protocol/main.js';
import { ClientDisplay, displayGreeting } from '../client/display.js';
import { AgentClient, type AgentPage } from './agent.js';
import { WsChannel } from './ws-channel.js';
import { DisplayQueue } from './display-queue.js';
import { WorkerDecoder } from './worker-decoder.js';
import type { PixelImage } from '../display/pixels.js';

export interface SessionOptions {
  /** ws:// or wss:// URL of the SPICE port the page came from. */
  url: string;
  password: string;
  /** No inputs channel: the page only watches. */
  viewOnly: boolean;
  /** Sound as Opus (the browser decodes it), as raw PCM, or no playback channel. */
  audio: 'opus' | 'pcm' | 'off';
  /** MJPEG video streams are decoded here; without them the server sends those areas as images. */
  video: boolean;
  /**
   * Ask for photos as LZ4 (PREFERRED_COMPRESSION): the server sends them so while the link is fast,
   * and this page decodes them several times faster than QUIC; false leaves the server's choice.
   */
  lz4: boolean;
  /** Where the guest agent's clipboard and resize answers go (no agent for view-only pages). */
  agentPage: AgentPage;
  /**
   * The decoding worker's script (dist/web/decode-worker.js beside viewer.js); undefined decodes
   * every image on the main thread.
   */
  decodeWorker: URL | undefined;
}

export interface SessionHandlers {
  /** A display message was applied to `session.display` (the canvas follows). */
  display(m: DisplayServerMessage): void;
  cursor(m: CursorServerMessage): void;
  playback(m: PlaybackServerMessage): void;
  mouseMode(mode: number): void;
  /** Every channel the page wants is linked. */
  ready(): void;
  /**
   * The session is over: `err` says why unless it was closed on purpose, `channel` which channel's
   * link or connection ended it.
   */
  closed(err: Error | undefined, channel: number | undefined): void;
}

/** Channels this viewer links besides main, in the order it opens them. */
const WANTED = [ChannelType.Display, ChannelType.Cursor, ChannelType.Inputs, ChannelType.Playback];

/**
 * One viewer session in the browser: the main channel, then display, cursor and inputs, each over
 * its own WebSocket, as spice-gtk links them over TCP. Display messages are applied to the same
 * ClientDisplay (surfaces, image decoders, cache) the Node client uses.
 */
export class WebSession {
  readonly display = new ClientDisplay();
  readonly channels = new Map<number, WsChannel>();
  init: MainInit | undefined;
  mouseMode: number = MouseMode.Server;
  /** Round trip of the main link (request to reply), then of pointer motion to its acknowledgement. */
  rttMs: number | undefined;
  /** Display messages that failed to decode or draw (each logged in the console). */
  errors = 0;
  /**
   * Main-thread time spent decoding display messages and applying them to the surfaces (image
   * decoders included, except what the worker decodes), ms: the bench and tests read it.
   */
  decodeMs = 0;
  /** Large compressed images are decoded off the main thread, when the worker can be made. */
  readonly decoder: WorkerDecoder | undefined;
  private readonly queue: DisplayQueue;
  private ended = false;
  /** When each unacknowledged motion left (bounded: a server that never acknowledges costs nothing). */
  private motionSent: number[] = [];
  private readonly linkedHooks = new Map<number, () => void>();
  /** The channels this session opens (wanted and offered by the server). */
  private offered: number[] = [];

  constructor(
    private readonly options: SessionOptions,
    private readonly handlers: SessionHandlers,
  ) {
    this.decoder = options.decodeWorker && new WorkerDecoder(options.decodeWorker);
    this.queue = new DisplayQueue(this.decoder, {
      apply: (m, decoded) => {
        this.applyDisplay(m, decoded);
        this.displayHandled();
      },
      failed: (m, err) => {
        this.displayFailed(m.kind, err);
        this.displayHandled();
      },
    });
  }

  /** Images sent to the worker so far. */
  get offloaded(): number {
    return this.queue.offloaded;
  }

  /** The most display messages that waited at once for the worker (bounded by the ACK window). */
  get maxQueued(): number {
    return this.queue.maxWaiting;
  }

  /** The channels the server offers (the microphone's is opened only on request). */
  offeredChannels: ChannelId[] = [];
  /** The microphone, while the person has it on. */
  microphone: Microphone | undefined;

  /** The guest agent (clipboard, resize), once the main channel is up. */
  agent: AgentClient | undefined;

  connect(): void {
    const started = performance.now();
    this.linkedHooks.set(ChannelType.Main, () => (this.rttMs = performance.now() - started));
    const main = this.open(ChannelType.Main, 0, [MainCap.NameAndUuid], (type, body) => this.onMain(main, type, body));
  }

  /** Bytes received on every channel so far. */
  get bytesReceived(): number {
    let n = 0;
    for (const ch of this.channels.values()) n += ch.received;
    return n;
  }

  sendInput(m: InputsClientMessage): void {
    const ch = this.channels.get(ChannelType.Inputs);
    if (!ch) return;
    if (m.kind === 'mouseMotion' || m.kind === 'mousePosition') {
      this.motionSent.push(performance.now());
      if (this.motionSent.length > 64) this.motionSent.splice(0, 4);
    }
    ch.send(encodeInputsClientMessage(m));
  }

  get canRecord(): boolean {
    return !this.options.viewOnly && this.offeredChannels.some((c) => c.type === ChannelType.Record && c.id === 0);
  }

  /**
   * The microphone on: link the record channel; the server answers with RECORD_START, which
   * starts the capture (the browser asks the person first). Off: the channel and capture end.
   */
  setMicrophone(on: boolean): void {
    const open = this.channels.get(ChannelType.Record);
    if (!on) {
      this.microphone?.stop();
      this.microphone = undefined;
      open?.close();
      this.channels.delete(ChannelType.Record);
      return;
    }
    if (open || !this.canRecord || !this.init) return;
    const ch = new WsChannel(
      this.options.url,
      {
        connectionId: this.init.sessionId,
        channelType: ChannelType.Record,
        channelId: 0,
        channelCaps: [],
        password: this.options.password,
      },
      {
        message: (t, body) => this.onRecord(t, body),
        closed: (err) => {
          if (err) console.warn('spiced viewer: the microphone channel closed', err);
          this.microphone?.stop();
        },
      },
    );
    this.microphone = new Microphone((m) => ch.send(m));
    this.channels.set(ChannelType.Record, ch);
  }

  private onRecord(type: number, body: Buffer): void {
    const m = decodeRecordServerMessage(type, body);
    if (m?.kind === 'start') {
      this.microphone
        ?.start(m.channels, m.frequency)
        .catch((err: unknown) => console.warn('spiced viewer: no microphone', err));
    } else if (m?.kind === 'stop') {
      this.microphone?.stop();
    }
  }

  requestMouseMode(mode: number): void {
    this.channels.get(ChannelType.Main)?.send(encodeMouseModeRequest(mode));
  }

  close(): void {
    this.end(undefined, undefined);
  }

  private open(
    type: number,
    connectionId: number,
    caps: number[],
    onMessage: (type: number, body: Buffer) => void,
  ): WsChannel {
    const ch = new WsChannel(
      this.options.url,
      { connectionId, channelType: type, channelId: 0, channelCaps: caps, password: this.options.password },
      {
        linked: () => this.onLinked(type),
        message: onMessage,
        closed: (err) => this.end(err, type),
      },
    );
    this.channels.set(type, ch);
    return ch;
  }

  private onLinked(type: number): void {
    this.linkedHooks.get(type)?.();
    if (type !== ChannelType.Main && this.offered.every((t) => this.channels.get(t)?.core.isLinked))
      this.handlers.ready();
  }

  private wanted(): number[] {
    const o = this.options;
    return WANTED.filter(
      (t) => !(o.viewOnly && t === ChannelType.Inputs) && !(o.audio === 'off' && t === ChannelType.Playback),
    );
  }

  private onMain(main: WsChannel, type: number, body: Buffer): void {
    const m = decodeMainServerMessage(type, body);
    if (m?.kind === 'init') {
      this.init = m;
      this.setMouseMode(m.currentMouseMode);
      main.send(encodeAttachChannels());
      if (!this.options.viewOnly) {
        this.agent = new AgentClient((out) => main.send(out), this.options.agentPage);
        this.agent.init(m.agentConnected !== 0, m.agentTokens);
      }
      if (m.currentMouseMode !== MouseMode.Client && (m.supportedMouseModes & MouseMode.Client) !== 0) {
        main.send(encodeMouseModeRequest(MouseMode.Client));
      }
    } else if (m?.kind === 'channelsList') {
      this.offeredChannels = m.channels;
      this.openSecondary(m.channels);
    } else if (m?.kind === 'mouseMode') {
      this.setMouseMode(m.current);
    } else if (m) {
      this.agent?.handle(m);
    }
  }

  private setMouseMode(mode: number): void {
    this.mouseMode = mode;
    this.handlers.mouseMode(mode);
  }

  private openSecondary(list: ChannelId[]): void {
    const sessionId = this.init!.sessionId;
    // Only what the server offers: ready() waits for these.
    this.offered = this.wanted().filter((t) => list.some((c) => c.type === t && c.id === 0));
    const offered = this.offered;
    for (const type of offered) {
      if (type === ChannelType.Display) {
        // MULTI_CODEC without CODEC_MJPEG tells the server this page takes no streams at all.
        const caps = [
          DisplayCap.MonitorsConfig,
          DisplayCap.MultiCodec,
          DisplayCap.Lz4Compression,
          ...(this.options.video ? [DisplayCap.CodecMjpeg, DisplayCap.SizedStream] : []),
        ];
        const ch = this.open(type, sessionId, caps, (t, body) => this.onDisplay(t, body));
        // Acknowledged once applied, not as they arrive: what waits for the worker stays within the
        // server's ACK window, as in spice-gtk, which acknowledges a message after handling it.
        ch.core.acksWhenHandled = true;
        this.linkedHooks.set(type, () => {
          for (const m of displayGreeting(this.options.lz4)) ch.send(m);
        });
      } else if (type === ChannelType.Cursor) {
        this.open(type, sessionId, [], (t, body) => {
          const m = decodeCursorServerMessage(t, body);
          if (m) this.handlers.cursor(m);
        });
      } else if (type === ChannelType.Inputs) {
        this.open(type, sessionId, [], (t, body) => this.onInputs(t, body));
      } else if (type === ChannelType.Playback) {
        const caps =
          this.options.audio === 'opus'
            ? [PlaybackCap.Opus, PlaybackCap.Volume, PlaybackCap.Latency]
            : [PlaybackCap.Volume, PlaybackCap.Latency];
        this.open(type, sessionId, caps, (t, body) => {
          const m = decodePlaybackServerMessage(t, body);
          if (m) this.handlers.playback(m);
        });
      }
    }
  }

  /** The server acknowledges every 4th motion message: the time since that one is a round trip. */
  private onInputs(type: number, body: Buffer): void {
    if (decodeInputsServerMessage(type, body)?.kind !== 'mouseMotionAck') return;
    const sent = this.motionSent.splice(0, 4);
    if (sent.length === 4) this.rttMs = performance.now() - sent[3]!;
  }

  /** A display message, parsed here, then applied in its turn (display-queue.ts). */
  private onDisplay(type: number, body: Buffer): void {
    const t0 = performance.now();
    let m: DisplayServerMessage | undefined;
    try {
      m = decodeDisplayServerMessage(type, body);
      if (!m) throw new Error(`unknown display message ${type}`);
    } catch (err) {
      this.displayFailed(type, err);
      return this.displayHandled();
    } finally {
      this.decodeMs += performance.now() - t0;
    }
    this.queue.push(m);
  }

  private applyDisplay(m: DisplayServerMessage, decoded: PixelImage | undefined): void {
    const t0 = performance.now();
    try {
      this.display.apply(m, decoded);
      this.decodeMs += performance.now() - t0;
      this.handlers.display(m);
    } catch (err) {
      this.displayFailed(m.kind, err);
    }
  }

  /** A display message was applied or dropped: it counts towards the channel's next ACK. */
  private displayHandled(): void {
    this.channels.get(ChannelType.Display)?.core.handled();
  }

  private displayFailed(what: number | string, err: unknown): void {
    this.errors++;
    console.error('spiced viewer: display message', what, err);
  }

  private end(err: Error | undefined, channel: number | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.close();
    this.decoder?.close();
    this.microphone?.stop();
    for (const ch of this.channels.values()) ch.close();
    this.handlers.closed(err, channel);
  }
}
