import { randomBytes, randomInt } from 'node:crypto';
import { monotonicMs } from '../util/mm-time.js';
import net from 'node:net';
import type { SecureContext } from 'node:tls';
import {
  DEFAULT_CLIENT_OPTIONS,
  type ChannelClient,
  type ChannelClientOptions,
  type ChannelConnection,
} from '../channel-core/channel-client.js';
import type { Channel } from '../channel-core/channel.js';
import { Session, type ViewerRole } from '../channel-core/session.js';
import { CursorChannel } from '../channels/cursor.js';
import { DEFAULT_DISPLAY_OPTIONS, DisplayChannel, type DisplayOptions } from '../channels/display.js';
import { InputsChannel } from '../channels/inputs.js';
import { warmUpDisplayPaths } from '../channels/warm-up.js';
import { MainChannel } from '../channels/main.js';
import { AgentHub, DEFAULT_MAX_CLIPBOARD, type AgentPolicy } from '../agent/hub.js';
import { AGENT_TOKENS } from '../agent/endpoint.js';
import type { FileUploads } from '../agent/file-upload.js';
import { PlaybackChannel } from '../channels/playback.js';
import { RecordChannel } from '../channels/record.js';
import type { WavWriter } from '../audio/wav.js';
import { Desktop } from '../display/desktop.js';
import type { DisplaySink, DisplaySource } from '../seam/index.js';
import { capWords } from '../protocol/caps.js';
import { channelName, ChannelType, CommonCap, LinkErr } from '../protocol/constants.js';
import type { LinkMess } from '../protocol/link.js';
import type { ChannelId } from '../protocol/main.js';
import type { StreamCounters } from '../transport/counters.js';
import type { TcpInfo } from '../transport/sockopt.js';
import { DEFAULT_POLICY, type StreamPolicy } from '../transport/policy.js';
import { SpiceStream } from '../transport/stream.js';
import { TcpConduit } from '../transport/tcp-conduit.js';
import { chooseTlsEngine, secureContext, TlsConduit } from '../transport/tls-conduit.js';
import type { Conduit } from '../transport/conduit.js';
import { NO_WIRE_METER, type WireMeter } from '../transport/wire-meter.js';
import { sniff } from './front-door.js';
import { addressKey } from '../util/address.js';
import { DEFAULT_PRE_AUTH_LIMITS, PreAuthGate, type PreAuthLimits, type PreAuthSlot } from './pre-auth.js';
import { applyKeepAlive, DEFAULT_KEEPALIVE, type KeepAlive } from '../transport/keepalive.js';
import { peerOf } from '../transport/socket-conduit.js';
import { DescriptorWatch } from './descriptors.js';
import { ThrottledLog } from '../util/throttled-log.js';
import { findHtml5Dir, findViewerDir, WebFront, type WebOptions } from './web.js';
import { silentLogger, type Logger } from '../util/log.js';
import { LinkStage, type LinkAuthority, type LinkResult } from './link-stage.js';
import { Ticketing } from './ticket.js';
import { Authenticator, DEFAULT_AUTH, type AuthenticatorOptions } from './authenticator.js';
import { rehearse } from './rehearsal.js';

/** Session ids are drawn below this (why: newSession). */
const SESSION_ID_LIMIT = 2 ** 30;

