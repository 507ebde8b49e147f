/**
 * Every benchmark in one run: machine facts first, then the LZ codec, message codecs, Opus and
 * TLS stream results, as printed tables; `--json FILE` also writes them all as JSON.
 *
 *   npm run bench
 *   npm run bench -- --json bench-results.json
 *
 * Figures are comparable only within one run on one machine (docs/performance.md).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { formatAudioResults, runAudioBench } from './audio.js';
import { formatLzResults, runLzBench } from './lz.js';
import { formatMessageResults, runMessageBench } from './messages.js';
import { formatQuicResults, runQuicBench } from './quic.js';
import { formatTlsResults, runTlsBench } from './tls.js';
import { formatX11Results, runX11Bench } from './x11.js';

export interface MachineFacts {
  node: string;
  openssl: string;
  cpu: string;
  cores: number;
  /** 1-minute load average when the run started: other work on the machine adds noise. */
  loadAverage: number;
  memoryGiB: number;
  platform: string;
  date: string;
}

/** The CPU model as the kernel names it (os.cpus() may say less in containers). */
function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // not Linux: fall back to what Node knows
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

export function machineFacts(): MachineFacts {
  return {
    node: process.version,
    openssl: process.versions.openssl ?? 'unknown',
    cpu: cpuModel(),
    cores: os.availableParallelism(),
    loadAverage: os.loadavg()[0] ?? 0,
    memoryGiB: os.totalmem() / 2 ** 30,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
  };
}

export function formatMachineFacts(m: MachineFacts): string {
  return [
    `node ${m.node} (OpenSSL ${m.openssl}), ${m.platform}`,
    `CPU: ${m.cpu}, ${m.cores} cores available, ${m.memoryGiB.toFixed(1)} GiB RAM, load average ${m.loadAverage.toFixed(2)} at start`,
    `run at ${m.date}`,
  ].join('\n');
}

/** A suite run: its results (for JSON) and their printed table. */
interface SuiteRun {
  results: unknown[];
  text: string;
}

interface Suite {
  name: string;
  run: () => Promise<SuiteRun>;
}

/** Binds each suite's run and format functions together, so their result types stay matched. */
function suite<R>(name: string, run: () => Promise<R[]>, format: (results: R[]) => string): Suite {
  return {
    name,
    run: async () => {
      const results = await run();
      return { results, text: format(results) };
    },
  };
}

const SUITES: readonly Suite[] = [
  suite('lz', runLzBench, formatLzResults),
  suite('quic', runQuicBench, formatQuicResults),
  suite('messages', runMessageBench, formatMessageResults),
  suite('audio', runAudioBench, formatAudioResults),
  suite('tls', () => runTlsBench(), formatTlsResults),
  suite('x11', () => runX11Bench(), formatX11Results),
];

function parseArgs(argv: readonly string[]): { json: string | undefined } {
  if (argv.length === 0) return { json: undefined };
  if (argv.length === 2 && argv[0] === '--json') return { json: argv[1] };
  throw new Error('usage: run-all.js [--json FILE]');
}

async function main(): Promise<void> {
  const { json } = parseArgs(process.argv.slice(2));
  const machine = machineFacts();
  console.log(formatMachineFacts(machine));
  const results: Record<string, { seconds: number; results: unknown[] }> = {};
  for (const s of SUITES) {
    const start = performance.now();
    const r = await s.run();
    const seconds = (performance.now() - start) / 1000;
    results[s.name] = { seconds, results: r.results };
    console.log(`\n== ${s.name} (${seconds.toFixed(1)} s)\n${r.text}`);
  }
  if (json) {
    writeFileSync(json, JSON.stringify({ machine, results }, null, 2) + '\n');
    console.log(`\nresults written to ${json}`);
  }
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
