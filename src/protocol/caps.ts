/** Capability sets travel as arrays of u32 words: bit i of word i/32 is capability i. */
export type CapWords = readonly number[];

export function hasCap(words: CapWords, cap: number): boolean {
  const w = words[cap >>> 5];
  return w !== undefined && ((w >>> (cap & 31)) & 1) === 1;
}

export function capWords(caps: readonly number[]): number[] {
  const words: number[] = [];
  for (const cap of caps) {
    const i = cap >>> 5;
    while (words.length <= i) words.push(0);
    words[i] = (words[i]! | (1 << (cap & 31))) >>> 0;
  }
  return words;
}
