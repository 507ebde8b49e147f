/** `size` bytes of printable text in lines of 100, different for each `seed`: a paste for the agent benches. */
export function benchText(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = i % 100 === 99 ? 0x0a : 0x21 + ((i * seed) % 90);
  return out;
}
