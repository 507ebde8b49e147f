import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import { ChannelType, DisplayCap, MainCap, MouseMode, PlaybackCap } from '../protocol/constants.js';
import { decodeCursorServerMessage, type CursorServerMessage } from '../protocol/cursor.js';
import { decodeDisplayServerMessage, type DisplayServerMessage } from '../protocol/display.js';
import { decodeInputsServerMessage, encodeInputsClientMessage, type InputsClientMessage } from '../protocol/inputs.js';
import {
  decodeMainServerMessage,
  encodeAttachChannels,
  encodeMouseModeRequest,
  type ChannelId,
  type MainInit,
} from '../protocol/main.js';
import { decodePlaybackServerMessage, type PlaybackServerMessage } from '../protocol/playback.js';
import { packKeyCode } from '../protocol/scancode.js';
import type { OutMessage } from '../protocol/message.js';
import type { Rect } from '../protocol/geometry.js';
import { encodeStreamReport } from '../protocol/stream.js';
import { ClientChannel } from './channel.js';
import { ClientDisplay, displayGreeting } from './display.js';
import { MmClock } from './mm-clock.js';
import { StreamReports } from './stream-reports.js';

export interface SpiceClientOptions {
  host?: string;
  port: number;
  password?: string;
  /** Connect over TLS (the port is then the TLS port). */
  tls?: { ca?: string | Buffer; rejectUnauthorized?: boolean; servername?: string };
  /** Channels to open after the main channel (default: display, inputs, cursor). */
  channels?: number[];
  /** A transport of your own (e.g. a WebSocket stream); called once per channel. */
  connect?: () => Duplex | Promise<Duplex>;
  mouseMode?: number;
  /** Main channel caps to announce (default: NAME_AND_UUID). */
  mainCaps?: number[];
  /** Playback channel caps to announce (default: Opus). */
  playbackCaps?: number[];
  /**
   * Announce MJPEG streams (and stream reports). Off by default: this client records stream frames
   * but does not decode them, so by default it announces MULTI_CODEC without a codec and gets images.
   */
  streams?: boolean;
  /** Send STREAM_REPORTs as spice-gtk does, when the server asks for them (needs `streams`). */
  reportStreams?: boolean;
  /** Announce LZ4 images and ask for them (PREFERRED_COMPRESSION), as spiced's web viewer does. */
  lz4?: boolean;
}

/** A stream frame as it arrived: its stamp, and how early (positive) or late it came on the viewer's clock. */
export interface ArrivedFrame {
  id: number;
  mmTime: number;
  /** The frame's stamp minus the viewer's multimedia clock at arrival, in ms (spice-gtk drops it when negative). */
  latency: number;
  data: Buffer;
  dest: Rect;
}

export interface ClientCursor {
  x: number;
  y: number;
  visible: boolean;
  shape: { width: number; height: number; hotX: number; hotY: number; data: Buffer } | undefined;
  messages: number;
}

/**
 * A headless SPICE viewer: it links every channel it wants, keeps a framebuffer from the display
 * channel, tracks the cursor, sends input, and receives audio. The replay utility measures the
 * server through it and tests use it as an extra viewer.
 */