export interface SpiceServerOptions {
  source: DisplaySource;
  /** Address to bind (default 127.0.0.1). */
  listen?: string;
  /** Plain SPICE port; 0 picks a free one; null for none. */
  port?: number | null;
  /** TLS port (TLS from the first byte, then the same protocol); needs `tls`. */
  tlsPort?: number | null;
  tls?: { cert: string; key: string };
  tlsHandshakeTimeoutMs?: number;
  password?: string;
  /** A second password: viewers who give it see and hear but do not control (roles). */
  viewPassword?: string;
  /** Viewers (sessions) served at once; a main link beyond it is refused (default: no limit). */
  maxViewers?: number;
  disableTicketing?: boolean;
  ticketExpirySeconds?: number;
  /** Key pool size, back-off and ceiling of ticket checks, log interval of refusals (authenticator.ts). */
  auth?: Partial<AuthenticatorOptions>;
  policy?: StreamPolicy;
  /** Channel types that must arrive over TLS (plain links get NEED_SECURED). */
  secureChannels?: number[];
  name?: string;
  uuid?: Buffer;
  log?: Logger;
  /** Deadline of sniffing the protocol and of the link stage, each (default 10 s). */
  linkTimeoutMs?: number;
  /** Connections not yet authenticated: caps per source address and in total (pre-auth.ts). */
  preAuth?: Partial<PreAuthLimits>;
  /** TCP keepalive on every accepted socket (default: dead after about 60 s of silence); false: off. */
  keepAlive?: Partial<KeepAlive> | false;
  pingIntervalSeconds?: number;
  /** Close a viewer whose main channel leaves a PING unanswered this long (default 30 s; 0: never). */
  pingTimeoutSeconds?: number;
  client?: Partial<ChannelClientOptions>;
  display?: Partial<DisplayOptions>;
  /** Wrap what the source draws into (e.g. a recording tee for --record). */
  wrapSink?: (desktop: DisplaySink) => DisplaySink;
  /** Offer the playback channel (default true). */
  audio?: boolean;
  /** Offer the record channel and write the viewers' microphone to this WAV writer. */
  micOut?: WavWriter;
  /** HTTP and WebSocket on the same ports (spice-html5); false to refuse HTTP. */
  web?: Partial<WebOptions> | false;
  /**
   * A meter for each SPICE connection, from its link stage on (the replay records per-flush wire
   * bytes with one); without it nothing is metered.
   */
  wireMeter?: (conduit: Conduit) => WireMeter;
  /**
   * Run the display paths once on a small desktop for nobody before listening (default true), so
   * the first viewer does not pay V8's compile-on-use for its first screen (channels/warm-up.ts).
   */
  warmUp?: boolean;
  /**
   * Before listening, serve a made-up everyday session to a loopback viewer of the server's own
   * (server/rehearsal.ts; 2 s or so of CPU), so that the first real viewer finds the serve
   * path compiled. Off by default (tests start hundreds of servers); `spiced serve` turns it on.
   */
  rehearse?: boolean;
  /**
   * The guest agent spiced plays on the main channel (clipboard, resize, files dropped in); on when
   * the source has a clipboard or can resize, or uploads are given; false: never.
   */
  agent?: (Partial<AgentPolicy> & { uploads?: FileUploads }) | false;
  /** Called when a channel connection ends, with its stream counters (for --stats). */
  onClientClosed?: (info: ClientReport) => void;
}

export interface ClientReport {
  sessionId: number;
  channel: string;
  peer: string;
  secure: boolean;
  reason: string;
  counters: StreamCounters;
  /** Kernel counters, where TCP_INFO can be read (Linux with koffi). */
  tcp: TcpInfo | undefined;
}

export { monotonicMs };

/**
 * A SPICE server for one desktop and any number of viewers. Each viewer is a session: its main
 * channel plus the display, cursor and inputs connections that present the session's id.
 */
export class SpiceServer {
  readonly desktop = new Desktop();
  readonly log: Logger;
  readonly auth: Authenticator;
  private readonly closedListeners: ((client: ChannelClient) => void)[] = [];
  readonly sessions = new Map<number, Session>();
  readonly main: MainChannel;
  readonly display: DisplayChannel;
  readonly cursor: CursorChannel;
  readonly inputs: InputsChannel;
  readonly playback: PlaybackChannel | undefined;
  private readonly channels = new Map<number, Channel>();
  private readonly ticketing: Ticketing;
  private readonly servers: net.Server[] = [];
  private readonly conduits = new Set<Conduit>();
  private readonly authority: LinkAuthority;
  private readonly web: WebFront | undefined;
  private readonly throttled: ThrottledLog;
  private readonly gate: PreAuthGate;
  private readonly keepAlive: KeepAlive | undefined;
  private readonly descriptors: DescriptorWatch;
  private started = false;
  /** While the rehearsal's viewer is linked (rehearse()). */
  private rehearsing = false;
  private stopping = false;

  /** Listening on its ports and not shutting down (what /healthz reports). */
  get serving(): boolean {
    return !this.stopping && (this.plainPort !== undefined || this.tlsPort !== undefined);
  }
  /** The agent's policy between viewers and the desktop (undefined: no agent offered). */
  readonly agentHub: AgentHub | undefined;

