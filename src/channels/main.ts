import { Channel } from '../channel-core/channel.js';
import { ChannelClient, type ChannelClientOptions, type ChannelConnection } from '../channel-core/channel-client.js';
import { messageItem } from '../channel-core/pipe.js';
import type { Session } from '../channel-core/session.js';
import { encodeNotify, encodePing, unknownMessage } from '../protocol/common.js';
import { ChannelType, MainCap, MouseMode, NotifySeverity, NotifyVisibility } from '../protocol/constants.js';
import {
  decodeMainClientMessage,
  encodeAgentData,
  encodeChannelsList,
  encodeMainInit,
  encodeMouseMode,
  encodeMultiMediaTime,
  encodeName,
  encodeUuid,
  type ChannelId,
  type MainClientMessage,
} from '../protocol/main.js';
import type { Logger } from '../util/log.js';
import type { Timer } from '../util/clock.js';
import { AgentEndpoint, type AgentLink } from '../agent/endpoint.js';
import type { AgentHub } from '../agent/hub.js';
import type { FileUploads } from '../agent/file-upload.js';

export interface MainChannelContext {
  /** Channels a viewer may open, listed after ATTACH_CHANNELS. */
  channels(): ChannelId[];
  /** The multimedia clock in ms (audio and video timestamps use it). */
  mmTime(): number;
  name: string;
  uuid: Buffer;
  /** Seconds between latency PINGs (0 = only the first one). */
  pingIntervalSeconds: number;
  /**
   * Seconds a PING may stay unanswered before the viewer is taken for dead and closed (0 = never):
   * a viewer whose machine vanished, or one that stopped reading, never answers.
   */
  pingTimeoutSeconds: number;
  /** The guest agent spiced plays (clipboard, resize, files); undefined: viewers are told there is none. */
  agent?: { hub: AgentHub; uploads: FileUploads | undefined };
}

/** Unanswered PINGs remembered per viewer (older ones can no longer yield a round-trip time). */
const MAX_PINGS_IN_FLIGHT = 16;

/** The main channel: session set-up, the channel list, mouse modes, latency pings. */
export class MainChannel extends Channel<MainChannelClient> {
  readonly type = ChannelType.Main;

  constructor(
    log: Logger,
    clientOptions: ChannelClientOptions,
    readonly context: MainChannelContext,
  ) {
    super(log, clientOptions);
  }

  caps(): number[] {
    return [MainCap.NameAndUuid, MainCap.AgentConnectedTokens];
  }

  protected createClient(conn: ChannelConnection, session: Session): MainChannelClient {
    return new MainChannelClient(conn, this.clientOptions, session, this.context);
  }
}

const SUPPORTED_MOUSE_MODES = MouseMode.Server | MouseMode.Client;

export class MainChannelClient extends ChannelClient {
  private pingId = 0;
  private pingTimer: Timer | undefined;
  private pongTimer: Timer | undefined;
  /** PINGs sent: their wire timestamp (hrtime ns, for the RTT) and when they went (clock ms, for the deadline). */
  private readonly pingsInFlight = new Map<number, { timestamp: bigint; sentAt: number }>();
  /** When the oldest PING not yet answered was sent (clock ms); undefined when all are answered. */
  private unansweredSince: number | undefined;
  /** A PING is out that the viewer has not answered yet. */
  get awaitingPong(): boolean {
    return this.unansweredSince !== undefined;
  }
  /** Latest round-trip time measured with PING/PONG, in ms. */
  rttMs: number | undefined;
  attached = false;
  private warnedMouseMode = false;
  private readonly agent: AgentEndpoint | undefined;

  constructor(
    conn: ChannelConnection,
    options: ChannelClientOptions,
    readonly session: Session,
    private readonly context: MainChannelContext,
  ) {
    super(conn, options);
    const agent = context.agent;
    // A view-only viewer is told there is no agent: its clipboard, resizes and files reach nobody.
    if (agent && session.mayControl) this.agent = new AgentEndpoint(this.agentLink(), agent.hub, agent.uploads);
    this.onClose(() => {
      this.pingTimer?.cancel();
      this.pongTimer?.cancel();
      this.agent?.close();
    });
  }

  start(): void {
    this.pushMessage(
      encodeMainInit({
        sessionId: this.session.id,
        displayChannelsHint: 1,
        supportedMouseModes: SUPPORTED_MOUSE_MODES,
        currentMouseMode: this.session.mouseMode,
        agentConnected: this.agent ? 1 : 0,
        agentTokens: this.agent ? this.agent.window : 0,
        multiMediaTime: this.context.mmTime(),
        ramHint: 0,
      }),
    );
    if (this.hasChannelCap(MainCap.NameAndUuid)) {
      this.pushMessage(encodeName(this.context.name));
      this.pushMessage(encodeUuid(this.context.uuid));
    }
    this.ping();
    const clock = this.options.clock;
    if (this.context.pingIntervalSeconds > 0)
      this.pingTimer = clock.interval(() => this.ping(), this.context.pingIntervalSeconds * 1000).unref();
    const timeoutMs = this.context.pingTimeoutSeconds * 1000;
    if (timeoutMs > 0)
      this.pongTimer = clock.interval(() => this.checkPong(timeoutMs), Math.max(100, timeoutMs / 4)).unref();
  }

