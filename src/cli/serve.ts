import { Command, Option } from 'commander';
import { SpiceServer, type ClientReport } from '../server/server.js';
import { DemoSource } from '../sources/demo/demo-source.js';
import { ResilientX11Source } from '../sources/x11/resilient.js';
import { X11Clipboard } from '../sources/x11/x11-clipboard.js';
import { haveXorgDummy } from '../sources/x11/xorg-dummy.js';
import { startXvfb, type XvfbHandle } from '../sources/x11/xvfb.js';
import { WithAudio } from '../sources/with-audio.js';
import { DeferredSource } from '../sources/deferred.js';
import { RecordingSource } from '../sources/recording/player.js';
import { WavAudio } from '../sources/audio/wav-source.js';
import { PulseAudio, pulseUnavailableReason } from '../sources/audio/pulse-source.js';
import { WavWriter } from '../audio/wav.js';
import { recordingSink, SessionRecorder } from '../sources/recording/spiced-format/index.js';
import type { DisplaySource } from '../seam/index.js';
import { parseCoalescePolicy, parseCorkPolicy, type StreamPolicy } from '../transport/policy.js';
import { sockoptUnavailableReason } from '../transport/sockopt.js';
import { parseImageCompression } from '../display/image-choice.js';
import { IMAGE_QUALITIES, type ImageQuality } from '../display/wire-image.js';
import { isLogLevel, jsonStderrSink, Logger, stderrSink, type LogLevel } from '../util/log.js';
import {
  parseDisplayNumber,
  parseList,
  parseNonNegative,
  parsePort,
  parseByteSize,
  parsePositive,
  parseSize,
  resolvePassword,
} from './options.js';
import { addConnectionOptions } from './connection-options.js';
import { raiseFdLimit } from '../util/fd-limit.js';
import { isLoopback } from '../util/address.js';
import { defaultStateDir, ensureCertificates, readCertificates, tlsPaths, type TlsMaterial } from '../server/certs.js';
import { ChannelType, channelTypeByName } from '../protocol/constants.js';
import { startPeriodicStats } from '../server/periodic-stats.js';
import { DEFAULT_UPLOAD_LIMITS, UploadDir } from '../agent/upload-dir.js';
import { access, stat } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { ServerMetrics } from '../server/metrics.js';
import { startMetricsEndpoint } from '../server/metrics-http.js';
import { CLIPBOARD_DIRECTIONS, DEFAULT_MAX_CLIPBOARD, type ClipboardDirection } from '../agent/hub.js';

interface ServeOptions {
  play?: string;
  pace: string;
  loop?: boolean;
  waitForViewer?: boolean;
  preloadMb: number;
  record?: string;
  audio?: string;
  audioLoop?: boolean;
  pulse?: boolean;
  sound: boolean;
  micOut?: string;
  x11?: string;
  xvfb?: boolean;
  display?: number;
  x11Retry?: boolean;
  resize?: boolean;
  port: number;
  tlsPort?: number;
  tlsDir?: string;
  secureChannels?: string[];
  plain: boolean;
  listen: string;
  password?: string;
  passwordFile?: string;
  viewPassword?: string;
  viewPasswordFile?: string;
  maxViewers?: number;
  disableTicketing?: boolean;
  ticketExpiry?: number;
  still?: boolean;
  size?: { width: number; height: number };
  logLevel: string;
  logFormat: string;
  metricsPort?: number;
  metricsListen: string;
  web: boolean;
  html5Dir?: string;
  allowOrigin?: string[];
  publicHost?: string[];
  preAuthTimeout: number;
  maxPreAuth: number;
  maxPreAuthPerAddress: number;
  pingInterval: number;
  pingTimeout: number;
  drainTimeout: number;
  keepalive: { idleS: number; intervalS: number; count: number } | false;
  stats?: boolean;
  statsInterval?: number;
  warmUp: boolean;
  rehearsal: boolean;
  cork: string;
  tlsCoalesce: string;
  imageCompression: string;
  imageQuality: ImageQuality;
  name: string;
  clipboard: ClipboardDirection | false;
  maxClipboard: number;
  uploadDir?: string;
  maxUpload: number;
}

