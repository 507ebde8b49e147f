import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChannelType, channelName } from '../../src/protocol/index.js';
import {
  deliverLinked,
  deliverTcp,
  wsFrames,
  wsHandshake,
  DELIVERY_MODES,
  type CaseOutcome,
  type DeliveryMode,
} from './deliver.js';
import { AnchorSession, checkHealth, type HealthResult } from './health.js';
import { makeRng, mutate, pick, type Rng } from './mutate.js';
import { recordSession, type RecordedChannel } from './session.js';
import { FUZZ_PASSWORD, ServerTarget } from './target.js';

/*
 * The mutation fuzzer: two spiced servers (without and with a password) as child processes, a
 * recorded session of each as seeds, mutants sent by several workers at once on fresh connections,
 * a fresh healthy viewer every second per server, RSS sampled twice a second. A crash (the server
 * exits) or a hang (the healthy viewer gets no frame in time while the server still runs) is
 * counted, the recent cases are saved as candidates, and the server restarts.
 */

export interface FuzzOptions {
  seconds: number;
  seed: number;
  /** Cases in flight at once. */
  concurrency: number;
  /** Healthy viewer deadline (ms). */
  healthDeadlineMs: number;
  /** Where crash and hang candidates are written (a directory); undefined keeps them in memory. */
  crashDir?: string;
  log?: (line: string) => void;
  /** Called once the servers run (tests use it to kill one). */
  onStart?: (targets: ServerTarget[]) => void;
  /** Called every few seconds with the figures so far. */
  onProgress?: (r: FuzzReport) => void;
}

export interface FuzzCase {
  target: 'open' | 'password';
  mode: DeliveryMode;
  channelType: number;
  mutation: string;
  /** What goes on the wire (linked: the bytes after a real link). */
  bytes: Buffer;
}

export interface FuzzReport {
  cases: number;
  byMode: Record<string, number>;
  closedByServer: number;
  crashes: number;
  hangs: number;
  healthChecks: number;
  /** Health checks that failed once and passed on the second try (load, not a hang). */
  slowChecks: number;
  worstHealthyMs: number;
  maxRssBytes: number;
  /** Each server's RSS once a minute (bytes; 0 while restarting): growth shows here, not in the peak. */
  rssTimeline: { seconds: number; open: number; password: number }[];
  /** Saved candidate files (crash or hang), one per incident. */
  incidents: string[];
  seconds: number;
}

const RECENT = 64;

interface Arena {
  name: 'open' | 'password';
  target: ServerTarget;
  password: string | undefined;
  seeds: RecordedChannel[];
  anchor: AnchorSession;
  recent: FuzzCase[];
  /** A crash or hang is being handled: workers leave this server alone until it is back. */
  restarting: Promise<void> | undefined;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const log = o.log ?? (() => {});
  const report: FuzzReport = {
    cases: 0,
    byMode: {},
    closedByServer: 0,
    crashes: 0,
    hangs: 0,
    healthChecks: 0,
    slowChecks: 0,
    worstHealthyMs: 0,
    maxRssBytes: 0,
    rssTimeline: [],
    incidents: [],
    seconds: 0,
  };
  const arenas: Arena[] = [];
  for (const [name, password] of [
    ['open', undefined],
    ['password', FUZZ_PASSWORD],
  ] as const) {
    const target = new ServerTarget({ password });
    const arena: Arena = {
      name,
      target,
      password,
      seeds: [],
      anchor: new AnchorSession(() => target.port, password),
      recent: [],
      restarting: undefined,
    };
    target.onExit((e) => {
      report.crashes++;
      log(`CRASH of the ${name} server (code ${e.code}, signal ${e.signal}):\n${e.output.slice(-3000)}`);
      incident(arena, 'crash', e.output);
    });
    arenas.push(arena);
  }

  const incident = (arena: Arena, kind: 'crash' | 'hang', detail: string): void => {
    const file = saveCandidates(o.crashDir, kind, arena.recent, detail);
    report.incidents.push(file);
    log(`${kind}: ${arena.recent.length} recent cases saved to ${file}`);
    arena.restarting ??= restart(arena).finally(() => (arena.restarting = undefined));
  };

  const restart = async (arena: Arena): Promise<void> => {
    arena.anchor.close();
    await arena.target.stop();
    await arena.target.start();
    arena.seeds = await recordSession(arena.target.port, arena.password);
    arena.recent = [];
  };

  for (const arena of arenas) {
    await arena.target.start();
    arena.seeds = await recordSession(arena.target.port, arena.password);
    log(
      `${arena.name} server on port ${arena.target.port} (pid ${arena.target.pid}): ` +
        `${arena.seeds.length} channels recorded (${seedList(arena.seeds)})`,
    );
  }

  o.onStart?.(arenas.map((a) => a.target));
  const started = performance.now();
  const until = started + o.seconds * 1000;
  const running = (): boolean => performance.now() < until;

  const sampler = setInterval(() => {
    for (const a of arenas) report.maxRssBytes = Math.max(report.maxRssBytes, a.target.rss());
  }, 500);
  const timeline = (): void => {
    const [open, password] = arenas.map((a) => a.target.rss());
    report.rssTimeline.push({ seconds: (performance.now() - started) / 1000, open: open!, password: password! });
  };
  timeline();
  const minutely = setInterval(timeline, 60_000);
  const progress = setInterval(() => {
    report.seconds = (performance.now() - started) / 1000;
    o.onProgress?.(report);
  }, 5000);

