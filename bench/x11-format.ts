/**
 * Result records of the X11 bench and their printed tables (bench/x11.ts runs the cases).
 */
import type { LatencyResult } from './x11-latency.js';
import type { FullScreenResult, LoadWindow } from './x11-load.js';
import type { Spread } from './x11-viewer.js';

/** X11Source frameIntervalMs: a number, or 'default' (33 ms). */
export type IntervalLabel = number | 'default';

export type X11Result =
  | { suite: 'x11'; kind: 'setup'; capture: string; detection: string; size: string }
  | { suite: 'x11'; kind: 'latency'; frameIntervalMs: IntervalLabel; busy: boolean; result: LatencyResult }
  | { suite: 'x11'; kind: 'fullScreen'; frameIntervalMs: IntervalLabel; result: FullScreenResult }
  /** `baseline`: the scene whose CPU per second this one's is compared with. */
  | { suite: 'x11'; kind: 'idle'; scene: string; seconds: number; result: LoadWindow; baseline?: string }
  | { suite: 'x11'; kind: 'skipped'; reason: string };

type Of<K extends X11Result['kind']> = Extract<X11Result, { kind: K }>;

const ms = (v: number, width = 7): string => (Number.isFinite(v) ? v.toFixed(1) : '-').padStart(width);
const interval = (v: IntervalLabel): string => (v === 'default' ? '33 (def)' : `${v}`).padEnd(10);

function latencyTable(rows: readonly Of<'latency'>[]): string[] {
  if (rows.length === 0) return [];
  const { samples: n, spacingMs } = rows[0]!.result;
  const spreadCols = (s: Spread): string => `${ms(s.p50)}${ms(s.p90)}${ms(s.p99)}${ms(s.max)}`;
  const lines = [
    `Latency, X drawing -> viewer shows it, ms: ${n} solid rects of 8..47 px at random places, ${spacingMs.min} to ${spacingMs.max} ms apart`,
    '  from flush: request written to the X socket; from X done: GetInputFocus reply after it (X server has drawn it)',
    '  stages (p50 / p99): X round trip; capture = X done -> X11Source hands the copy to the server; delivery = copy -> viewer shows it',
    `${'interval'.padEnd(10)}${'screen'.padEnd(7)}${'--- from flush: p50 p90 p99 max'.padStart(32)}${'--- from X done: p50 p99'.padStart(25)}  ${'X rtt'.padStart(11)}${'capture'.padStart(13)}${'delivery'.padStart(13)}`,
  ];
  for (const r of rows) {
    const st = r.result.stages;
    const stage = (s: Spread, width = 13): string => `${s.p50.toFixed(1)} / ${s.p99.toFixed(1)}`.padStart(width);
    lines.push(
      `${interval(r.frameIntervalMs)}${(r.busy ? 'busy' : 'quiet').padEnd(7)}    ${spreadCols(r.result.fromFlush)}         ${ms(r.result.fromXDone.p50)}${ms(r.result.fromXDone.p99)}  ${stage(st.xRoundTrip, 11)}${stage(st.capture)}${stage(st.delivery)}` +
        (r.result.unmatched > 0 ? `  (${r.result.unmatched} without a logged copy)` : ''),
    );
  }
  lines.push('  busy: another X client redraws a 64x64 corner every 4 ms, so X11Source is always in or between frames');
  return lines;
}