  constructor(readonly options: SpiceServerOptions) {
    this.log = options.log ?? silentLogger;
    this.throttled = new ThrottledLog(this.log);
    this.gate = new PreAuthGate({ ...DEFAULT_PRE_AUTH_LIMITS, ...options.preAuth }, this.throttled);
    this.descriptors = new DescriptorWatch(this.gate, this.throttled, () => this.conduits.size);
    this.keepAlive = options.keepAlive === false ? undefined : { ...DEFAULT_KEEPALIVE, ...options.keepAlive };
    this.ticketing = new Ticketing({
      password: options.password,
      viewPassword: options.viewPassword,
      disabled: options.disableTicketing ?? options.password === undefined,
      expirySeconds: options.ticketExpirySeconds,
    });
    this.auth = new Authenticator(this.ticketing, this.log.child('auth'), { ...DEFAULT_AUTH, ...options.auth });
    const clientOptions = { ...DEFAULT_CLIENT_OPTIONS, ...options.client };
    this.agentHub = this.makeAgentHub();
    this.main = new MainChannel(this.log.child('main'), clientOptions, {
      agent: this.agentHub && { hub: this.agentHub, uploads: options.agent ? options.agent.uploads : undefined },
      channels: () => this.channelList(),
      mmTime: monotonicMs,
      name: options.name ?? 'spiced',
      uuid: options.uuid ?? randomBytes(16),
      pingIntervalSeconds: options.pingIntervalSeconds ?? 15,
      pingTimeoutSeconds: options.pingTimeoutSeconds ?? 30,
    });
    this.display = new DisplayChannel(this.log.child('display'), clientOptions, this.desktop, {
      ...DEFAULT_DISPLAY_OPTIONS,
      ...options.display,
    });
    this.cursor = new CursorChannel(this.log.child('cursor'), clientOptions, this.desktop);
    this.inputs = new InputsChannel(this.log.child('inputs'), clientOptions, {
      desktop: this.desktop,
      modifiers: () => options.source.modifiers ?? 0,
    });
    for (const ch of [this.main, this.display, this.cursor, this.inputs] as Channel[]) this.channels.set(ch.type, ch);
    if (options.audio !== false) {
      const playback = new PlaybackChannel(this.log.child('playback'), clientOptions, { mmTime: monotonicMs });
      playback.onStreamStart = () => {
        for (const c of this.main.clients) c.sendMultiMediaTime();
      };
      this.desktop.addListener({ onAudio: (cmd) => playback.audio(cmd) });
      this.channels.set(playback.type, playback);
      this.playback = playback;
    }
    if (options.micOut)
      this.channels.set(ChannelType.Record, new RecordChannel(this.log.child('record'), clientOptions, options.micOut));
    this.authority = this.makeAuthority();
    if (options.web !== false) {
      const w = options.web ?? {};
      const web: WebOptions = {
        viewerDir: findViewerDir(),
        html5Dir: findHtml5Dir(w.html5Dir),
        allowOrigins: w.allowOrigins ?? [],
        maxMessageSize: w.maxMessageSize ?? clientOptions.maxMessageSize,
        listen: options.listen ?? '127.0.0.1',
        publicHosts: w.publicHosts ?? [],
        requestTimeoutMs: w.requestTimeoutMs ?? options.linkTimeoutMs ?? 10_000,
      };
      this.web = new WebFront(web, this.log.child('web'), (conduit, slot) => this.startLink(conduit, slot));
    }
  }

  private makeAgentHub(): AgentHub | undefined {
    const o = this.options.agent;
    if (o === false) return undefined;
    const source = this.options.source;
    if (!source.clipboard && !source.resizer && !o?.uploads) return undefined;
    const policy = {
      clipboard: o?.clipboard ?? 'both',
      maxClipboard: o?.maxClipboard ?? DEFAULT_MAX_CLIPBOARD,
      tokens: o?.tokens ?? AGENT_TOKENS,
    };
    return new AgentHub(source, policy, this.log.child('agent'));
  }

  /** Where spice-html5's files come from (undefined: not served). */
  get html5Dir(): string | undefined {
    return this.options.web === false ? undefined : findHtml5Dir(this.options.web?.html5Dir);
  }

  /** Where spiced's own viewer page comes from (undefined: not built, or no web front). */
  get viewerDir(): string | undefined {
    return this.options.web === false ? undefined : findViewerDir();
  }

  /** The channels viewers may open after ATTACH_CHANNELS. */
  channelList(): ChannelId[] {
    return [...this.channels.values()]
      .filter((c) => c.type !== ChannelType.Main)
      .map((c) => ({ type: c.type, id: c.id }));
  }