export class SpiceClient extends EventEmitter<{
  /** A display message was applied: its kind, its body's size in bytes, and the message. */
  display: [kind: string, bytes: number, m: DisplayServerMessage];
  streamFrame: [f: ArrivedFrame];
  cursor: [m: CursorServerMessage];
  playback: [m: PlaybackServerMessage];
  closed: [];
}> {
  readonly display = new ClientDisplay();
  readonly channels = new Map<number, ClientChannel>();
  private displayChannel: ClientChannel | undefined;
  readonly cursor: ClientCursor = { x: 0, y: 0, visible: false, shape: undefined, messages: 0 };
  init: MainInit | undefined;
  channelList: ChannelId[] = [];
  mouseMode: number = MouseMode.Server;
  motionAcks = 0;
  /** The multimedia clock as spice-gtk keeps it (MAIN_INIT, MULTI_MEDIA_TIME). */
  readonly mmClock = new MmClock();
  private readonly reports = new StreamReports(() => performance.now());
  /** Display messages that failed to decode or apply (should stay empty). */
  readonly errors: string[] = [];

  constructor(readonly options: SpiceClientOptions) {
    super();
  }

  private async transport(): Promise<Duplex> {
    const o = this.options;
    if (o.connect) return o.connect();
    const host = o.host ?? '127.0.0.1';
    return new Promise((resolve, reject) => {
      // No Nagle on either kind: link messages are small writes that must not wait for an ACK.
      const sock: Duplex = o.tls
        ? tls
            .connect(
              {
                host,
                port: o.port,
                ca: o.tls.ca,
                rejectUnauthorized: o.tls.rejectUnauthorized ?? true,
                servername: o.tls.servername ?? (net.isIP(host) ? undefined : host),
              },
              () => resolve(sock),
            )
            .setNoDelay(true)
        : net.connect({ host, port: o.port, noDelay: true }, () => resolve(sock));
      sock.once('error', reject);
    });
  }

  /**
   * Link one channel. The message handler is attached before the link completes: the server may
   * send its first messages in the same segment as the link result.
   */
  private async open(
    channelType: number,
    connectionId: number,
    channelCaps: number[],
    onMessage: (ch: ClientChannel, type: number, body: Buffer) => void,
  ): Promise<ClientChannel> {
    const socket = await this.transport();
    const ch = new ClientChannel(socket, {
      connectionId,
      channelType,
      channelId: 0,
      channelCaps,
      password: this.options.password ?? '',
    });
    ch.on('message', (type, body) => onMessage(ch, type, body));
    this.channels.set(channelType, ch);
    await ch.linked;
    return ch;
  }

  /** Link the main channel, attach, and open the other channels. Resolves when all are linked. */
  async connect(): Promise<void> {
    let listed!: (channels: ChannelId[]) => void;
    const ready = new Promise<ChannelId[]>((resolve) => (listed = resolve));
    const main = await this.open(
      ChannelType.Main,
      0,
      this.options.mainCaps ?? [MainCap.NameAndUuid],
      (main, type, body) => {
        const m = decodeMainServerMessage(type, body);
        if (m?.kind === 'init') {
          this.init = m;
          this.mmClock.set(m.multiMediaTime);
          this.mouseMode = m.currentMouseMode;
          main.send(encodeAttachChannels());
          const want = this.options.mouseMode ?? MouseMode.Client;
          if (want !== m.currentMouseMode && (m.supportedMouseModes & want) !== 0)
            main.send(encodeMouseModeRequest(want));
        } else if (m?.kind === 'channelsList') {
          this.channelList = m.channels;
          listed(m.channels);
        } else if (m?.kind === 'mouseMode') {
          this.mouseMode = m.current;
        } else if (m?.kind === 'multiMediaTime') {
          this.mmClock.set(m.time);
        }
      },
    );
    main.on('closed', () => this.emit('closed'));
    const channels = await ready;
    const wanted = this.options.channels ?? [ChannelType.Display, ChannelType.Inputs, ChannelType.Cursor];
    const sessionId = this.init!.sessionId;
    await Promise.all(
      channels.filter((c) => wanted.includes(c.type) && c.id === 0).map((c) => this.openSecondary(c.type, sessionId)),
    );
  }

  private async openSecondary(type: number, sessionId: number): Promise<void> {
    switch (type) {
      case ChannelType.Display: {
        const video = this.options.streams ? [DisplayCap.CodecMjpeg, DisplayCap.StreamReport] : [];
        const lz4 = this.options.lz4 ? [DisplayCap.Lz4Compression] : [];
        const caps = [DisplayCap.MonitorsConfig, DisplayCap.MultiCodec, ...video, ...lz4];
        const ch = await this.open(type, sessionId, caps, (_c, t, body) => this.onDisplay(t, body));
        this.displayChannel = ch;
        for (const m of displayGreeting(this.options.lz4 ?? false)) ch.send(m);
        return;
      }
      case ChannelType.Cursor: {
        await this.open(type, sessionId, [], (_c, t, body) => this.onCursor(t, body));
        return;
      }
      case ChannelType.Inputs: {
        await this.open(type, sessionId, [], (_c, t, body) => {
          if (decodeInputsServerMessage(t, body)?.kind === 'mouseMotionAck') this.motionAcks++;
        });
        return;
      }
      case ChannelType.Playback: {
        await this.open(type, sessionId, this.options.playbackCaps ?? [PlaybackCap.Opus], (_c, t, body) => {
          const m = decodePlaybackServerMessage(t, body);
          if (m) this.emit('playback', m);
        });
        return;
      }
      default:
        await this.open(type, sessionId, [], () => {});
    }
  }

  /** Send a message on the display channel (stream reports in tests). */
  sendDisplay(m: OutMessage): void {
    if (!this.displayChannel) throw new Error('no display channel');
    this.displayChannel.send(m);
  }

  private onDisplay(type: number, body: Buffer): void {
    try {
      const m = decodeDisplayServerMessage(type, body);
      if (!m) throw new Error(`unknown display message ${type}`);
      this.display.apply(m);
      this.onStreamMessage(m);
      this.emit('display', m.kind, body.length, m);
    } catch (err) {
      this.errors.push(err instanceof Error ? err.message : String(err));
    }
  }

  /** Stream reports and arrival times: what spice-gtk does with stream messages besides drawing. */
  private onStreamMessage(m: DisplayServerMessage): void {
    switch (m.kind) {
      case 'streamActivateReport':
        return this.reports.activate(m);
      case 'streamDestroy':
        return this.reports.end(m.id);
      case 'streamDestroyAll':
        return this.reports.endAll();
      case 'streamData':
      case 'streamDataSized': {
        const s = this.display.streams.get(m.id);
        const clock = this.mmClock.time();
        if (!s || clock === undefined) return;
        const latency = (m.mmTime - clock) | 0;
        const report = this.reports.frame(m.id, m.mmTime, latency);
        if (report && this.options.reportStreams) this.sendDisplay(encodeStreamReport(report));
        const dest = m.kind === 'streamDataSized' ? m.dest : s.create.dest;
        this.emit('streamFrame', { id: m.id, mmTime: m.mmTime, latency, data: m.data, dest });
        return;
      }
      default:
        return;
    }
  }

  private onCursor(type: number, body: Buffer): void {
    const m = decodeCursorServerMessage(type, body);
    if (!m) return;
    this.cursor.messages++;
    if (m.kind === 'init' || m.kind === 'set') {
      this.cursor.x = m.position.x;
      this.cursor.y = m.position.y;
      this.cursor.visible = m.visible;
      const h = m.cursor.header;
      this.cursor.shape = h
        ? { width: h.width, height: h.height, hotX: h.hotSpotX, hotY: h.hotSpotY, data: m.cursor.data }
        : undefined;
    } else if (m.kind === 'move') {
      this.cursor.x = m.position.x;
      this.cursor.y = m.position.y;
    } else if (m.kind === 'hide') {
      this.cursor.visible = false;
    }
    this.emit('cursor', m);
  }

  sendInput(m: InputsClientMessage): void {
    const ch = this.channels.get(ChannelType.Inputs);
    if (!ch) throw new Error('the inputs channel is not open');
    ch.send(encodeInputsClientMessage(m));
  }

  /** Press and release a key (XT set-1 scancode; 0x100 | code for extended keys). */
  tapKey(scancode: number): void {
    this.sendInput({ kind: 'keyDown', code: packKeyCode(scancode, true) });
    this.sendInput({ kind: 'keyUp', code: packKeyCode(scancode, false) });
  }

  /** Resolve once `pred` holds (checked after each turn that brought display messages, and every 50 ms). */
  waitFor(pred: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    return new Promise((resolve, reject) => {
      if (pred()) return resolve();
      let scheduled = false;
      const check = (): void => {
        scheduled = false;
        if (!pred()) return;
        cleanup();
        resolve();
      };
      // Once per turn of the event loop, not per message: a predicate may compare whole frames,
      // and a burst of small draws would otherwise spend the client's time comparing.
      const onDisplay = (): void => {
        if (scheduled) return;
        scheduled = true;
        setImmediate(check);
      };
      const timer = setInterval(check, 50);
      const deadline = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearInterval(timer);
        clearTimeout(deadline);
        this.off('display', onDisplay);
      };
      this.on('display', onDisplay);
    });
  }

  close(): void {
    for (const ch of this.channels.values()) ch.close();
  }
}
