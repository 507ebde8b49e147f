import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { collect, netnsSupport, spawnInNetns, spawnOnHost } from './netns.js';
import { toRunRecord, type RunRecord } from './report.js';
import type { MeasureConfig, MeasureResult } from './types.js';
import type { CoalescePolicy, CorkPolicy } from '../src/transport/policy.js';

export interface ReplayPlan {
  files: string[];
  modes: ('plain' | 'tls')[];
  coalesce: CoalescePolicy[];
  cork: CorkPolicy[];
  runs: number;
  pace: MeasureConfig['pace'];
  mtu: number;
  /** Channels the client opens (the comparison counts display + cursor). */
  channels: MeasureConfig['channels'];
  /** Channels whose counts are summed into a run's totals. */
  countChannels: string[];
  timeoutMs: number;
  /** Run on the host's loopback even where a namespace could be made. */
  host?: boolean;
}

export interface PlannedRun {
  config: MeasureConfig;
  run: number;
}

/** Every combination asked for; plain runs ignore the TLS coalescing policy (one per cork). */
export function expand(plan: ReplayPlan): PlannedRun[] {
  const out: PlannedRun[] = [];
  for (const file of plan.files) {
    for (const mode of plan.modes) {
      const coalesces = mode === 'plain' ? [plan.coalesce[0] ?? 'flush'] : plan.coalesce;
      for (const coalesce of coalesces) {
        for (const cork of plan.cork) {
          for (let run = 1; run <= plan.runs; run++) {
            out.push({
              run,
              config: {
                source: { kind: 'file', path: file },
                mode,
                coalesce,
                cork,
                pace: plan.pace,
                channels: plan.channels,
                timeoutMs: plan.timeoutMs,
              },
            });
          }
        }
      }
    }
  }
  return out;
}

export function workerPath(): string {
  const p = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (!existsSync(p)) throw new Error(`measurement worker not built: ${p} (run npm run build)`);
  return p;
}

export interface RunnerEvents {
  /** Before each run: index (0-based), total, the run. */
  onStart?(i: number, total: number, r: PlannedRun): void;
  onDone?(i: number, total: number, rec: RunRecord): void;
  onWarning?(message: string): void;
}

/** Run the plan, one worker process per run (in a fresh namespace each where permitted). */
export async function runPlan(plan: ReplayPlan, ev: RunnerEvents = {}): Promise<RunRecord[]> {
  const worker = workerPath();
  const ns = plan.host ? { ok: false, reason: 'asked for the host loopback (--host)' } : netnsSupport();
  if (!ns.ok)
    ev.onWarning?.(
      `measuring on the host loopback (MTU of lo, usually 65536), not in a namespace with MTU ${plan.mtu}: ${ns.reason}. Packet counts are not Ethernet-like.`,
    );
  const runs = expand(plan);
  const records: RunRecord[] = [];
  for (let i = 0; i < runs.length; i++) {
    const r = runs[i]!;
    ev.onStart?.(i, runs.length, r);
    const child = ns.ok
      ? spawnInNetns(worker, [JSON.stringify(r.config)], plan.mtu)
      : spawnOnHost(worker, [JSON.stringify(r.config)]);
    const out = await collect(child, plan.timeoutMs + 30_000);
    if (out.code !== 0)
      throw new Error(`run ${i + 1} (${describe(r)}) failed: ${out.stderr.trim().split('\n').slice(-5).join(' | ')}`);
    const result = JSON.parse(out.stdout) as MeasureResult;
    for (const w of result.warnings) ev.onWarning?.(w);
    const rec = toRunRecord(result, r.run, plan.countChannels);
    records.push(rec);
    ev.onDone?.(i, runs.length, rec);
  }
  return records;
}

export function describe(r: PlannedRun): string {
  const c = r.config;
  const src = c.source.kind === 'file' ? c.source.path.split('/').pop() : 'burst';
  return `${src} ${c.mode === 'plain' ? 'plain' : `tls/${c.coalesce}`} cork-${c.cork} run ${r.run}`;
}