  private makeAuthority(): LinkAuthority {
    const secure = new Set(this.options.secureChannels ?? []);
    return {
      ticketFor: (peer, websocket) => this.auth.begin(peer, websocket),
      commonCaps: capWords([CommonCap.ProtocolAuthSelection, CommonCap.AuthSpice, CommonCap.MiniHeader]),
      channelCaps: (type) => capWords(this.channels.get(type)?.caps() ?? []),
      securityCheck: (type, isSecure) => (secure.has(type) && !isSecure ? LinkErr.NeedSecured : LinkErr.Ok),
      capacityCheck: (type) => this.capacityCheck(type),
      admit: (mess, role) => this.admit(mess, role),
    };
  }

  private admit(mess: LinkMess, role: ViewerRole): { error: number; reason: string } {
    const ch = this.channels.get(mess.channelType);
    if (mess.channelType === ChannelType.Main) return this.capacityCheck(mess.channelType);
    const session = this.sessions.get(mess.connectionId);
    if (!session) return { error: LinkErr.BadConnectionId, reason: `no session ${mess.connectionId}` };
    if (!ch || ch.id !== mess.channelId) return { error: LinkErr.ChannelNotAvailable, reason: 'no such channel' };
    // A view-only ticket must not open channels of a session that controls.
    if (role === 'view' && session.role === 'control') {
      return {
        error: LinkErr.PermissionDenied,
        reason: `a view-only ticket for session ${session.id.toString(16)}, which controls`,
      };
    }
    return { error: LinkErr.Ok, reason: '' };
  }

  /**
   * A new viewer (main link) beyond `maxViewers` is refused, before its key and again after its
   * ticket (viewers may have joined meanwhile), with CHANNEL_NOT_AVAILABLE: the main channel is not
   * available to one more viewer.
   */
  private capacityCheck(channelType: number): { error: number; reason: string } {
    const max = this.options.maxViewers;
    if (channelType !== ChannelType.Main || max === undefined || this.sessions.size < max)
      return { error: LinkErr.Ok, reason: '' };
    return {
      error: LinkErr.ChannelNotAvailable,
      reason: `the server is full: ${this.sessions.size} viewers of at most ${max} (--max-viewers)`,
    };
  }

  /** Viewers by role, for the log and the metrics. */
  viewerCounts(): Record<ViewerRole, number> {
    const counts: Record<ViewerRole, number> = { control: 0, view: 0 };
    for (const s of this.sessions.values()) counts[s.role]++;
    return counts;
  }

  /** Start the source and the listeners. Resolves once every port is listening. */
  async start(): Promise<void> {
    if (this.started) throw new Error('server already started');
    this.started = true;
    this.desktop.inputHandler = (ev) => this.options.source.input?.(ev);
    this.auth.start();
    // Before the source starts: loading koffi here takes tens of ms, which a source's clock (the
    // tone of the playback tests, a recording's pace) would see as a stall.
    this.descriptors.start();
    if (this.options.warmUp ?? true) {
      const t0 = performance.now();
      warmUpDisplayPaths();
      this.log.debug(`display paths warmed up in ${(performance.now() - t0).toFixed(0)} ms`);
    }
    if (this.options.rehearse) await this.rehearse();
    await this.options.source.start(this.options.wrapSink ? this.options.wrapSink(this.desktop) : this.desktop);
    if (this.options.port !== null) this.plainPort = await this.listenPlain(this.options.port ?? 5900);
    if (this.options.tlsPort !== undefined && this.options.tlsPort !== null) {
      if (!this.options.tls) throw new Error('a TLS port needs a certificate and key');
      this.tlsPort = await this.listenTls(this.options.tlsPort, secureContext(this.options.tls));
    }
  }

  /**
   * Serve a made-up session to a loopback viewer of our own before listening (server/rehearsal.ts):
   * over TLS when the server has a TLS port, on a port of its own bound to loopback only and closed
   * afterwards. The viewer does not count as the first one (onViewerReady).
   */
  private async rehearse(): Promise<void> {
    const t0 = performance.now();
    const secure =
      this.options.tls !== undefined && this.options.tlsPort !== undefined && this.options.tlsPort !== null;
    const ready = this.display.onViewerReady;
    this.display.onViewerReady = undefined;
    const port = secure
      ? await this.listenTls(0, secureContext(this.options.tls!), '127.0.0.1')
      : await this.listenPlain(0, '127.0.0.1');
    const listener = this.servers.pop()!;
    this.log.info('rehearsing: serving a made-up session to a viewer of our own first (--no-rehearsal skips it)');
    this.rehearsing = true;
    try {
      await rehearse({
        desktop: this.desktop,
        port,
        secure,
        password: this.options.password,
        viewerReady: () => [...this.display.clients].some((c) => c.isReady),
      });
    } finally {
      listener.close();
      await this.sessionsGone();
      this.rehearsing = false;
      this.display.onViewerReady = ready;
    }
    this.log.debug(`rehearsed the serve path in ${(performance.now() - t0).toFixed(0)} ms`);
  }

