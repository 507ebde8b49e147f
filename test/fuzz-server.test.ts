import { describe, expect, it } from 'vitest';
import type { ServerTarget } from '../bench/fuzz/target.js';
import { runFuzz } from '../bench/fuzz/run.js';
import { tempDir } from './helpers/tools.js';

/*
 * Issue 12, the CI form of `npm run fuzz`: a minute of mutated sessions against two running
 * servers (with and without a password), fixed seed. No server may exit, every healthy viewer
 * must get a frame, and the servers' RSS must stay under 300 MB while attacked.
 * FUZZ_SECONDS changes the length (the full run is `npm run fuzz -- --minutes 30`).
 */

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 60);

describe('mutation fuzzer against running servers', () => {
  it(
    `${SECONDS} s of mutants: no crash, no hang, RSS < 300 MB`,
    async () => {
      const lines: string[] = [];
      const report = await runFuzz({
        seconds: SECONDS,
        seed: 12,
        concurrency: 16,
        healthDeadlineMs: 15_000,
        crashDir: tempDir('spiced-fuzz-'),
        log: (l) => lines.push(l),
      });
      const summary =
        `${report.cases} cases, ${report.crashes} crashes, ${report.hangs} hangs, ` +
        `worst healthy ${report.worstHealthyMs.toFixed(0)} ms, ` +
        `peak RSS ${(report.maxRssBytes / 2 ** 20).toFixed(1)} MB\n` +
        lines.join('\n');
      expect(report.crashes, summary).toBe(0);
      expect(report.hangs, summary).toBe(0);
      expect(report.maxRssBytes, summary).toBeLessThan(300 * 2 ** 20);
      // The run did reach the server: cases on every delivery path, healthy viewers checked.
      expect(report.cases, summary).toBeGreaterThan(SECONDS * 10);
      for (const mode of ['tcp', 'ws', 'ws-frames', 'linked']) expect(report.byMode[mode], mode).toBeGreaterThan(0);
      expect(report.healthChecks, summary).toBeGreaterThan(SECONDS / 4);
    },
    (SECONDS + 120) * 1000,
  );

  it('counts a server that dies as a crash, saves the recent cases and goes on with a new one', async () => {
    let killer: NodeJS.Timeout | undefined;
    const killFirst = (targets: ServerTarget[]): void => {
      killer = setTimeout(() => process.kill(targets[0]!.pid!, 'SIGKILL'), 3000);
    };
    const report = await runFuzz({
      seconds: 10,
      seed: 3,
      concurrency: 4,
      healthDeadlineMs: 15_000,
      crashDir: tempDir('spiced-fuzz-'),
      onStart: killFirst,
    });
    clearTimeout(killer);
    expect(report.crashes).toBe(1);
    expect(report.hangs).toBe(0);
    expect(report.incidents).toHaveLength(1);
    expect(report.incidents[0]).toMatch(/crash-[0-9a-f]{12}\.json$/);
  }, 120_000);
});
