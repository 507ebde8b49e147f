import { basename } from 'node:path';
import type { ChannelCounts, MeasureResult } from './types.js';
import { fmtPct, fmtSpread, percentOver, spread, type Spread } from './stats.js';

/** One run as written to --json: the worker's counts, summed over the measured channels too. */
export interface RunRecord {
  file: string;
  mode: 'plain' | 'tls';
  coalesce: string;
  cork: string;
  pace: string;
  run: number;
  packets: number;
  dataPackets: number;
  wireBytes: number;
  payloadBytes: number;
  tlsRecords: number;
  retransmits: number;
  idealPackets: number;
  handshakePackets: number;
  handshakeBytes: number;
  frameMatch: boolean;
  frameDetail: string;
  wallMs: number;
  processCpuMs: number;
  commands: number;
  channels: Record<string, ChannelCounts>;
}

const SUMMED = [
  'packets',
  'dataPackets',
  'wireBytes',
  'payloadBytes',
  'tlsRecords',
  'retransmits',
  'idealPackets',
  'handshakePackets',
  'handshakeBytes',
] as const;
type Summed = (typeof SUMMED)[number];

/** Totals over the channels that the comparison covers (display + cursor by default). */
export function toRunRecord(r: MeasureResult, run: number, channels: string[]): RunRecord {
  const src = r.config.source;
  const totals = Object.fromEntries(SUMMED.map((k) => [k, 0])) as Record<Summed, number>;
  for (const ch of channels) {
    const c = r.channels[ch];
    if (!c) continue;
    for (const k of SUMMED) totals[k] += c[k];
  }
  return {
    file: src.kind === 'file' ? basename(src.path) : `burst:${src.frames}`,
    mode: r.config.mode,
    coalesce: r.config.coalesce,
    cork: r.config.cork,
    pace: String(r.config.pace),
    run,
    ...totals,
    frameMatch: r.frameMatch,
    frameDetail: r.frameDetail,
    wallMs: r.wallMs,
    processCpuMs: r.processCpuMs,
    commands: r.commands,
    channels: r.channels,
  };
}

/** One configuration, aggregated over its runs. */
export interface SummaryRow {
  file: string;
  mode: string;
  coalesce: string;
  cork: string;
  runs: number;
  packets: Spread;
  dataPackets: Spread;
  wireBytes: Spread;
  payloadBytes: Spread;
  tlsRecords: Spread;
  idealPackets: Spread;
  retransmits: Spread;
  handshakePackets: Spread;
  handshakeBytes: Spread;
  wallMs: Spread;
  processCpuMs: Spread;
  framesMatched: number;
  /** TLS minus plain (same file, cork), handshake taken out; undefined for plain rows. */
  tlsOverPlain?: { packetsPct: number; wireBytesPct: number; totalPacketsPct: number; totalWireBytesPct: number };
  /** Against the same configuration with cork off. */
  corkSaving?: { packetsPct: number };
  /** dataPackets over idealPackets. */
  aboveIdealPct: number;
}

export function configKey(r: { file: string; mode: string; coalesce: string; cork: string }): string {
  return `${r.file} ${r.mode === 'plain' ? 'plain' : `tls/${r.coalesce}`}/cork-${r.cork}`;
}

export function summarize(runs: RunRecord[]): SummaryRow[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const k = configKey(r);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const rows: SummaryRow[] = [];
  for (const g of groups.values()) {
    const f = g[0]!;
    const s = (pick: (r: RunRecord) => number): Spread => spread(g.map(pick));
    rows.push({
      file: f.file,
      mode: f.mode,
      coalesce: f.coalesce,
      cork: f.cork,
      runs: g.length,
      packets: s((r) => r.packets),
      dataPackets: s((r) => r.dataPackets),
      wireBytes: s((r) => r.wireBytes),
      payloadBytes: s((r) => r.payloadBytes),
      tlsRecords: s((r) => r.tlsRecords),
      idealPackets: s((r) => r.idealPackets),
      retransmits: s((r) => r.retransmits),
      handshakePackets: s((r) => r.handshakePackets),
      handshakeBytes: s((r) => r.handshakeBytes),
      wallMs: s((r) => r.wallMs),
      processCpuMs: s((r) => r.processCpuMs),
      framesMatched: g.filter((r) => r.frameMatch).length,
      aboveIdealPct: percentOver(
        spread(g.map((r) => r.dataPackets)).median,
        spread(g.map((r) => r.idealPackets)).median,
      ),
    });
  }
  for (const row of rows) compare(row, rows);
  return rows;
}

