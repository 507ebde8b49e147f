/**
 * Issue 14's targets for the video bench, judged on its rows: PASS / FAIL lines, or SKIP where a
 * figure the target needs was not measured.
 */

export interface VideoRow {
  link: string;
  server: 'spiced' | 'spice-server';
  /** Distinct frames of the clip that reached the viewer in time to be shown, per second. */
  fps: number;
  /** Frames the desktop itself drew per second (ffplay's own rate on this machine). */
  deskFps: number;
  /** Share of arrived frames that came after their stamp (spice-gtk drops those). */
  latePct: number;
  kbytesPerS: number;
  /** Desktop drew a frame -> it arrived at the viewer. */
  arriveP50: number | null;
  arriveP95: number | null;
  /** Desktop drew a frame -> spice-gtk would show it (its stamp on the viewer's clock). */
  shownP50: number | null;
  keyP50: number | null;
  keyP95: number | null;
  keys: number;
  keysSent: number;
  streams: number;
  /** Video stopped -> the viewer's frame equals the desktop's; null when it did not within the wait. */
  finalMs: number | null;
  finalDiff: number;
  /** Display bytes the viewer got from the video's freeze until its frame was exact (or the wait ended), kB. */
  finalKbytes: number;
  /** Keys typed after the video stopped, while its area came again losslessly: glyph latency p50 and max, seen and sent. */
  stopKeyP50: number | null;
  stopKeyMax: number | null;
  stopKeys: number;
  stopKeysSent: number;
  errors: string[];
}

function find(rows: VideoRow[], link: string, server: VideoRow['server']): VideoRow | undefined {
  return rows.find((r) => r.link === link && r.server === server);
}

const f0 = (v: number | null): string => (v === null ? '-' : v.toFixed(0));

function line(ok: boolean | undefined, text: string): string {
  return `${ok === undefined ? 'SKIP' : ok ? 'PASS' : 'FAIL'}  ${text}`;
}

/** A key p95 counts only when every key sent was seen (a lost glyph is worse than any latency). */
function keyP95(r: VideoRow): number {
  return r.keys < r.keysSent || r.keyP95 === null ? Infinity : r.keyP95;
}

export function videoVerdicts(rows: VideoRow[], playbackDelayMs: number): string[] {
  const out: string[] = [];
  const s10 = find(rows, '10 Mbit/s', 'spiced');
  const r10 = find(rows, '10 Mbit/s', 'spice-server');
  if (s10) {
    const fewer = r10 ? s10.kbytesPerS < r10.kbytesPerS : undefined;
    const ok = s10.fps >= 24 && keyP95(s10) <= 100 && fewer !== false;
    const than = r10
      ? `${s10.kbytesPerS.toFixed(0)} kB/s vs spice-server ${r10.kbytesPerS.toFixed(0)}`
      : 'no spice-server run';
    out.push(
      line(
        r10 ? ok : undefined,
        `10 Mbit/s: >= 24 fps (${s10.fps.toFixed(1)}), fewer bytes/s than spice-server (${than}), typing p95 <= 100 ms (${f0(s10.keyP95)}, ${s10.keys}/${s10.keysSent} keys)`,
      ),
    );
  }
  const s2 = find(rows, '2 Mbit/s', 'spiced');
  const r2 = find(rows, '2 Mbit/s', 'spice-server');
  if (s2) {
    const worse = r2 ? r2.fps < s2.fps || keyP95(r2) > keyP95(s2) : undefined;
    const ok = s2.fps >= 15 && keyP95(s2) <= 150 && worse !== false;
    const other = r2 ? `spice-server ${r2.fps.toFixed(1)} fps, typing p95 ${f0(r2.keyP95)} ms` : 'no spice-server run';
    out.push(
      line(
        r2 ? ok : undefined,
        `2 Mbit/s: >= 15 fps (${s2.fps.toFixed(1)}), typing p95 <= 150 ms (${f0(s2.keyP95)}, ${s2.keys}/${s2.keysSent} keys), spice-server worse on one (${other})`,
      ),
    );
  }
  const lo = find(rows, 'loopback', 'spiced');
  if (lo) {
    const limit = 30 + playbackDelayMs;
    out.push(
      line(
        lo.shownP50 === null ? undefined : lo.shownP50 <= limit,
        `loopback: frame drawn -> shown p50 <= 30 ms + ${playbackDelayMs} ms playback delay (${f0(lo.shownP50)} ms; arrival p50 ${f0(lo.arriveP50)} ms)`,
      ),
    );
  }
  for (const r of rows.filter((x) => x.server === 'spiced')) {
    const text =
      r.finalMs === null ? `not within the wait, ${r.finalDiff} pixels differ` : `${r.finalMs.toFixed(0)} ms`;
    out.push(
      line(
        r.finalMs !== null && r.finalMs <= 1000,
        `${r.link}: final frame equals the desktop's within 1 s of the video stopping (${text})`,
      ),
    );
  }
  return out;
}
