/** Median and range of a sample (runs are few: no fancier statistics). */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(values: number[]): Spread {
  if (values.length === 0) return { median: NaN, min: NaN, max: NaN };
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}

/** (a - b) / b in percent, or NaN when b is 0. */
export function percentOver(a: number, b: number): number {
  return b === 0 ? NaN : ((a - b) / b) * 100;
}

export function fmtPct(p: number): string {
  if (!Number.isFinite(p)) return 'n/a';
  return `${p >= 0 ? '+' : ''}${p.toFixed(p !== 0 && Math.abs(p) < 1 ? 2 : 1)}%`;
}

export function fmtSpread(s: Spread, digits = 0): string {
  const f = (v: number): string => v.toFixed(digits);
  return s.min === s.max ? f(s.median) : `${f(s.median)} [${f(s.min)}-${f(s.max)}]`;
}
