/*
 * Deterministic office prose: sentences from a fixed vocabulary, drawn with the session's seeded
 * PRNG, so the same seed always types the same report.
 */

export type Random = () => number;

const WORDS = (
  'the quarterly report shows that revenue and costs in our regional offices have grown steadily since ' +
  'last year while the new budget plan keeps travel spending within limits we expect further savings ' +
  'from shared services and a simpler approval process for small purchases customer satisfaction ' +
  'improved in most areas although delivery times remain a concern for several key accounts the team ' +
  'will review supplier contracts before the end of the month and present options to the board ' +
  'please note that figures for march are preliminary and may change after the audit staff training ' +
  'continues with two sessions per week hiring is on track for the summer interns project milestones ' +
  'were met on time except for the data migration which needs another sprint risks include currency ' +
  'changes higher energy prices and slower demand in the second half overall the outlook is positive'
).split(' ');

const OPENERS = [
  'In summary,',
  'However,',
  'As agreed,',
  'Next quarter,',
  'In addition,',
  'For now,',
  'Overall,',
  'Meanwhile,',
];
const LINK_TARGETS = [
  'https://intranet.example/budget',
  'https://wiki.example/q3-plan',
  'https://files.example/report.pdf',
  'https://crm.example/accounts',
];

export function pick<T>(rnd: Random, items: readonly T[]): T {
  return items[Math.floor(rnd() * items.length)] as T;
}

/** Uniform integer in [lo, hi]. */
export function between(rnd: Random, lo: number, hi: number): number {
  return lo + Math.floor(rnd() * (hi - lo + 1));
}

/** A sentence as words (the last one ends with '.'); now and then a link appears as a word. */
export function sentence(rnd: Random): string[] {
  const n = between(rnd, 5, 12);
  const words: string[] = [];
  if (rnd() < 0.25) words.push(pick(rnd, OPENERS));
  for (let i = 0; i < n; i++) words.push(pick(rnd, WORDS));
  if (rnd() < 0.12) words.splice(between(rnd, 1, words.length - 1), 0, 'see', pick(rnd, LINK_TARGETS));
  if (rnd() < 0.3 && words.length > 6) words[between(rnd, 2, words.length - 3)] += ',';
  const first = words[0] as string;
  words[0] = first.charAt(0).toUpperCase() + first.slice(1);
  words[words.length - 1] += '.';
  return words;
}

/** Links are the words that look like URLs (the document draws them blue and underlined). */
export function isLink(word: string): boolean {
  return word.startsWith('https://');
}

/** 1234567 -> "1,234,567". */
export function formatAmount(n: number): string {
  const s = Math.abs(Math.round(n)).toString();
  const grouped = s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? `-${grouped}` : grouped;
}