/** Fill in TLS overhead (against plain with the same cork) and cork saving (against cork off). */
function compare(row: SummaryRow, rows: SummaryRow[]): void {
  if (row.mode === 'tls') {
    const plain = rows.find((r) => r.file === row.file && r.mode === 'plain' && r.cork === row.cork);
    if (plain) {
      const steadyPk = row.packets.median - row.handshakePackets.median;
      const steadyWire = row.wireBytes.median - row.handshakeBytes.median - 66 * row.handshakePackets.median;
      row.tlsOverPlain = {
        packetsPct: percentOver(steadyPk, plain.packets.median),
        wireBytesPct: percentOver(steadyWire, plain.wireBytes.median),
        totalPacketsPct: percentOver(row.packets.median, plain.packets.median),
        totalWireBytesPct: percentOver(row.wireBytes.median, plain.wireBytes.median),
      };
    }
  }
  if (row.cork !== 'off') {
    const off = rows.find(
      (r) => r.file === row.file && r.mode === row.mode && r.coalesce === row.coalesce && r.cork === 'off',
    );
    if (off) row.corkSaving = { packetsPct: -percentOver(row.packets.median, off.packets.median) };
  }
}

/** The seed's style of lines: `file mode: packets bytes`, one per run. */
export function runLine(r: RunRecord): string {
  const tag = r.mode === 'plain' ? `plain/cork-${r.cork}` : `tls/${r.coalesce}/cork-${r.cork}`;
  return `${r.file} ${tag}: ${r.packets} packets ${r.wireBytes} bytes${r.frameMatch ? '' : `  FRAME MISMATCH (${r.frameDetail})`}`;
}

export function formatSummary(rows: SummaryRow[]): string {
  const out: string[] = [];
  out.push(
    'configuration | packets | data packets (ideal, above ideal) | wire bytes | payload | TLS records | handshake pk/B | TLS cost vs plain, steady (total) | cork saving | frames',
  );
  for (const r of rows) {
    const tls = r.tlsOverPlain
      ? `${fmtPct(r.tlsOverPlain.packetsPct)} pk, ${fmtPct(r.tlsOverPlain.wireBytesPct)} B (${fmtPct(r.tlsOverPlain.totalPacketsPct)}, ${fmtPct(r.tlsOverPlain.totalWireBytesPct)})`
      : '-';
    out.push(
      [
        configKey(r),
        fmtSpread(r.packets),
        `${fmtSpread(r.dataPackets)} (${fmtSpread(r.idealPackets)}, ${fmtPct(r.aboveIdealPct)})`,
        fmtSpread(r.wireBytes),
        fmtSpread(r.payloadBytes),
        r.mode === 'tls' ? fmtSpread(r.tlsRecords) : '-',
        r.mode === 'tls' ? `${fmtSpread(r.handshakePackets)}/${fmtSpread(r.handshakeBytes)}` : '-',
        tls,
        r.corkSaving && Number.isFinite(r.corkSaving.packetsPct)
          ? `${r.corkSaving.packetsPct.toFixed(1)}% fewer packets`
          : '-',
        `${r.framesMatched}/${r.runs}`,
      ].join(' | '),
    );
  }
  return out.join('\n');
}

/** Per channel, per configuration: median packets and wire bytes (playback shows on its own line). */
export function formatChannels(runs: RunRecord[]): string {
  const out: string[] = ['configuration | channel | packets | data packets | wire bytes | payload | TLS records'];
  const keys = [...new Set(runs.map((r) => configKey(r)))];
  for (const key of keys) {
    const group = runs.filter((r) => configKey(r) === key);
    const channels = [...new Set(group.flatMap((r) => Object.keys(r.channels)))].sort();
    for (const ch of channels) {
      const s = (pick: (c: ChannelCounts) => number): string =>
        fmtSpread(spread(group.map((r) => (r.channels[ch] ? pick(r.channels[ch]!) : 0))));
      out.push(
        [
          key,
          ch,
          s((c) => c.packets),
          s((c) => c.dataPackets),
          s((c) => c.wireBytes),
          s((c) => c.payloadBytes),
          s((c) => c.tlsRecords),
        ].join(' | '),
      );
    }
  }
  return out.join('\n');
}
