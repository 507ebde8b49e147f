import { readFileSync } from 'node:fs';
import type { DeliveryMode } from './deliver.js';
import { AnchorSession, checkHealth } from './health.js';
import { makeRng } from './mutate.js';
import { deliverTo, type FuzzCase } from './run.js';
import { FUZZ_PASSWORD, ServerTarget } from './target.js';

/*
 * Replays a saved incident (the cases a server received before it crashed or stopped serving)
 * one at a time on a fresh server, with a healthy viewer after each: which case, if any, does it
 * again. This is how a fuzzer finding becomes a regression test. (Raw cases carry a ticket
 * encrypted to the old server's key: on a fresh server they stop at the ticket check.)
 */

interface SavedCase extends Omit<FuzzCase, 'bytes'> {
  bytes: string;
}

export function loadIncident(file: string): { kind: string; cases: FuzzCase[] } {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { kind: string; cases: SavedCase[] };
  return {
    kind: doc.kind,
    cases: doc.cases.map((c) => ({ ...c, mode: c.mode as DeliveryMode, bytes: Buffer.from(c.bytes, 'base64') })),
  };
}

export interface ReplayVerdict {
  /** Index of the case after which the server exited or stopped serving, or -1. */
  failedAt: number;
  what: 'crash' | 'hang' | 'none';
  detail: string;
}

export async function replayCases(
  cases: readonly FuzzCase[],
  healthDeadlineMs = 10_000,
  checkEvery = 1,
): Promise<ReplayVerdict> {
  const verdict = await replayOn(
    'open',
    cases.filter((c) => c.target === 'open'),
    healthDeadlineMs,
    checkEvery,
  );
  if (verdict.what !== 'none') return verdict;
  return replayOn(
    'password',
    cases.filter((c) => c.target === 'password'),
    healthDeadlineMs,
    checkEvery,
  );
}

async function replayOn(
  which: 'open' | 'password',
  cases: readonly FuzzCase[],
  deadlineMs: number,
  checkEvery: number,
): Promise<ReplayVerdict> {
  if (cases.length === 0) return { failedAt: -1, what: 'none', detail: '' };
  const password = which === 'password' ? FUZZ_PASSWORD : undefined;
  const target = new ServerTarget({ password });
  await target.start();
  const anchor = new AnchorSession(() => target.port, password);
  const rng = makeRng(1);
  try {
    for (let i = 0; i < cases.length; i++) {
      await deliverTo(target.port, anchor, password, cases[i]!, rng);
      if (i % checkEvery !== checkEvery - 1 && i !== cases.length - 1) continue;
      if (!target.running) return { failedAt: i, what: 'crash', detail: target.crashes[0]?.output ?? '' };
      const h = await checkHealth(target.port, password, deadlineMs);
      if (!target.running) return { failedAt: i, what: 'crash', detail: target.crashes[0]?.output ?? '' };
      if (!h.ok) return { failedAt: i, what: 'hang', detail: h.error ?? '' };
    }
    return { failedAt: -1, what: 'none', detail: '' };
  } finally {
    anchor.close();
    await target.stop();
  }
}