function fullScreenTable(rows: readonly Of<'fullScreen'>[]): string[] {
  if (rows.length === 0) return [];
  const lines = [
    `Full-screen changes, closed loop (next change drawn once the viewer shows the previous), ${rows[0]!.result.changes} changes per row; CPU in ms per change`,
    `${'interval'.padEnd(10)}${'change'.padEnd(22)}${'chg/s'.padStart(7)}${'ms/chg'.padStart(8)}${'server'.padStart(8)}${'srv %'.padStart(7)}${'frames'.padStart(8)}${'bytes/chg'.padStart(11)}${'msgs'.padStart(6)}${'viewer'.padStart(8)}${'Xvfb'.padStart(7)}`,
  ];
  for (const { frameIntervalMs, result: r } of rows) {
    const per = (v: number): number => v / r.changes;
    lines.push(
      `${interval(frameIntervalMs)}${r.kind.padEnd(22)}${ms(r.changes / (r.wallMs / 1000))}${ms(r.changeMsP50, 8)}${ms(per(r.serverCpuMs), 8)}${ms((100 * r.serverCpuMs) / r.wallMs)}` +
        `${per(r.serverFrames).toFixed(2).padStart(8)}${Math.round(per(r.bytes)).toString().padStart(11)}${per(r.messages).toFixed(1).padStart(6)}${ms(per(r.viewerCpuMs), 8)}${ms(per(r.xCpuMs))}`,
    );
  }
  lines.push(
    '  ms/chg: median time from the change being flushed to the viewer showing it; frames, msgs: X11Source frames and display messages per change',
  );
  lines.push(
    '  server: the server process; viewer: the bench process (SpiceClient decoding and drawing, encoding the PutImage requests);',
  );
  lines.push('  Xvfb: executing the drawing and the capture requests (10 ms resolution)');
  return lines;
}

function idleTable(rows: readonly Of<'idle'>[]): string[] {
  if (rows.length === 0) return [];
  const cpuPerS = (scene: string | undefined): number => {
    const base = rows.find((r) => r.scene === scene);
    return base ? base.result.serverCpuMs / (base.result.wallMs / 1000) : NaN;
  };
  const lines = [
    `Screen left alone (default frame interval), ${rows[0]!.seconds} s windows; CPU in ms per second`,
    `${'scene'.padEnd(24)}${'server'.padStart(8)}${'srv %'.padStart(7)}${'Xvfb'.padStart(7)}${'frames/s'.padStart(10)}${'bytes/s'.padStart(9)}${'msgs/s'.padStart(8)}${'bytes/frame'.padStart(13)}${'srv ms/frame'.padStart(14)}${'above base'.padStart(12)}`,
  ];
  for (const { scene, result: r, baseline } of rows) {
    const seconds = r.wallMs / 1000;
    const framesPerS = r.serverFrames / seconds;
    const perFrame = (v: number): string => (r.serverFrames > 0 ? v.toFixed(2) : '-');
    const aboveBase = baseline ? perFrame((cpuPerS(scene) - cpuPerS(baseline)) / framesPerS) : '-';
    lines.push(
      `${scene.padEnd(24)}${ms(cpuPerS(scene), 8)}${ms((100 * r.serverCpuMs) / r.wallMs)}${ms(r.xCpuMs / seconds)}${framesPerS.toFixed(2).padStart(10)}${Math.round(
        r.bytes / seconds,
      )
        .toString()
        .padStart(9)}` +
        `${(r.messages / seconds).toFixed(1).padStart(8)}${(r.serverFrames > 0 ? Math.round(r.bytes / r.serverFrames).toString() : '-').padStart(13)}` +
        `${perFrame(r.serverCpuMs / r.serverFrames).padStart(14)}${aboveBase.padStart(12)}`,
    );
  }
  lines.push(
    "  srv ms/frame: the window's server CPU over its frames; above base: the same after subtracting the CPU per second of the row",
  );
  lines.push('  before (the same xterm unfocused, its cursor steady), i.e. what a blink frame itself costs');
  return lines;
}

export function formatX11Results(results: readonly X11Result[]): string {
  const skipped = results.filter((r): r is Of<'skipped'> => r.kind === 'skipped').map((r) => r.reason);
  const setup = results.find((r): r is Of<'setup'> => r.kind === 'setup');
  const lines: string[] = [];
  if (setup) {
    lines.push(
      `Xvfb ${setup.size}x24, X11Source capture ${setup.capture}, changes by ${setup.detection}; server (SpiceServer + X11Source) in a child process,`,
    );
    lines.push(
      'viewer (SpiceClient, display channel, applying every message) and X drawing clients in the bench process; CPU = user + system',
    );
  }
  const sections = [
    latencyTable(results.filter((r): r is Of<'latency'> => r.kind === 'latency')),
    fullScreenTable(results.filter((r): r is Of<'fullScreen'> => r.kind === 'fullScreen')),
    idleTable(results.filter((r): r is Of<'idle'> => r.kind === 'idle')),
  ].filter((s) => s.length > 0);
  for (const s of sections) lines.push('', ...s);
  lines.push(...skipped);
  return lines.join('\n').trim();
}
