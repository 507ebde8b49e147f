import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { chartSvg } from '../../replay/chart.js';
import { formatChannels, formatSummary, runLine, summarize, type RunRecord } from '../../replay/report.js';
import { describe, runPlan, type PlannedRun, type ReplayPlan } from '../../replay/runner.js';
import { parseCoalescePolicy, parseCorkPolicy } from '../transport/policy.js';
import { parseList, parsePositive } from './options.js';

interface ReplayOptions {
  mode: string[];
  tlsCoalesce: string[];
  cork: string[];
  runs: number;
  pace: string;
  mtu: number;
  channels: string[];
  json?: string;
  chart?: string;
  host?: boolean;
  timeout: number;
}

function parsePace(v: string): ReplayPlan['pace'] {
  if (v === 'asap' || v === 'realtime' || v === 'lockstep') return v;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError('expected asap, realtime, lockstep or a number of milliseconds');
  return n;
}

function parseModes(list: string[]): ('plain' | 'tls')[] {
  return list.map((m) => {
    if (m !== 'plain' && m !== 'tls') throw new Error(`unknown mode "${m}" (plain, tls)`);
    return m;
  });
}

/** A one-line progress bar on a terminal; plain lines otherwise (CI logs). */
function progress(): {
  start(i: number, total: number, r: PlannedRun): void;
  done(i: number, total: number, rec: RunRecord): void;
  end(): void;
} {
  const tty = process.stderr.isTTY;
  const bar = (i: number, total: number): string => {
    const width = 24;
    const filled = Math.round((i / total) * width);
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${i}/${total}`;
  };
  return {
    start(i, total, r) {
      if (tty) process.stderr.write(`\r\x1b[2K${bar(i, total)} ${describe(r)}`);
    },
    done(i, total, rec) {
      if (tty) process.stderr.write(`\r\x1b[2K`);
      process.stdout.write(runLine(rec) + '\n');
      if (tty) process.stderr.write(bar(i + 1, total));
    },
    end() {
      if (tty) process.stderr.write('\r\x1b[2K');
    },
  };
}

export function replayCommand(): Command {
  return new Command('replay')
    .description(
      "feed recorded sessions (spiced recordings or spice-server SPICE_REPLAY files) through the server to the project's client and count server-to-client packets and bytes per configuration",
    )
    .argument('<file...>', 'recordings (.spicedrec, .spicerec, .spicerec.xz)')
    .option('--mode <list>', 'plain, tls or both', parseList, ['plain', 'tls'])
    .option('--tls-coalesce <list>', 'TLS coalescing policies to measure: none, small, flush', parseList, ['flush'])
    .option('--cork <list>', 'cork policies to measure: off, on, kernel', parseList, ['on'])
    .option('--runs <n>', 'runs per configuration', (v) => Math.max(1, Math.floor(parsePositive(v))), 3)
    .option(
      '--pace <asap|realtime|lockstep|ms>',
      'command pacing: as fast as the server takes them, recorded timing, each delivered before the next (identical flushes in every mode), or a fixed gap in ms',
      '5',
    )
    .option('--mtu <bytes>', 'MTU of the namespace loopback', (v) => Math.floor(parsePositive(v)), 1500)
    .option('--channels <list>', 'channels the client opens and the totals count', parseList, ['display', 'cursor'])
    .option('--json <file>', 'write {"runs": [...], "summary": [...]} to FILE')
    .option('--chart <file.svg>', 'write an SVG chart of the summary')
    .option('--host', 'measure on the host loopback instead of a private network namespace')
    .option('--timeout <seconds>', 'give up on a run after this long', (v) => parsePositive(v), 300)
    .addHelpText(
      'after',
      `
Each run happens in its own process inside a private network namespace (unshare -rn) whose
loopback has the given MTU, so packet counts are Ethernet-like; packets and bytes come from the
kernel (TCP_INFO), retransmissions excluded, wire bytes = payload + 66 per packet. The exit
status is non-zero when any run's final frame differs from the recording's.

Example:
  spiced replay recordings/*.spicerec.xz --mode plain,tls --tls-coalesce none,flush --cork off,on --runs 3 --json out.json --chart out.svg`,
    )
    .action(async (files: string[], opts: ReplayOptions) => {
      const ok = await runReplay(files, opts);
      if (!ok) process.exitCode = 2;
    });
}

/** Channels the client opens on request; main is always open (and may be counted). */
const OPENED: readonly string[] = ['display', 'cursor', 'playback'];
type OpenedChannel = 'display' | 'cursor' | 'playback';

async function runReplay(files: string[], opts: ReplayOptions): Promise<boolean> {
  const unknown = opts.channels.filter((c) => c !== 'main' && !OPENED.includes(c));
  if (unknown.length > 0)
    throw new Error(`--channels: unknown channel ${unknown.join(', ')} (choose from main, ${OPENED.join(', ')})`);
  const plan: ReplayPlan = {
    files,
    modes: parseModes(opts.mode),
    coalesce: opts.tlsCoalesce.map(parseCoalescePolicy),
    cork: opts.cork.map(parseCorkPolicy),
    runs: opts.runs,
    pace: parsePace(opts.pace),
    mtu: opts.mtu,
    channels: opts.channels.filter((c): c is OpenedChannel => OPENED.includes(c)),
    countChannels: opts.channels,
    timeoutMs: opts.timeout * 1000,
    host: opts.host ?? false,
  };
  const bar = progress();
  const runs = await runPlan(plan, {
    onStart: bar.start,
    onDone: bar.done,
    onWarning: (w) => process.stderr.write(`warning: ${w}\n`),
  });
  bar.end();
  const summary = summarize(runs);
  process.stdout.write(
    `\nsummary (${opts.channels.join(' + ')}; median [min-max] over ${plan.runs} run(s), pace ${opts.pace}):\n${formatSummary(summary)}\n`,
  );
  process.stdout.write(`\nper channel (main included; handshakes included):\n${formatChannels(runs)}\n`);
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ runs, summary }, null, 1));
  if (opts.chart)
    writeFileSync(
      opts.chart,
      chartSvg(summary, `spiced replay: ${opts.channels.join(' + ')}, pace ${opts.pace}, MTU ${plan.mtu}`),
    );
  const bad = runs.filter((r) => !r.frameMatch);
  for (const r of bad) process.stderr.write(`final frame mismatch: ${runLine(r)}\n`);
  return bad.length === 0;
}
