/**
 * Before/after for the TLS bench: rounds of another build's bench/tls.js (e.g. the previous commit)
 * and of this one, alternated in one process so that both see the same load, one round each at a
 * time. Ratios to node are paired: each spiced run against the node run of its own round.
 *
 *   git archive OLD_COMMIT | tar -x -C /tmp/spiced-old && ln -s "$PWD/node_modules" /tmp/spiced-old/
 *   npx tsc -p /tmp/spiced-old/tsconfig.build.json
 *   node dist/bench/tls-compare.js /tmp/spiced-old/dist --rounds 9 --only 'node tls (ceiling)' --only 'spiced on/flush'
 */
import { median } from './common.js';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runTlsBench, type TlsBenchOptions, type TlsBenchResult } from './tls.js';

type RunBench = (options: TlsBenchOptions) => Promise<TlsBenchResult[]>;

const DEFAULT_CASES = ['node tls (ceiling)', 'spiced on/flush', 'on/flush SpiceClient'];
const NEW_CASES = ['on/flush SpiceClient', 'on/flush fresh images'];

/** One line per build and case: medians over rounds, and every round's paired ratio. */
function format(rows: Map<string, TlsBenchResult[]>): string {
  const lines = [
    'build   case                       MB/s  x node (paired, per round)                  srv ms/MB  cli ms/MB  srv %  cli %',
  ];
  for (const [key, rs] of rows) {
    const m = (f: (r: TlsBenchResult) => number): number => median(rs.map(f));
    const rounds = rs.map((r) => r.ratioToNode.toFixed(2)).join(' ');
    lines.push(
      `${key.padEnd(34)} ${m((r) => r.MBps)
        .toFixed(0)
        .padStart(5)}  ${m((r) => r.ratioToNode).toFixed(2)} [${rounds}]`.padEnd(87) +
        `${m((r) => r.serverCpuMsPerMB)
          .toFixed(2)
          .padStart(9)}  ${m((r) => r.clientCpuMsPerMB)
          .toFixed(2)
          .padStart(9)}  ${m((r) => r.serverCpuPct)
          .toFixed(0)
          .padStart(5)}  ${m((r) => r.clientCpuPct)
          .toFixed(0)
          .padStart(5)}`,
    );
  }
  return lines.join('\n');
}

export async function compareTls(other: RunBench, rounds: number, only: readonly string[]): Promise<string> {
  const rows = new Map<string, TlsBenchResult[]>();
  const add = (build: string, results: TlsBenchResult[]): void => {
    for (const r of results) {
      const key = `${build.padEnd(7)} ${r.name}`;
      rows.set(key, [...(rows.get(key) ?? []), r]);
    }
  };
  for (let round = 0; round < rounds; round++) {
    // Cases added with this change are not in older builds.
    const older = only.filter((c) => !NEW_CASES.includes(c));
    if (older.length > 0) add('before', await other({ only: older, rounds: 1 }));
    add('after', await runTlsBench({ only, rounds: 1 }));
  }
  return format(new Map([...rows].sort(([a], [b]) => a.localeCompare(b))));
}

async function main(argv: readonly string[]): Promise<void> {
  const [dir, ...rest] = argv;
  if (!dir) throw new Error('usage: tls-compare.js OTHER_DIST_DIR [--rounds N] [--only CASE]...');
  let rounds = 9;
  const only: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--rounds') rounds = Number(rest[++i]);
    else if (rest[i] === '--only') only.push(rest[++i]!);
    else throw new Error(`unknown argument ${rest[i]}`);
  }
  const other = (await import(pathToFileURL(resolve(dir, 'bench', 'tls.js')).href)) as { runTlsBench: RunBench };
  console.log(await compareTls(other.runTlsBench, rounds, only.length > 0 ? only : DEFAULT_CASES));
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