  const healthLoop = async (arena: Arena): Promise<void> => {
    while (running()) {
      await sleep(1000);
      if (arena.restarting) {
        await arena.restarting;
        continue;
      }
      const h = await healthOrHang(arena);
      if (arena.restarting || h === undefined) continue;
      report.healthChecks++;
      if (h.ok) {
        report.worstHealthyMs = Math.max(report.worstHealthyMs, h.ms);
      } else if (arena.target.running) {
        report.hangs++;
        log(`HANG of the ${arena.name} server: healthy viewer failed twice (${h.error})`);
        incident(arena, 'hang', `${h.error ?? ''}\nserver output:\n${arena.target.recentOutput()}`);
      }
    }
  };

  /**
   * A check, and when it fails a second one with twice the deadline: on a loaded machine one late
   * frame is load (counted in `slowChecks`); a server that stops serving fails both. Undefined
   * when the server restarted meanwhile.
   */
  const healthOrHang = async (arena: Arena): Promise<HealthResult | undefined> => {
    const first = await checkHealth(arena.target.port, arena.password, o.healthDeadlineMs);
    if (first.ok || arena.restarting) return first;
    report.slowChecks++;
    log(`slow healthy viewer on the ${arena.name} server (${first.error}); checking again`);
    const second = await checkHealth(arena.target.port, arena.password, 2 * o.healthDeadlineMs);
    if (arena.restarting) return undefined;
    return second.ok ? { ...second, ms: first.ms + second.ms } : second;
  };

  const worker = async (wrng: Rng): Promise<void> => {
    while (running()) {
      const arena = pick(wrng, arenas);
      if (arena.restarting) {
        await arena.restarting;
        continue;
      }
      const c = await makeCase(arena, wrng);
      arena.recent.push(c);
      if (arena.recent.length > RECENT) arena.recent.shift();
      const outcome = await deliverCase(arena, c, wrng);
      report.cases++;
      report.byMode[c.mode] = (report.byMode[c.mode] ?? 0) + 1;
      if (outcome.closedByServer) report.closedByServer++;
    }
  };

  const workers = Array.from({ length: o.concurrency }, (_, i) => worker(makeRng(o.seed * 7919 + i + 1)));
  await Promise.all([...workers, ...arenas.map(healthLoop)]);
  // Let in-flight restarts finish so the last incident is handled before the final check.
  for (const a of arenas) await a.restarting;
  clearInterval(sampler);
  clearInterval(progress);
  clearInterval(minutely);
  timeline();
  for (const a of arenas) report.maxRssBytes = Math.max(report.maxRssBytes, a.target.rss());
  report.seconds = (performance.now() - started) / 1000;

  // A last healthy viewer on each server, then stop them.
  for (const a of arenas) {
    const h = (await healthOrHang(a)) ?? { ok: false, ms: 0, error: 'restarted at the end' };
    report.healthChecks++;
    if (!h.ok && a.target.running) {
      report.hangs++;
      log(`HANG at the end on the ${a.name} server: ${h.error}`);
    } else if (h.ok) report.worstHealthyMs = Math.max(report.worstHealthyMs, h.ms);
    a.anchor.close();
    await a.target.stop();
  }
  return report;
}

async function makeCase(arena: Arena, rng: Rng): Promise<FuzzCase> {
  const seed = pick(rng, arena.seeds);
  const donor = pick(rng, arena.seeds).bytes;
  const mode = pick(rng, DELIVERY_MODES);
  if (mode === 'linked') {
    const data = seed.bytes.subarray(seed.linkEnd);
    const m = mutate(rng, data, 0, donor);
    return { target: arena.name, mode, channelType: seed.channelType, mutation: m.name, bytes: m.bytes };
  }
  const m = mutate(rng, seed.bytes, seed.linkEnd, donor);
  if (mode === 'tcp')
    return { target: arena.name, mode, channelType: seed.channelType, mutation: m.name, bytes: m.bytes };
  if (mode === 'ws') {
    return {
      target: arena.name,
      mode,
      channelType: seed.channelType,
      mutation: m.name,
      bytes: Buffer.concat([wsHandshake(arena.target.port), wsFrames(m.bytes, rng)]),
    };
  }
  // ws-frames: the handshake and framing themselves are mutated.
  const wrapped = Buffer.concat([wsHandshake(arena.target.port), wsFrames(seed.bytes, rng)]);
  const w = mutate(rng, wrapped, 0, donor);
  return { target: arena.name, mode, channelType: seed.channelType, mutation: `framing:${w.name}`, bytes: w.bytes };
}

function deliverCase(arena: Arena, c: FuzzCase, rng: Rng): Promise<CaseOutcome> {
  return deliverTo(arena.target.port, arena.anchor, arena.password, c, rng);
}

/** Send one case to the server on `port` (linked cases present the anchor's session id). */
export async function deliverTo(
  port: number,
  anchor: AnchorSession,
  password: string | undefined,
  c: FuzzCase,
  rng: Rng,
): Promise<CaseOutcome> {
  if (c.mode !== 'linked') return deliverTcp(port, c.bytes, rng);
  const session = c.channelType === ChannelType.Main ? 0 : await anchor.sessionId();
  if (session === undefined) return { closedByServer: true, linkFailed: true };
  return deliverLinked(port, c.channelType, session, password ?? '', c.bytes, rng);
}

function saveCandidates(dir: string | undefined, kind: string, cases: readonly FuzzCase[], detail: string): string {
  const doc = {
    kind,
    detail: detail.slice(-4000),
    cases: cases.map((c) => ({ ...c, bytes: c.bytes.toString('base64') })),
  };
  const text = JSON.stringify(doc, null, 1);
  const name = `${kind}-${createHash('sha256').update(text).digest('hex').slice(0, 12)}.json`;
  if (!dir) return name;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

function seedList(seeds: readonly RecordedChannel[]): string {
  return seeds.map((s) => `${channelName(s.channelType)}:${s.bytes.length}B`).join(', ');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
