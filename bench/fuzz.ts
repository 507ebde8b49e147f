/**
 * The mutation fuzzer against running spiced servers (issue 12): `npm run fuzz -- --minutes 30`.
 * Prints cases run, crashes, hangs, the worst healthy-viewer latency and the servers' peak RSS;
 * crash and hang candidates go to --crash-dir. Exit status 1 when anything crashed or hung.
 */
import { Command } from 'commander';
import { runFuzz, type FuzzReport } from './fuzz/run.js';
import { loadIncident, replayCases } from './fuzz/replay.js';

const program = new Command('fuzz')
  .option('--minutes <n>', 'how long to fuzz', '1')
  .option('--seconds <n>', 'how long to fuzz (overrides --minutes)')
  .option('--seed <n>', 'seed of every random choice', '12')
  .option('--concurrency <n>', 'cases in flight at once', '16')
  .option('--deadline <ms>', 'healthy viewer deadline', '10000')
  .option('--crash-dir <dir>', 'where crash and hang candidates are written', 'fuzz-crashes')
  .option('--replay <file>', 'replay a saved incident case by case on fresh servers instead of fuzzing')
  .parse();
const opts = program.opts<{
  minutes: string;
  seconds?: string;
  seed: string;
  concurrency: string;
  deadline: string;
  crashDir: string;
  replay?: string;
}>();

if (opts.replay) {
  const incident = loadIncident(opts.replay);
  const v = await replayCases(incident.cases, Number(opts.deadline));
  console.log(
    `${opts.replay} (${incident.kind}, ${incident.cases.length} cases): ` +
      (v.what === 'none'
        ? 'the servers survived every case'
        : `${v.what} after case ${v.failedAt}: ${v.detail.slice(-2000)}`),
  );
  process.exit(v.what === 'none' ? 0 : 1);
}

const seconds = opts.seconds !== undefined ? Number(opts.seconds) : Number(opts.minutes) * 60;
const line = (r: FuzzReport): string =>
  `${r.seconds.toFixed(0)} s: ${r.cases} cases (${(r.cases / Math.max(1, r.seconds)).toFixed(0)}/s), ` +
  `${r.crashes} crashes, ${r.hangs} hangs, worst healthy viewer ${r.worstHealthyMs.toFixed(0)} ms ` +
  `(${r.healthChecks} checks, ${r.slowChecks} slow), peak RSS ${(r.maxRssBytes / 2 ** 20).toFixed(1)} MB`;

const report = await runFuzz({
  seconds,
  seed: Number(opts.seed),
  concurrency: Number(opts.concurrency),
  healthDeadlineMs: Number(opts.deadline),
  crashDir: opts.crashDir,
  log: (l) => console.log(l),
  onProgress: (r) => console.log(line(r)),
});
console.log(`\nfuzz done: ${line(report)}`);
console.log(
  `cases by delivery: ${Object.entries(report.byMode)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}; closed by the server: ${report.closedByServer}`,
);
console.log('RSS over time (MB), open / password server:');
for (const r of report.rssTimeline) {
  console.log(
    `  ${r.seconds.toFixed(0).padStart(5)} s  ${(r.open / 2 ** 20).toFixed(1)} / ${(r.password / 2 ** 20).toFixed(1)}`,
  );
}
if (report.incidents.length > 0) console.log(`incidents: ${report.incidents.join(', ')}`);
process.exit(report.crashes + report.hangs > 0 ? 1 : 0);
