import { seededRandom } from '../../src/sources/demo/noise.js';
import { LINK_HEADER_SIZE, MINI_HEADER_SIZE } from '../../src/protocol/index.js';

/*
 * Mutations of a recorded connection's bytes. Blind ones (bit flips, byte replacement, truncation,
 * splices from another connection) find what a parser does with noise; the structured ones edit
 * the length and type fields where they are known to be (the link header and message, every data
 * message's mini header), repeat whole messages and write huge sizes, which is how a peer makes a
 * server allocate or loop.
 */

export type Rng = () => number;

export function makeRng(seed: number): Rng {
  return seededRandom(seed);
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

const int = (rng: Rng, n: number): number => Math.floor(rng() * n);

/** Sizes a peer might claim to make a server allocate or wait: around powers of two and the u32 top. */
const HUGE = [0xffffffff, 0x7fffffff, 0x80000000, 0x10000000, 0x1000000, 0x100001, 0xffff, 0x10000, 4096, 4097, 0];

/** Offsets of the u32 fields of the link stage: header size, mess caps counts and caps offset. */
const LINK_FIELDS = [12, LINK_HEADER_SIZE + 0, LINK_HEADER_SIZE + 6, LINK_HEADER_SIZE + 10, LINK_HEADER_SIZE + 14];

/** Where each data message's mini header starts, from `from` to the end. */
function messageOffsets(bytes: Buffer, from: number): number[] {
  const out: number[] = [];
  let at = from;
  while (at + MINI_HEADER_SIZE <= bytes.length) {
    out.push(at);
    at += MINI_HEADER_SIZE + bytes.readUInt32LE(at + 2);
  }
  return out;
}

export interface Mutation {
  name: string;
  bytes: Buffer;
}

type Mutator = (rng: Rng, b: Buffer, linkEnd: number, donor: Buffer) => Buffer;

const mutators: Record<string, Mutator> = {
  bitFlips(rng, b) {
    const out = Buffer.from(b);
    for (let i = 1 + int(rng, 8); i > 0 && out.length > 0; i--) out[int(rng, out.length)]! ^= 1 << int(rng, 8);
    return out;
  },
  byteReplace(rng, b) {
    const out = Buffer.from(b);
    const interesting = [0, 0xff, 0x7f, 0x80, 1];
    for (let i = 1 + int(rng, 6); i > 0 && out.length > 0; i--)
      out[int(rng, out.length)] = rng() < 0.5 ? pick(rng, interesting) : int(rng, 256);
    return out;
  },
  truncate(rng, b) {
    return b.subarray(0, int(rng, b.length + 1));
  },
  splice(rng, b, _linkEnd, donor) {
    const at = int(rng, b.length + 1);
    const from = int(rng, donor.length + 1);
    const piece = donor.subarray(from, from + int(rng, 200));
    return Buffer.concat([
      b.subarray(0, at),
      piece,
      b.subarray(rng() < 0.5 ? at : Math.min(b.length, at + piece.length)),
    ]);
  },
  linkField(rng, b) {
    const out = Buffer.from(b);
    const at = pick(rng, LINK_FIELDS);
    if (at + 4 <= out.length) out.writeUInt32LE(rng() < 0.6 ? pick(rng, HUGE) : int(rng, 0x1_0000_0000), at);
    return out;
  },
  messageSize(rng, b, linkEnd) {
    const offsets = messageOffsets(b, linkEnd);
    if (offsets.length === 0) return mutators.linkField!(rng, b, linkEnd, b);
    const out = Buffer.from(b);
    const at = pick(rng, offsets);
    const size = out.readUInt32LE(at + 2);
    const choices = [pick(rng, HUGE), size + 1, Math.max(0, size - 1), size * 2, 0, int(rng, 0x1_0000_0000)];
    out.writeUInt32LE(pick(rng, choices) >>> 0, at + 2);
    return out;
  },
  messageType(rng, b, linkEnd) {
    const offsets = messageOffsets(b, linkEnd);
    if (offsets.length === 0) return mutators.bitFlips!(rng, b, linkEnd, b);
    const out = Buffer.from(b);
    const types = [0, 1, 2, 3, 4, 5, 6, 7, 100, 101, 102, 103, 104, 105, 106, 111, 112, 113, 0xffff];
    out.writeUInt16LE(rng() < 0.7 ? pick(rng, types) : int(rng, 0x10000), pick(rng, offsets));
    return out;
  },
  repeatMessage(rng, b, linkEnd) {
    const offsets = messageOffsets(b, linkEnd);
    if (offsets.length === 0) return Buffer.concat([b, b.subarray(linkEnd)]);
    const i = int(rng, offsets.length);
    const start = offsets[i]!;
    const end = Math.min(b.length, offsets[i + 1] ?? b.length);
    const copies = pick(rng, [2, 10, 100, 1000]);
    const msg = b.subarray(start, end);
    return Buffer.concat([b.subarray(0, end), ...Array<Buffer>(copies).fill(msg), b.subarray(end)]);
  },
  hugeMessage(rng, b, linkEnd) {
    // A header claiming a huge body, followed by a little of it: the server must not wait with
    // a buffer of that size, or allocate it up front.
    const h = Buffer.alloc(MINI_HEADER_SIZE);
    h.writeUInt16LE(pick(rng, [1, 3, 101, 102, 103, 104, 111]), 0);
    h.writeUInt32LE(pick(rng, HUGE), 2);
    return Buffer.concat([b.subarray(0, linkEnd), h, Buffer.alloc(int(rng, 5000), int(rng, 256))]);
  },
};

const names = Object.keys(mutators);

/**
 * Longest case: repeats of repeats would otherwise grow to gigabytes and stall the fuzzer itself
 * (its own event loop then makes healthy viewers late, which would be reported as a server hang).
 */
const MAX_CASE_BYTES = 256 * 1024;

/** One to three mutations of `bytes` (data messages from `linkEnd`), deterministic in `rng`. */
export function mutate(rng: Rng, bytes: Buffer, linkEnd: number, donor: Buffer): Mutation {
  const applied: string[] = [];
  let out = bytes;
  for (let n = 1 + int(rng, 3); n > 0; n--) {
    const name = pick(rng, names);
    applied.push(name);
    out = mutators[name]!(rng, out, linkEnd, donor);
    if (out.length > MAX_CASE_BYTES) out = out.subarray(0, MAX_CASE_BYTES);
  }
  return { name: applied.join('+'), bytes: out };
}