  /** Resolves once no session is left (the rehearsal's viewer has closed on our side too), or after `timeoutMs`. */
  private async sessionsGone(timeoutMs = 5_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.sessions.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  }

  /** Bound plain and TLS ports (undefined when not listening). */
  plainPort: number | undefined;
  tlsPort: number | undefined;

  private listenTls(port: number, context: SecureContext, address?: string): Promise<number> {
    const { engine, reason } = chooseTlsEngine((this.options.policy ?? DEFAULT_POLICY).cork);
    this.log.debug(`TLS port: ${engine} TLS engine (${reason})`);
    const server = net.createServer({ noDelay: true }, (raw) => {
      const admitted = this.admitSocket(raw, () => new TlsConduit(raw, context, engine));
      if (!admitted) return;
      const { conduit, slot } = admitted;
      conduit.handshake(this.options.tlsHandshakeTimeoutMs ?? 10_000).then(
        () => this.acceptConduit(conduit, slot),
        (err: unknown) => {
          this.log.warn(
            `TLS handshake from ${conduit.peer} failed: ${err instanceof Error ? err.message : String(err)}`,
          );
          conduit.destroy();
        },
      );
    });
    return this.listenOn(server, port, address);
  }

  private listenPlain(port: number, address?: string): Promise<number> {
    const server = net.createServer({ noDelay: true }, (socket) => {
      const admitted = this.admitSocket(socket, () => new TcpConduit(socket));
      if (admitted) this.acceptConduit(admitted.conduit, admitted.slot);
    });
    return this.listenOn(server, port, address);
  }

  /**
   * A socket just accepted: counted, keepalive on, and given a place among the connections
   * waiting to authenticate (whose deadline or eviction closes it), or refused (closed) when its
   * address already holds too many.
   */
  private admitSocket<C extends TcpConduit | TlsConduit>(
    raw: net.Socket,
    make: () => C,
  ): { conduit: C; slot: PreAuthSlot } | undefined {
    const closed = this.descriptors.accepted(raw);
    const peer = peerOf(raw);
    const address = raw.remoteAddress;
    if (address === undefined) {
      raw.destroy(); // gone before we got to it
      return undefined;
    }
    const slot = this.gate.enter(address, peer, () => conduit.destroy());
    if (typeof slot === 'string') {
      this.throttled.emit('warn', `refuse ${addressKey(address)}`, `connection from ${peer} refused: ${slot}`);
      raw.destroy();
      return undefined;
    }
    if (this.keepAlive) applyKeepAlive(raw, this.keepAlive);
    const conduit = make();
    // The raw socket may not report its close once TLS has taken its handle over: both are heard.
    const gone = (): void => {
      slot.leave();
      closed();
    };
    raw.once('close', gone);
    conduit.onClose(gone);
    return { conduit, slot };
  }

