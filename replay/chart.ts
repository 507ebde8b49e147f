import { configKey, type SummaryRow } from './report.js';

/*
 * A self-contained SVG bar chart of the summary: for each recording, the median packets and wire
 * bytes of every configuration, with min-max whiskers. No dependencies: plain SVG text.
 */

const COLORS: Record<string, string> = {
  'plain/off': '#9aa5b1',
  'plain/on': '#52606d',
  'plain/kernel': '#323f4b',
  'none/off': '#f7c948',
  'none/on': '#f0b429',
  'none/kernel': '#cb6e17',
  'small/off': '#8eedc7',
  'small/on': '#3ebd93',
  'small/kernel': '#147d64',
  'flush/off': '#a0d2fa',
  'flush/on': '#2680c2',
  'flush/kernel': '#0b4f8a',
};

function colorOf(r: SummaryRow): string {
  return COLORS[`${r.mode === 'plain' ? 'plain' : r.coalesce}/${r.cork}`] ?? '#888';
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function panel(
  rows: SummaryRow[],
  metric: 'packets' | 'wireBytes',
  x0: number,
  y0: number,
  w: number,
  h: number,
): string[] {
  const files = [...new Set(rows.map((r) => r.file))];
  const max = Math.max(...rows.map((r) => r[metric].max), 1);
  const groupW = w / files.length;
  const parts: string[] = [
    `<text x="${x0}" y="${y0 - 8}" font-size="13" font-weight="bold">${metric === 'packets' ? 'server-to-client packets (median, min-max)' : 'wire bytes (payload + 66 per packet)'}</text>`,
  ];
  parts.push(`<line x1="${x0}" y1="${y0 + h}" x2="${x0 + w}" y2="${y0 + h}" stroke="#333"/>`);
  files.forEach((file, fi) => {
    const bars = rows.filter((r) => r.file === file);
    const bw = Math.max(4, (groupW - 20) / bars.length);
    bars.forEach((r, bi) => {
      const x = x0 + fi * groupW + 10 + bi * bw;
      const bh = (r[metric].median / max) * h;
      const lo = y0 + h - (r[metric].min / max) * h;
      const hi = y0 + h - (r[metric].max / max) * h;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${(y0 + h - bh).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${bh.toFixed(1)}" fill="${colorOf(r)}"><title>${esc(configKey(r))}: ${r[metric].median}</title></rect>`,
      );
      parts.push(
        `<line x1="${(x + bw / 2 - 1).toFixed(1)}" x2="${(x + bw / 2 - 1).toFixed(1)}" y1="${lo.toFixed(1)}" y2="${hi.toFixed(1)}" stroke="#111"/>`,
      );
    });
    parts.push(
      `<text x="${(x0 + fi * groupW + groupW / 2).toFixed(1)}" y="${y0 + h + 16}" font-size="11" text-anchor="middle">${esc(file)}</text>`,
    );
  });
  parts.push(
    `<text x="${x0 - 6}" y="${y0 + 4}" font-size="10" text-anchor="end">${max.toLocaleString('en-US')}</text>`,
  );
  return parts;
}

export function chartSvg(rows: SummaryRow[], title: string): string {
  const W = 1000;
  const H = 620;
  const legendKeys = [...new Set(rows.map((r) => `${r.mode === 'plain' ? 'plain' : r.coalesce}/${r.cork}`))];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  parts.push(`<text x="20" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`);
  parts.push(...panel(rows, 'packets', 80, 60, W - 110, 210));
  parts.push(...panel(rows, 'wireBytes', 80, 340, W - 110, 210));
  legendKeys.forEach((k, i) => {
    const x = 20 + (i % 6) * 160;
    const y = H - 30 + Math.floor(i / 6) * 16;
    parts.push(
      `<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${COLORS[k] ?? '#888'}"/><text x="${x + 14}" y="${y}" font-size="11">${esc(k.startsWith('plain') ? `plain, cork ${k.split('/')[1]}` : `TLS ${k.split('/')[0]}, cork ${k.split('/')[1]}`)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
