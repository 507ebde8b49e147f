import { existsSync, readFileSync } from 'node:fs';
import { decodePng } from '../src/display/png.js';
import { readRecording } from '../src/sources/recording/index.js';
import { SpiceClient } from '../src/client/client.js';
import type { ChannelClient } from '../src/channel-core/channel-client.js';
import { sameRgb, countRgbDifferences } from '../src/display/pixels.js';
import { ChannelType, channelName } from '../src/protocol/constants.js';
import { makeCertificates } from '../src/server/certs.js';
import { SpiceServer } from '../src/server/server.js';
import { FeedSource } from '../src/sources/feed.js';
import type { Conduit } from '../src/transport/conduit.js';
import type { TcpInfo } from '../src/transport/sockopt.js';
import { burstFrame, burstSetup } from './burst.js';
import type { ChannelCounts, MeasureConfig, MeasureResult } from './types.js';
import { WireRecorder } from './wire-recorder.js';

/*
 * One measurement, run in its own process (inside a network namespace when the runner can make
 * one): start a server fed by FeedSource, connect the project's client, play the commands, wait
 * until every byte is delivered and acknowledged, and print a MeasureResult as JSON on stdout.
 */

const CHANNELS: Record<string, number> = {
  display: ChannelType.Display,
  cursor: ChannelType.Cursor,
  playback: ChannelType.Playback,
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The server's connection for a channel type (the client opens one of each). */
function serverSide(server: SpiceServer, type: number): ChannelClient | undefined {
  return server.clients().find((c) => c.channelType === type);
}

/** True when the server owes the client nothing more on this channel and the client holds every byte sent. */
function delivered(server: SpiceServer, client: SpiceClient, type: number): boolean {
  const s = serverSide(server, type);
  const c = client.channels.get(type);
  if (!s || !c) return true;
  return s.idle && s.stream.counters.plaintextBytes === c.stats.bytes;
}

async function waitDelivered(
  server: SpiceServer,
  client: SpiceClient,
  types: number[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!types.every((t) => delivered(server, client, t))) {
    if (Date.now() > deadline) throw new Error(`not delivered within ${timeoutMs} ms`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Wait until the kernel has nothing unsent or unacknowledged on every measured socket. */
async function waitAcked(clients: ChannelClient[]): Promise<void> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const infos = clients.map((c) => c.stream.tcpInfo());
    if (infos.every((t) => !t || (t.notsentBytes === 0 && t.bytesAcked === t.bytesSent))) return;
    if (Date.now() > deadline) return;
    await sleep(10);
  }
}

function counts(c: ChannelClient, t: TcpInfo | undefined, rec: WireRecorder): ChannelCounts {
  const s = c.stream.snapshot();
  const hs = rec.handshakeTcp;
  // The handshake's bytes include the TLS 1.3 session tickets (handshake messages sent once per
  // connection, often with the first SPICE data): the kernel's total less the data's own ciphertext.
  const hsBytes = rec.handshakeBytes ?? hs?.bytesSent ?? 0;
  const mss = t?.sndMss ?? 1448;
  const packets = t ? t.segsOut - t.totalRetrans : 0;
  // The stream's flushes at their fewest packets, plus what the link stage had already sent.
  const ideal = (rec.dataPacketsBefore ?? 0) + rec.flushWire.reduce((n, b) => n + Math.ceil((b ?? 0) / mss), 0);
  return {
    packets,
    dataPackets: t ? t.dataSegsOut - t.totalRetrans : 0,
    payloadBytes: t ? t.bytesSent - t.bytesRetrans : s.wireBytes,
    wireBytes: (t ? t.bytesSent - t.bytesRetrans : s.wireBytes) + 66 * packets,
    retransmits: t?.totalRetrans ?? 0,
    tlsRecords: s.tlsRecords,
    idealPackets: ideal,
    handshakePackets: hs ? hs.segsOut : 0,
    handshakeBytes: hsBytes,
    messages: s.messages,
    iovecs: s.iovecs,
    flushes: s.flushes,
    units: s.units,
    plaintextBytes: s.plaintextBytes,
    mss,
  };
}

/**
 * Feed a recording with the requested pacing. Targets are absolute (start + n x pace) so timer
 * jitter does not accumulate; `asap` yields to the event loop every few commands so the server
 * sends while it is being fed.
 */
async function playFile(
  path: string,
  pace: MeasureConfig['pace'],
  feed: FeedSource,
  delivered: () => Promise<void>,
): Promise<number> {
  let n = 0;
  let first: bigint | undefined;
  const start = performance.now();
  for await (const { timeNs, command } of readRecording(path)) {
    first ??= timeNs;
    if (pace === 'realtime') await sleepUntil(start + Number(timeNs - first) / 1e6);
    else if (typeof pace === 'number') await sleepUntil(start + n * pace);
    else if (pace === 'asap' && n % 16 === 15) await new Promise((r) => setImmediate(r));
    feed.push(command);
    n++;
    if (pace === 'lockstep') await delivered();
  }
  return n;
}

async function sleepUntil(t: number): Promise<void> {
  const wait = t - performance.now();
  if (wait > 0) await sleep(wait);
}

async function play(
  cfg: MeasureConfig,
  feed: FeedSource,
  server: SpiceServer,
  client: SpiceClient,
  types: number[],
): Promise<number> {
  if (cfg.source.kind === 'file')
    return playFile(cfg.source.path, cfg.pace, feed, () => waitDelivered(server, client, types, cfg.timeoutMs));
  let n = 0;
  for (let k = 1; k <= cfg.source.frames; k++) {
    for (const cmd of burstFrame(k)) {
      feed.push(cmd);
      n++;
    }
    // The burst is paced by delivery: every frame is one pipe flush.
    await waitDelivered(server, client, types, cfg.timeoutMs);
  }
  return n;
}

/** The screenshot spice-server recordings come with (FILE.spicerec[.xz] -> FILE.png). */
function expectedPng(cfg: MeasureConfig): string | undefined {
  if (cfg.source.kind !== 'file') return undefined;
  const png = cfg.source.path.replace(/\.(spicerec|spicedrec)(\.(xz|gz))?$/, '.png');
  return png !== cfg.source.path && existsSync(png) ? png : undefined;
}

/**
 * The client's final framebuffer must equal the server's, and the server's must equal the
 * recording's own final frame where one is known.
 */
function compareFrames(
  cfg: MeasureConfig,
  server: SpiceServer,
  client: SpiceClient,
): { frameMatch: boolean; frameDetail: string } {
  const primary = server.desktop.primary;
  const shown = client.display.primary;
  if (!primary || !shown) return { frameMatch: false, frameDetail: `no ${primary ? 'client' : 'server'} frame` };
  if (client.errors.length > 0)
    return { frameMatch: false, frameDetail: `client errors: ${client.errors.slice(0, 3).join('; ')}` };
  if (!sameRgb(primary, shown))
    return {
      frameMatch: false,
      frameDetail: `${countRgbDifferences(primary, shown)} pixels differ between client and server`,
    };
  const png = expectedPng(cfg);
  if (png) {
    const want = decodePng(readFileSync(png));
    if (!sameRgb(want, primary))
      return { frameMatch: false, frameDetail: `${countRgbDifferences(want, primary)} pixels differ from ${png}` };
    return { frameMatch: true, frameDetail: `identical to ${png}` };
  }
  return { frameMatch: true, frameDetail: 'client identical to server' };
}

export async function measure(cfg: MeasureConfig): Promise<MeasureResult> {
  const warnings: string[] = [];
  const tls = cfg.mode === 'tls' ? await makeCertificates(['127.0.0.1']) : undefined;
  const feed = new FeedSource('measure');
  if (cfg.source.kind === 'burst') for (const c of burstSetup()) feed.push(c);
  const recorders = new Map<Conduit, WireRecorder>();
  const record = (conduit: Conduit): WireRecorder => {
    const r = new WireRecorder(conduit);
    recorders.set(conduit, r);
    return r;
  };
  const server = new SpiceServer({
    source: feed,
    port: tls ? null : 0,
    tlsPort: tls ? 0 : null,
    tls,
    policy: { cork: cfg.cork, coalesce: cfg.coalesce },
    wireMeter: record,
    pingIntervalSeconds: 0,
    client: { stallTimeoutMs: cfg.timeoutMs },
    // Lossless whatever the link estimate says: a loaded machine can measure loopback under the
    // lossy threshold, and JPEG would change the figures (and the frame until its refresh).
    display: { imageQuality: 'lossless' },
  });
  await server.start();
  const types = cfg.channels.map((c) => CHANNELS[c]!);
  const client = new SpiceClient({ port: server.port, tls: tls ? { ca: tls.ca } : undefined, channels: types });
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  await client.connect();
  // The display channel starts after DISPLAY_INIT: play only once it is ready (and, when the
  // burst drew a screen already, once that first frame is in).
  if (types.includes(ChannelType.Display)) {
    await client.waitFor(
      () => server.display.clients.size > 0 && [...server.display.clients].every((c) => c.isReady),
      cfg.timeoutMs,
      'the display channel',
    );
    if (server.desktop.primary) await client.waitFor(() => client.display.marks > 0, cfg.timeoutMs, 'the first frame');
  }
  await waitDelivered(server, client, types, cfg.timeoutMs);
  const commands = await play(cfg, feed, server, client, types);
  await waitDelivered(server, client, types, cfg.timeoutMs);
  const wallMs = Date.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const measured = server.clients();
  await waitAcked(measured);
  const channels: Record<string, ChannelCounts> = {};
  for (const c of measured)
    channels[channelName(c.channelType)] = counts(c, c.stream.tcpInfo(), recorders.get(c.stream.conduit)!);
  if (measured.some((c) => c.stream.tcpInfo() === undefined))
    warnings.push('TCP_INFO unavailable (koffi not loaded): packet counts are missing');
  const { frameMatch, frameDetail } = compareFrames(cfg, server, client);
  const display = serverSide(server, ChannelType.Display);
  const displayUnits = (display && recorders.get(display.stream.conduit)?.unitSizes) ?? [];
  client.close();
  await server.stop();
  return {
    config: cfg,
    channels,
    frameMatch,
    frameDetail,
    commands,
    wallMs,
    processCpuMs: (cpu.user + cpu.system) / 1000,
    displayUnits,
    warnings,
  };
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (!arg) throw new Error('usage: worker.js CONFIG_JSON_OR_FILE');
  const cfg = JSON.parse(arg.startsWith('{') ? arg : readFileSync(arg, 'utf8')) as MeasureConfig;
  const result = await measure(cfg);
  process.stdout.write(JSON.stringify(result) + '\n');
}

if (import.meta.url === new URL(process.argv[1] ?? '', 'file://').href) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`measurement failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