export function serveCommand(): Command {
  return addConnectionOptions(new Command('serve'))
    .description(
      'serve a desktop to SPICE viewers (remote-viewer, spicy, spice-html5); the built-in animated demo desktop by default',
    )
    .argument('[command...]', 'with --xvfb: the program to run in the new X server (after --), e.g. -- xterm')
    .option('--x11 <display>', 'share a running X display (e.g. :1) instead of the demo desktop')
    .option(
      '--play <recording>',
      'serve a recorded session (spiced .spicedrec or spice-server .spicerec[.xz]) instead of the demo desktop',
    )
    .option(
      '--pace <realtime|asap|ms>',
      'with --play: recorded timing, as fast as the server takes it, or a fixed gap in ms between commands',
      'realtime',
    )
    .option('--loop', 'with --play: start over at the end')
    .option(
      '--wait-for-viewer',
      "with --play: start playing when the first viewer's display is up (as spice-server's replay does)",
    )
    .option(
      '--preload-mb <n>',
      'with --play: decode the recording into memory before serving when its pixels fit in N MiB (0: always stream from the file)',
      (v) => parseNonNegative(v),
      256,
    )
    .option(
      '--xvfb',
      'start a private X server on a free display (size from --size, default 1280x800; Xorg with the dummy driver, ' +
        "which follows the viewer's window, where installed, else Xvfb), run COMMAND in it and share it " +
        '(see "The --xvfb session" below)',
    )
    .option('--display <:N>', 'with --xvfb: use display :N instead of the first free one', parseDisplayNumber)
    .option(
      '--resize',
      'with --x11: let viewers resize the display to their window with RandR (--xvfb does unless --no-resize)',
    )
    .option('--no-resize', "with --xvfb: Xvfb at a fixed size, whatever the viewers' windows")
    .option(
      '--x11-retry',
      'when the X server goes away, keep the last frame and reconnect when it comes back (default: notify viewers and exit)',
    )
    .option(
      '--record <file>',
      "record the session (everything the source draws and plays) to FILE in spiced's recording format",
    )
    .option(
      '--audio <file.wav>',
      "play a WAV file to the viewers (any rate and channel count) instead of the demo's ticks",
    )
    .option('--audio-loop', 'with --audio: play the file over and over')
    .option(
      '--pulse',
      'play what the desktop plays: capture the PulseAudio/PipeWire monitor with parec (pulseaudio-utils)',
    )
    .option('--no-sound', 'do not offer the playback channel')
    .option(
      '--mic-out <file.wav>',
      "offer the record channel and write the viewers' microphone to FILE (48 kHz stereo WAV)",
    )
    .option('-p, --port <port>', 'plain SPICE port', parsePort, 5900)
    .option('--tls-port <port>', 'TLS port (certificates from --tls-dir, or made once in a state directory)', parsePort)
    .option('--tls-dir <dir>', "directory with ca-cert.pem, server-cert.pem, server-key.pem (spice-server's names)")
    .option(
      '--secure-channels <list>',
      'channels that must use TLS: all, or a list such as main,display,inputs',
      parseList,
    )
    .option('--no-plain', 'do not listen on the plain port (TLS only)')
    .option(
      '-l, --listen <address>',
      'address to bind; anything but loopback needs a password or --disable-ticketing',
      '127.0.0.1',
    )
    .option(
      '--password <password>',
      'password viewers must give (also $SPICE_PASSWORD); visible in the process list, prefer --password-file',
    )
    .option('--password-file <file>', 'read the password from the first line of FILE')
    .option(
      '--view-password <password>',
      'a second password for viewers who only watch: they see and hear, their keys, pointer, clipboard and resizes are ignored (also $SPICE_VIEW_PASSWORD)',
    )
    .option('--view-password-file <file>', 'read the view-only password from the first line of FILE')
    .option(
      '--max-viewers <n>',
      'viewers served at once; the next one is refused (link error CHANNEL_NOT_AVAILABLE)',
      (v) => Math.floor(parsePositive(v)),
    )
    .option('--disable-ticketing', 'accept viewers without a password (required to listen beyond loopback without one)')
    .option('--ticket-expiry <seconds>', 'the password stops working SECONDS after start', parsePositive)
    .option('--still', 'demo desktop: draw one deterministic frame and hold it (screenshots, tests); input still works')
    .option('--size <WxH>', 'desktop size (demo desktop, --xvfb)', parseSize)
    .addOption(
      new Option(
        '--image-compression <kind>',
        'how images travel (all lossless): auto (QUIC for photos, LZ otherwise), lz, quic, or off (raw bitmaps)',
      )
        .choices(['auto', 'lz', 'quic', 'off'])
        .default('auto'),
    )
    .addOption(
      new Option(
        '--image-quality <mode>',
        'photo-like images as JPEG, refreshed losslessly once quiet: auto (to viewers whose link is measured under 20 Mbit/s), lossy (to all), lossless (never)',
      )
        .choices([...IMAGE_QUALITIES])
        .default('auto'),
    )
    .addOption(
      new Option(
        '--cork <policy>',
        'when bytes reach the kernel: off (each message at once), on (cork around each pipe flush), kernel (TCP_CORK)',
      )
        .choices(['off', 'on', 'kernel'])
        .default('on'),
    )
    .addOption(
      new Option(
        '--tls-coalesce <policy>',
        'plaintext per SSL_write: none (per iovec), small (messages <= 1024 B gathered), flush (whole flush)',
      )
        .choices(['none', 'small', 'flush'])
        .default('flush'),
    )
    .option('--no-web', 'refuse HTTP and WebSocket on the SPICE ports (no browser viewer)')
    .option('--html5-dir <dir>', 'spice-html5 files to serve at /spice-html5/ (default /usr/share/spice-html5)')
    .option('--allow-origin <list>', "web origins besides the page's own that may open WebSockets (or *)", parseList)
    .option('--public-host <names>', 'names of this machine for browsers, besides localhost and its IPs', parseList)
    .option('--name <name>', 'name shown by viewers (main channel NAME)', 'spiced')
    .addOption(
      new Option(
        '--clipboard <direction>',
        'clipboard between viewers and the desktop: both, to-viewer, from-viewer or off',
      )
        .choices(CLIPBOARD_DIRECTIONS)
        .default('both'),
    )
    .option('--no-clipboard', 'no clipboard in either direction (same as --clipboard off)')
    .option(
      '--upload-dir <dir>',
      "files dropped on a viewer's window land in DIR (never overwriting); off unless given",
    )
    .option(
      '--max-upload <size>',
      'with --upload-dir: largest file accepted (e.g. 512M)',
      parseByteSize,
      DEFAULT_UPLOAD_LIMITS.maxFileBytes,
    )
    .option(
      '--max-clipboard <size>',
      'largest clipboard taken from or sent to a viewer (e.g. 16M)',
      parseByteSize,
      DEFAULT_MAX_CLIPBOARD,
    )
    .option('--stats', "print each connection's stream counters when it closes")
    .option(
      '--stats-interval <ms>',
      'every MS, one JSON line on stderr: RSS, heap, CPU, collections, viewers, bytes sent (soak runs)',
      parsePositive,
    )
    .option(
      '--no-warm-up',
      "skip drawing a small desktop for nobody at start (~70 ms) that spares the first viewer V8's compile-on-use",
    )
    .option(
      '--no-rehearsal',
      'skip serving a made-up session to a loopback viewer of its own before listening (2 s or so of CPU ' +
        'at start that spares the first viewer V8 compiling the serve path)',
    )
    .option('--log-level <level>', 'error, warn, info, debug or trace', 'info')
    .addOption(
      new Option('--log-format <format>', 'log lines as text, or as JSON objects one a line (time, level, scope, text)')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option(
      '--metrics-port <port>',
      'serve /metrics (Prometheus text) and /healthz on this port (0: any free one)',
      (v) => (v === '0' ? 0 : parsePort(v)),
    )
    .option('--metrics-listen <address>', 'address of the metrics port', '127.0.0.1')
    .addHelpText(
      'after',
      `
Examples:
  spiced serve                              demo desktop on 127.0.0.1:5900, no password
  spiced serve --still --size 800x600       one still frame, for screenshots
  SPICE_PASSWORD=secret spiced serve -l 0.0.0.0
  spiced serve --x11 :1                     share a running X display
  spiced serve --x11 :1 --resize            ... and let the viewer's window set its size
  spiced serve --xvfb --size 1280x800 -- xterm
  spiced serve --xvfb --display :5 -- xfce4-session
  remote-viewer spice://127.0.0.1:5900      connect a viewer

The --xvfb session:
  COMMAND runs in a process group of its own, marked with SPICED_SESSION in its environment, as does
  everything it starts. When COMMAND exits (the user logged out), spiced tells the viewers, stops and
  exits with COMMAND's exit code, as startx does. When spiced stops (SIGINT, SIGTERM, the X server
  lost), every process of the session is ended, including daemons that left the group (ssh-agent,
  gpg-agent): SIGTERM, then SIGKILL after 3 s; then the X server.
  The X server is Xorg with the dummy driver where installed (xserver-xorg-video-dummy; Xorg must be
  allowed to start for the user: root, or allowed_users=anybody in /etc/X11/Xwrapper.config): the
  desktop follows the viewer's window through RandR. Otherwise, or with --no-resize, Xvfb at a
  fixed size.`,
    )
    .action(async (command: string[], opts: ServeOptions) => {
      await runServe(opts, command);
    });
}

function makeLogger(level: string, format: string): Logger {
  if (!isLogLevel(level)) throw new Error(`unknown log level "${level}" (error, warn, info, debug, trace)`);
  return new Logger(level as LogLevel, format === 'json' ? jsonStderrSink : stderrSink);
}

function formatReport(r: ClientReport): string {
  const c = r.counters;
  const tls = r.secure ? ` ssl_writes=${c.sslWrites} tls_records=${c.tlsRecords}` : '';
  const t = r.tcp;
  const kernel = t
    ? ` | tcp: segs_out=${t.segsOut} data_segs_out=${t.dataSegsOut} bytes_sent=${t.bytesSent} bytes_retrans=${t.bytesRetrans} mss=${t.sndMss}`
    : '';
  return `stats ${r.channel} ${r.peer} session=${r.sessionId.toString(16)}: messages=${c.messages} iovecs=${c.iovecs} flushes=${c.flushes} units=${c.units}${tls} plaintext=${c.plaintextBytes}B wire=${c.wireBytes}B corks=${c.corks}${kernel} (${r.reason})`;
}

interface BuiltSource {
  source: DisplaySource;
  /** Stop what the source started (Xvfb and its command). */
  cleanup: () => Promise<void>;
  /** Resolves when the session should end by itself (the --xvfb command exited), with its exit code. */
  ended?: Promise<number | null>;
}

/** The demo desktop, a running X display, or Xvfb with a command. */
async function buildSource(
  opts: ServeOptions,
  command: string[],
  log: Logger,
  lost: (err: Error, retrying: boolean) => void,
): Promise<BuiltSource> {
  if (opts.x11 !== undefined && opts.xvfb) throw new Error('give either --x11 DISPLAY or --xvfb, not both');
  if (opts.display !== undefined && !opts.xvfb) {
    throw new Error('--display needs --xvfb (to share a running display, give --x11 :N)');
  }
  if (opts.resize !== undefined && opts.x11 === undefined && !opts.xvfb)
    throw new Error(`--${opts.resize ? '' : 'no-'}resize needs --x11 DISPLAY or --xvfb`);
  if (command.length > 0 && !opts.xvfb)
    throw new Error(`unexpected arguments "${command.join(' ')}" (a command runs only with --xvfb)`);
  const x11Log = (level: string, msg: string): void =>
    log.log(level === 'warn' || level === 'error' || level === 'info' ? level : 'debug', `x11: ${msg}`);
  if (opts.xvfb) {
    const size = opts.size ? `${opts.size.width}x${opts.size.height}` : '1280x800';
    const xvfb =
      opts.resize === false
        ? await startXvfb({ size, command, display: opts.display })
        : await startResizableX(size, command, opts.display, log);
    const resize = xvfb.server === 'xorg-dummy';
    const kind = resize
      ? `Xorg ${xvfb.display} (${size}, dummy driver: follows the viewer's window)`
      : `Xvfb ${xvfb.display} (${size})`;
    log.info(`started ${kind}${command.length > 0 ? ` running ${command.join(' ')}` : ''}`);
    const clipboard = x11Clipboard(opts, x11Log);
    const source = new ResilientX11Source({
      display: xvfb.display,
      retry: false,
      onLost: lost,
      log: x11Log,
      resize,
      clipboard,
    });
    return { source, cleanup: () => xvfb.stop(), ended: command.length > 0 ? xvfb.commandExited : undefined };
  }
  if (opts.play !== undefined) {
    if (opts.x11 !== undefined || opts.xvfb) throw new Error('give one of --play, --x11, --xvfb');
    const pace = opts.pace === 'realtime' || opts.pace === 'asap' ? opts.pace : Number(opts.pace);
    if (typeof pace === 'number' && !(pace >= 0))
      throw new Error(`--pace must be realtime, asap or a number of ms, not "${opts.pace}"`);
    const file = opts.play;
    const recording = new RecordingSource(file, {
      pace,
      loop: opts.loop ?? false,
      onEnd: (err) => (err ? log.error(`${file}: ${err.message}`) : log.info(`${file}: end of recording`)),
    });
    const budget = opts.preloadMb * (1 << 20);
    const inMemory = budget > 0 && (await recording.preload(budget));
    log.info(
      `${file}: ${inMemory ? 'decoded into memory' : budget > 0 ? `over ${opts.preloadMb} MiB decoded, streaming from the file` : 'streaming from the file'}`,
    );
    return { source: opts.waitForViewer ? new DeferredSource(recording) : recording, cleanup: async () => {} };
  }
  if (opts.x11 !== undefined) {
    const source = new ResilientX11Source({
      display: opts.x11,
      retry: opts.x11Retry ?? false,
      onLost: lost,
      onReconnected: () => log.info(`reconnected to X display ${opts.x11}`),
      log: x11Log,
      resize: opts.resize ?? false,
      clipboard: x11Clipboard(opts, x11Log),
    });
    return { source, cleanup: async () => {} };
  }
  const soundFromElsewhere = opts.audio !== undefined || opts.pulse === true;
  return {
    source: new DemoSource({ ...opts.size, still: opts.still ?? false, sound: !soundFromElsewhere }),
    cleanup: async () => {},
  };
}

/** The X display's selections, with the viewers' limit; none when the clipboard is off. */
function x11Clipboard(opts: ServeOptions, log: (level: string, msg: string) => void): X11Clipboard | false {
  if (opts.clipboard === false || opts.clipboard === 'off') return false;
  return new X11Clipboard({ maxBytes: opts.maxClipboard, log });
}

/**
 * The --xvfb X server: Xorg with the dummy driver where installed, whose screen follows the
 * viewer's window (Debian's Xvfb cannot grow past its -screen size); Xvfb otherwise, or when Xorg
 * may not start for this user (Xwrapper.config), at a fixed size.
 */
async function startResizableX(
  size: string,
  command: string[],
  display: number | undefined,
  log: Logger,
): Promise<XvfbHandle> {
  if (haveXorgDummy()) {
    try {
      return await startXvfb({ size, command, display, server: 'xorg-dummy' });
    } catch (err) {
      log.warn(`${(err as Error).message}; using Xvfb at a fixed size instead`);
    }
  }
  return startXvfb({ size, command, display });
}

/** Sound from a WAV file or PulseAudio, layered over the display source. */
function addSound(built: BuiltSource, opts: ServeOptions, log: Logger): BuiltSource {
  if (opts.audio !== undefined && opts.pulse) throw new Error('give either --audio FILE or --pulse, not both');
  if (opts.audio !== undefined)
    return {
      ...built,
      source: new WithAudio(built.source, new WavAudio(opts.audio, opts.audioLoop ?? false), opts.audio),
    };
  if (opts.pulse) {
    const why = pulseUnavailableReason();
    if (why) throw new Error(why);
    return { ...built, source: new WithAudio(built.source, new PulseAudio(log), 'PulseAudio') };
  }
  return built;
}

async function runServe(opts: ServeOptions, command: string[]): Promise<void> {
  const log = makeLogger(opts.logLevel, opts.logFormat);
  logFdLimit(log);
  const password = resolvePassword({
    password: opts.password,
    passwordFile: opts.passwordFile,
    env: process.env.SPICE_PASSWORD,
  });
  const loopback = isLoopback(opts.listen);
  if (!loopback && password === undefined && !opts.disableTicketing) {
    throw new Error(
      `refusing to serve ${opts.listen} without a password: give --password/--password-file/$SPICE_PASSWORD, or --disable-ticketing to accept anyone`,
    );
  }
  if (!loopback && password === undefined)
    log.warn(`serving ${opts.listen} WITHOUT a password: anyone who can reach it can see and control this desktop`);
  if (opts.ticketExpiry !== undefined && password === undefined) throw new Error('--ticket-expiry needs a password');
  const viewPassword = resolvePassword({
    password: opts.viewPassword,
    passwordFile: opts.viewPasswordFile,
    env: process.env.SPICE_VIEW_PASSWORD,
  });
  if (viewPassword !== undefined && password === undefined)
    throw new Error('--view-password needs --password (without one every viewer controls)');
  const policy: StreamPolicy = { cork: parseCorkPolicy(opts.cork), coalesce: parseCoalescePolicy(opts.tlsCoalesce) };
  if (policy.cork === 'kernel') {
    const why = sockoptUnavailableReason();
    if (why) {
      log.warn(`--cork kernel: TCP_CORK cannot be set here (${why}); using --cork on`);
      policy.cork = 'on';
    }
  }
  const tls = opts.tlsPort !== undefined ? await loadTls(opts.tlsDir, log) : undefined;
  const secureChannels = parseSecureChannels(opts.secureChannels, opts.tlsPort !== undefined);
  if (!opts.plain && opts.tlsPort === undefined) throw new Error('--no-plain needs --tls-port');
  let server: SpiceServer | undefined;
  let shutdown: (reason: string, code: number) => void = () => {};
  if (!opts.sound && (opts.audio !== undefined || opts.pulse))
    throw new Error('--no-sound contradicts --audio/--pulse');
  const display = await buildSource(opts, command, log, (err, retrying) => {
    log.error(`${err.message}${retrying ? '; serving the last frame and trying to reconnect' : ''}`);
    server?.notifyViewers(`spiced: ${err.message}${retrying ? ' (reconnecting)' : ''}`);
    if (!retrying) shutdown(err.message, 1);
  });
  const built = addSound(display, opts, log);
  const recorder =
    opts.record !== undefined
      ? await SessionRecorder.open(
          opts.record,
          { source: built.source.name, ...opts.size },
          { onError: (err) => log.error(`recording to ${opts.record} stopped: ${err.message}`) },
        )
      : undefined;
  if (recorder) {
    const cleanup = built.cleanup;
    built.cleanup = async () => {
      await recorder.close();
      log.info(`recorded ${recorder.recordCount} commands to ${opts.record}`);
      await cleanup();
    };
  }
  const micOut =
    opts.micOut !== undefined ? await WavWriter.open(opts.micOut, { sampleRate: 48000, channels: 2 }) : undefined;
  if (micOut) {
    const cleanup = built.cleanup;
    built.cleanup = async () => {
      await micOut.close();
      await cleanup();
    };
  }
  const source = built.source;
  server = new SpiceServer({
    source,
    listen: opts.listen,
    port: opts.plain ? opts.port : null,
    tlsPort: opts.tlsPort ?? null,
    tls: tls?.material,
    secureChannels,
    password,
    viewPassword,
    maxViewers: opts.maxViewers,
    disableTicketing: opts.disableTicketing ?? password === undefined,
    ticketExpirySeconds: opts.ticketExpiry,
    policy,
    name: opts.name,
    log,
    warmUp: opts.warmUp,
    rehearse: opts.rehearsal,
    display: { compression: parseImageCompression(opts.imageCompression), imageQuality: opts.imageQuality },
    web: opts.web && { html5Dir: opts.html5Dir, allowOrigins: opts.allowOrigin ?? [], publicHosts: opts.publicHost },
    linkTimeoutMs: opts.preAuthTimeout * 1000,
    tlsHandshakeTimeoutMs: opts.preAuthTimeout * 1000,
    preAuth: { total: opts.maxPreAuth, perAddress: opts.maxPreAuthPerAddress },
    keepAlive: opts.keepalive,
    pingIntervalSeconds: opts.pingInterval,
    pingTimeoutSeconds: opts.pingTimeout,
    client: { stallTimeoutMs: opts.drainTimeout * 1000 },
    audio: opts.sound,
    agent: {
      clipboard: opts.clipboard === false ? 'off' : opts.clipboard,
      maxClipboard: opts.maxClipboard,
      uploads: await uploadDir(opts, log),
    },
    micOut,
    wrapSink: recorder ? (desktop) => recordingSink(desktop, recorder) : undefined,
    onClientClosed: opts.stats ? (r) => process.stdout.write(formatReport(r) + '\n') : undefined,
  });
  // Made before the server starts, so that it hears every connection that closes.
  const metrics = opts.metricsPort !== undefined ? new ServerMetrics(server) : undefined;
  const deferred = built.source instanceof DeferredSource ? built.source : undefined;
  if (deferred) server.display.onViewerReady = () => void deferred.trigger();
  try {
    await server.start();
  } catch (err) {
    await built.cleanup();
    throw err;
  }
  shutdown = installShutdown(server, log, built.cleanup);
  if (metrics && opts.metricsPort !== undefined) {
    const healthy = (): boolean => server.serving;
    await startMetricsEndpoint(metrics, healthy, opts.metricsPort, opts.metricsListen, log.child('metrics'));
  }
  if (opts.statsInterval !== undefined) {
    startPeriodicStats(server, opts.statsInterval, (line) =>
      process.stderr.write(`${line}
`),
    );
  }
  built.ended?.then((code) => {
    server.notifyViewers(`spiced: the session (${command[0]}) ended`);
    shutdown(`${command[0]} exited with code ${code}`, code ?? 1);
  });
  const host = opts.listen.includes(':') ? `[${opts.listen}]` : opts.listen;
  log.info(
    `serving ${source.name} on ${host}${server.plainPort !== undefined ? ` port ${server.plainPort}` : ''}${server.tlsPort !== undefined ? ` TLS port ${server.tlsPort}` : ''}${password !== undefined ? ' (password required)' : ''}`,
  );
  process.stdout.write(
    `spiced: ${source.name} ready. Connect a viewer:\n  ${viewerCommand(host, server.plainPort, server.tlsPort, tls?.caPath, secureChannels.length > 0)}\n`,
  );
  const page =
    server.plainPort !== undefined ? `http://${host}:${server.plainPort}/` : `https://${host}:${server.tlsPort}/`;
  const asks = password !== undefined ? '; the page asks for the password' : '';
  if (server.viewerDir) process.stdout.write(`  or open ${page} in a browser${asks}\n`);
  else if (opts.web) log.warn('no browser viewer: it is not built here (npm run build)');
  if (server.html5Dir) process.stdout.write(`  (spice-html5: ${page}spice-html5/)\n`);
}

/** --upload-dir: a directory that exists and can be written, or no uploads. */
async function uploadDir(opts: ServeOptions, log: Logger): Promise<UploadDir | undefined> {
  if (opts.uploadDir === undefined) return undefined;
  const dir = resolvePath(opts.uploadDir);
  const st = await stat(dir).catch((err: unknown) => {
    throw new Error(`--upload-dir ${dir}: ${err instanceof Error ? err.message : String(err)}`);
  });
  if (!st.isDirectory()) throw new Error(`--upload-dir ${dir} is not a directory`);
  await access(dir, fsConstants.W_OK).catch(() => {
    throw new Error(`--upload-dir ${dir} is not writable`);
  });
  log.info(`files dropped by viewers go to ${dir}`);
  return new UploadDir(dir, log.child('upload'), { ...DEFAULT_UPLOAD_LIMITS, maxFileBytes: opts.maxUpload });
}

/** Raise the descriptor limit as far as allowed and say what it is (each connection takes one). */
function logFdLimit(log: Logger): void {
  const limit = raiseFdLimit();
  if (typeof limit === 'string') log.info(`descriptor limit unknown: ${limit}`);
  else if (limit.before !== limit.soft) log.info(`descriptor limit raised from ${limit.before} to ${limit.soft}`);
  else log.info(`descriptor limit ${limit.soft}`);
}

/** The remote-viewer command line that connects to this server. */
function viewerCommand(
  host: string,
  port: number | undefined,
  tlsPort: number | undefined,
  caPath: string | undefined,
  secured: boolean,
): string {
  if (tlsPort === undefined) return `remote-viewer spice://${host}:${port}`;
  const q = port !== undefined ? `port=${port}&tls-port=${tlsPort}` : `tls-port=${tlsPort}`;
  const all = secured || port === undefined ? ' --spice-secure-channels=all' : '';
  return `remote-viewer --spice-ca-file=${caPath}${all} 'spice://${host}?${q}'`;
}

async function loadTls(dir: string | undefined, log: Logger): Promise<{ material: TlsMaterial; caPath: string }> {
  if (dir !== undefined) return { material: await readCertificates(dir), caPath: tlsPaths(dir).ca };
  const stateDir = defaultStateDir();
  const { material, created } = await ensureCertificates(stateDir);
  if (created) log.info(`made a CA and a server certificate in ${stateDir} (viewers need ${tlsPaths(stateDir).ca})`);
  return { material, caPath: tlsPaths(stateDir).ca };
}

/** "all" or channel names -> channel types that must use TLS. */
function parseSecureChannels(names: string[] | undefined, haveTls: boolean): number[] {
  if (!names || names.length === 0) return [];
  if (!haveTls) throw new Error('--secure-channels needs --tls-port');
  if (names.includes('all')) {
    const { Main, Display, Inputs, Cursor, Playback, Record } = ChannelType;
    return [Main, Display, Inputs, Cursor, Playback, Record];
  }
  return names.map((n) => {
    const t = channelTypeByName(n);
    if (t === undefined)
      throw new Error(
        `unknown channel "${n}" in --secure-channels (main, display, inputs, cursor, playback, record, all)`,
      );
    return t;
  });
}

/** Stop the server and what the source started, once, on a signal or when the source ends. */
function installShutdown(
  server: SpiceServer,
  log: Logger,
  cleanup: () => Promise<void>,
): (reason: string, code: number) => void {
  let stopping = false;
  const stop = (reason: string, code: number): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${reason}: shutting down`);
    // Let a last NOTIFY reach the viewers before the sessions close.
    setTimeout(() => {
      server
        .stop()
        .then(cleanup)
        .then(
          () => process.exit(code),
          (err: unknown) => {
            log.error(`shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
            process.exit(1);
          },
        );
    }, 100);
  };
  process.on('SIGINT', () => stop('SIGINT', 0));
  process.on('SIGTERM', () => stop('SIGTERM', 0));
  return stop;
}
