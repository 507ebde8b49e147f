import { PerformanceObserver, constants as perfConstants, type PerformanceEntry } from 'node:perf_hooks';
import type { Channel } from '../channel-core/channel.js';
import type { SpiceServer } from './server.js';

/**
 * One JSON line per interval about the server process, for soak runs (`serve --stats-interval`):
 * memory, CPU, garbage collection and what the live connections have sent. Long sessions are
 * judged on these (does RSS stay flat, do full collections pile up), and only the process itself
 * can see its heap and its collections.
 */
export interface PeriodicStats {
  type: 'stats';
  /** Milliseconds since the stats started. */
  t: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** Process CPU (user + system, every thread) in ms since the process started. */
  cpuMs: number;
  /** Sessions (viewers) connected now. */
  viewers: number;
  /** SPICE bytes (headers included, before any TLS) sent so far by the connections open now. */
  bytesSent: number;
  /** Collections in this interval: mark-sweep-compact (full) and the others, with their pause time. */
  gcFull: number;
  gcFullMs: number;
  gcOther: number;
  gcOtherMs: number;
}

interface GcTally {
  full: number;
  fullMs: number;
  other: number;
  otherMs: number;
}

function liveChannels(server: SpiceServer): Channel[] {
  const all: (Channel | undefined)[] = [server.main, server.display, server.cursor, server.inputs, server.playback];
  return all.filter((c): c is Channel => c !== undefined);
}

function bytesSent(server: SpiceServer): number {
  let sum = 0;
  for (const ch of liveChannels(server)) for (const c of ch.clients) sum += c.stream.counters.plaintextBytes;
  return sum;
}

/** Counts collections as V8 reports them (a 'gc' performance entry per pause). */
function watchGc(tally: GcTally): PerformanceObserver {
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      // Node puts the collection's kind in `detail` (typed as unknown on PerformanceEntry).
      const kind = ((e as PerformanceEntry & { detail?: { kind?: number } }).detail ?? {}).kind;
      if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) {
        tally.full++;
        tally.fullMs += e.duration;
      } else {
        tally.other++;
        tally.otherMs += e.duration;
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return observer;
}

/** Write a stats line every `intervalMs` until the returned stop() is called. */
export function startPeriodicStats(server: SpiceServer, intervalMs: number, write: (line: string) => void): () => void {
  const started = performance.now();
  const tally: GcTally = { full: 0, fullMs: 0, other: 0, otherMs: 0 };
  const observer = watchGc(tally);
  const timer = setInterval(() => {
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    const line: PeriodicStats = {
      type: 'stats',
      t: Math.round(performance.now() - started),
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      heapTotal: mem.heapTotal,
      external: mem.external,
      arrayBuffers: mem.arrayBuffers,
      cpuMs: (cpu.user + cpu.system) / 1000,
      viewers: server.sessions.size,
      bytesSent: bytesSent(server),
      gcFull: tally.full,
      gcFullMs: tally.fullMs,
      gcOther: tally.other,
      gcOtherMs: tally.otherMs,
    };
    Object.assign(tally, { full: 0, fullMs: 0, other: 0, otherMs: 0 });
    write(JSON.stringify(line));
  }, intervalMs);
  // Stats never keep the process alive on their own.
  timer.unref();
  return () => {
    clearInterval(timer);
    observer.disconnect();
  };
}