  /** Bind a net.Server on the configured address; resolves with the bound port. */
  private listenOn(server: net.Server, port: number, address = this.options.listen ?? '127.0.0.1'): Promise<number> {
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, () => {
        server.off('error', reject);
        server.on('error', (err) => this.onListenerError(err));
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  /** Out of descriptors, accept fails (when libuv cannot absorb it itself: descriptors.ts). */
  private onListenerError(err: NodeJS.ErrnoException): void {
    if (err.code === 'EMFILE' || err.code === 'ENFILE') this.descriptors.outOfDescriptors(err.code);
    else this.log.error(`listener error: ${err.message}`);
  }

  /** The plain port, or the TLS port when there is no plain one. */
  get port(): number {
    const p = this.plainPort ?? this.tlsPort;
    if (p === undefined) throw new Error('the server is not listening');
    return p;
  }

  /** A new connection on a port: SPICE goes to the link stage, HTTP to the web front. */
  private acceptConduit(conduit: TcpConduit | TlsConduit, slot: PreAuthSlot): void {
    this.track(conduit);
    sniff(conduit, this.options.linkTimeoutMs ?? 10_000, this.throttled, (protocol) => {
      if (protocol === 'spice') this.startLink(conduit, slot);
      else if (protocol === 'http') {
        if (this.web) this.web.handle(conduit.release(), conduit, slot);
        else {
          this.log.warn(`HTTP from ${conduit.peer} refused: the web viewer is disabled`);
          conduit.destroy();
        }
      }
    });
  }

  private track(conduit: Conduit): void {
    this.conduits.add(conduit);
    conduit.onClose(() => this.conduits.delete(conduit));
  }

  /** Run the link stage on a connection that speaks SPICE, then hand it to its channel. */
  private startLink(conduit: Conduit, slot: PreAuthSlot): void {
    if (conduit.kind === 'websocket') this.track(conduit);
    const log = this.log.child(conduit.peer);
    const meter = this.options.wireMeter?.(conduit) ?? NO_WIRE_METER;
    const linked = (r: LinkResult): void => {
      slot.leave(); // authenticated: no longer held to the pre-auth caps
      this.onLinked(conduit, r, log, meter);
    };
    new LinkStage(conduit, this.authority, log, this.options.linkTimeoutMs ?? 10_000, linked, undefined, meter);
  }

  private onLinked(conduit: Conduit, r: LinkResult, log: Logger, meter: WireMeter): void {
    const stream = new SpiceStream(conduit, this.options.policy ?? DEFAULT_POLICY, meter);
    const conn: ChannelConnection = {
      stream,
      link: r.mess,
      miniHeader: r.miniHeader,
      leftover: r.leftover,
      log: log.child(channelName(r.mess.channelType)),
    };
    const channel = this.channels.get(r.mess.channelType)!;
    const session =
      r.mess.channelType === ChannelType.Main
        ? this.newSession(conduit.peer, r.role)
        : this.sessions.get(r.mess.connectionId)!;
    const client = channel.attach(conn, session);
    log.info(
      `${channelName(r.mess.channelType)}:${r.mess.channelId} linked (session ${session.id.toString(16)}, ${conduit.kind === 'websocket' ? (conduit.secure ? 'wss' : 'ws') : conduit.kind}${r.miniHeader ? '' : ', full headers'})`,
    );
    // The rehearsal's own viewer is nobody's: no connection report, no metrics.
    if (this.rehearsing) return;
    this.reportOnClose(client, session);
    client.onClose(() => {
      for (const l of this.closedListeners) l(client);
    });
  }

  /** Called with each channel connection once it has closed (the metrics keep its totals). */
  onConnectionClosed(listener: (client: ChannelClient) => void): void {
    this.closedListeners.push(listener);
  }

  private newSession(peer: string, role: ViewerRole): Session {
    let id: number;
    // Below 2^30, a small integer to V8: every link message of the session carries the id, and a
    // larger one (a heap number) moved the decoded links, and the channel clients holding them, to
    // other hidden classes than the first session's, so their compiled code was thrown away.
    do id = randomInt(1, SESSION_ID_LIMIT);
    while (this.sessions.has(id));
    const session = new Session(id, peer, this.log.child(`session ${id.toString(16)}`), role);
    this.sessions.set(id, session);
    this.log.info(
      `viewer ${id.toString(16)} from ${peer} joined (${role === 'view' ? 'view only' : 'control'}): ${this.viewerSummary()}`,
    );
    session.onClose(() => {
      this.sessions.delete(id);
      this.log.info(`viewer ${id.toString(16)} left: ${this.viewerSummary()}`);
    });
    return session;
  }

  /** "3 viewers (1 control, 2 view only)". */
  private viewerSummary(): string {
    const c = this.viewerCounts();
    const n = c.control + c.view;
    return `${n} viewer${n === 1 ? '' : 's'} (${c.control} control, ${c.view} view only)`;
  }

  private reportOnClose(client: ChannelClient, session: Session): void {
    const report = this.options.onClientClosed;
    if (!report) return;
    client.onClose((reason) =>
      report({
        sessionId: session.id,
        channel: channelName(client.channelType),
        peer: client.stream.peer,
        secure: client.stream.secure,
        reason,
        counters: client.stream.snapshot(),
        tcp: client.stream.tcpInfo(),
      }),
    );
  }

  /** Send a notice to every viewer (main channel NOTIFY). */
  notifyViewers(message: string, severity?: number): void {
    for (const c of this.main.clients) c.notify(message, severity);
  }

  /** Every channel client currently connected. */
  clients(): ChannelClient[] {
    return [...this.channels.values()].flatMap((c) => [...c.clients]);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.descriptors.stop();
    for (const s of [...this.sessions.values()]) s.close('server shutting down');
    for (const c of this.conduits) c.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.auth.close();
    await this.options.source.stop();
    this.playback?.close();
  }
}