  /** The connectivity check: a PING unanswered for `timeoutMs` closes the viewer. */
  private checkPong(timeoutMs: number): void {
    if (this.unansweredSince === undefined) return;
    const waited = this.options.clock.now() - this.unansweredSince;
    if (waited <= timeoutMs) return;
    const limit = timeoutMs / 1000;
    this.fail(`no PONG for ${(waited / 1000).toFixed(1)} s (limit ${limit} s): the viewer is gone or not reading`);
  }

  protected handleMessage(type: number, body: Buffer): void {
    const m = decodeMainClientMessage(type, body);
    if (!m) throw unknownMessage('main', type, body.length);
    switch (m.kind) {
      case 'attachChannels':
        this.attached = true;
        this.pushMessage(encodeChannelsList(this.context.channels()));
        return;
      case 'mouseModeRequest':
        return this.onMouseModeRequest(m.mode);
      case 'clientInfo':
      case 'qualityIndicator':
      case 'migration':
        return;
      case 'agentStart':
      case 'agentData':
      case 'agentToken':
        return this.onAgentMessage(m);
    }
  }

  private onAgentMessage(m: Extract<MainClientMessage, { kind: 'agentStart' | 'agentData' | 'agentToken' }>): void {
    if (!this.agent) {
      // No agent here (INIT said agent_connected = 0); clients send AGENT_START anyway.
      this.log.trace(`ignoring ${m.kind}: no agent`);
      return;
    }
    if (m.kind === 'agentStart') this.agent.onStart(m.numTokens);
    else if (m.kind === 'agentToken') this.agent.onToken(m.numTokens);
    else this.agent.onData(m.data);
  }

  private agentLink(): AgentLink {
    return {
      peer: this.stream.peer,
      log: this.log,
      send: (m) => this.pushMessage(m),
      // One pipe item for a whole batch: a 16 MiB paste is 8192 chunks, not 8192 items.
      sendAgentData: (chunks) => {
        const weight = chunks.reduce((n, c) => n + c.length, 0);
        this.push({ marshal: () => chunks.map(encodeAgentData), weight });
      },
      fail: (reason) => this.fail(reason),
      connectedTokens: this.hasChannelCap(MainCap.AgentConnectedTokens),
    };
  }

  private onMouseModeRequest(mode: number): void {
    if (mode !== MouseMode.Server && mode !== MouseMode.Client) {
      // Warned once per connection: a peer repeating the request must not flood the log.
      this.log.log(this.warnedMouseMode ? 'debug' : 'warn', `${this.stream.peer} asked for unknown mouse mode ${mode}`);
      this.warnedMouseMode = true;
    } else {
      this.session.setMouseMode(mode);
    }
    this.pushMessage(encodeMouseMode(SUPPORTED_MOUSE_MODES, this.session.mouseMode));
  }

  /** A notice the viewer shows or logs (spice-gtk logs it; severity 0 info, 1 warn, 2 error). */
  notify(message: string, severity: number = NotifySeverity.Error): void {
    this.pushMessage(
      encodeNotify({ timeStamp: BigInt(Date.now()), severity, visibility: NotifyVisibility.High, what: 0, message }),
    );
  }

  /** Tell the viewer the multimedia time (audio/video clocks), e.g. when playback starts. */
  sendMultiMediaTime(): void {
    this.pushMessage(encodeMultiMediaTime(this.context.mmTime()));
  }

  private ping(): void {
    const id = ++this.pingId;
    const timestamp = process.hrtime.bigint();
    const sentAt = this.options.clock.now();
    this.pingsInFlight.set(id, { timestamp, sentAt });
    this.unansweredSince ??= sentAt;
    // A viewer that never answers must not grow the map for the life of the connection.
    if (this.pingsInFlight.size > MAX_PINGS_IN_FLIGHT)
      this.pingsInFlight.delete(this.pingsInFlight.keys().next().value!);
    this.push(messageItem(encodePing(id, timestamp)));
  }

  protected override onPong(id: number, timestamp: bigint): void {
    const sent = this.pingsInFlight.get(id);
    if (sent === undefined || sent.timestamp !== timestamp) {
      this.log.debug(`unexpected PONG ${id} from ${this.stream.peer}`);
      return;
    }
    // Viewers answer in order: the PINGs before this one will not be answered any more.
    for (const older of this.pingsInFlight.keys()) {
      if (older > id) break;
      this.pingsInFlight.delete(older);
    }
    this.unansweredSince = this.pingsInFlight.values().next().value?.sentAt;
    const rtt = Number(process.hrtime.bigint() - sent.timestamp) / 1e6;
    this.rttMs = rtt;
  }
}
