import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeLz4 } from '../src/display/lz4-decode.js';
import { BitmapFormat } from '../src/protocol/constants.js';
import { ProtocolError } from '../src/protocol/errors.js';
import { check, mutated, valueOrProtocolError } from './helpers/properties.js';

/*
 * The LZ4 image decoder (src/display/lz4-decode.ts, tuned for speed: one loop, word reads of 24-bit
 * pixels) against the LZ4 block format as written, decoded here one byte at a time: for any payload,
 * valid or broken, both give the same pixels bit for bit, or both refuse it. lz4-liblz4.test.ts checks
 * the decoder against liblz4 itself on real streams.
 */

/** Spec-level LZ4 block decode into out[o..]; the new end, or undefined where liblz4 would refuse. */
function referenceBlock(src: Buffer, from: number, to: number, out: number[], limit: number): boolean {
  let p = from;
  const length = (n: number): number | undefined => {
    if (n !== 15) return n;
    for (;;) {
      if (p >= to) return undefined;
      const b = src[p++]!;
      n += b;
      if (b !== 255) return n;
    }
  };
  for (;;) {
    if (p >= to) return false;
    const token = src[p++]!;
    const lit = length(token >> 4);
    if (lit === undefined || lit > to - p || out.length + lit > limit) return false;
    for (let k = 0; k < lit; k++) out.push(src[p++]!);
    if (p === to) return true;
    if (p + 2 > to) return false;
    const offset = src[p]! | (src[p + 1]! << 8);
    p += 2;
    if (offset === 0 || offset > out.length) return false;
    const m = length(token & 15);
    if (m === undefined || out.length + m + 4 > limit) return false;
    for (let k = 0; k < m + 4; k++) out.push(out[out.length - offset]!);
  }
}

/** The payload's pixels as BGRX bytes by the letter of lz4.ts's layout, or undefined if refused. */
function referenceDecode(data: Buffer, width: number, height: number): Buffer | undefined {
  if (data.length < 2) return undefined;
  const topDown = data[0] !== 0;
  const format = data[1]!;
  const bpp = format === BitmapFormat.Bit24 ? 3 : format === BitmapFormat.Bit32 || format === BitmapFormat.Rgba ? 4 : 0;
  if (bpp === 0) return undefined;
  const size = width * height * bpp;
  const raw: number[] = [];
  let pos = 2;
  do {
    if (pos + 4 > data.length) return undefined;
    const n = data.readUInt32BE(pos);
    pos += 4;
    if (n > data.length - pos) return undefined;
    const before = raw.length;
    if (!referenceBlock(data, pos, pos + n, raw, size) || raw.length === before) return undefined;
    pos += n;
  } while (pos < data.length);
  if (raw.length !== size) return undefined;
  const out = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = ((topDown ? y : height - 1 - y) * width + x) * bpp;
      const o = (y * width + x) * 4;
      out[o] = raw[i]!;
      out[o + 1] = raw[i + 1]!;
      out[o + 2] = raw[i + 2]!;
      out[o + 3] = format === BitmapFormat.Rgba ? raw[i + 3]! : 0;
    }
  }
  return out;
}

/** A valid LZ4 block (sequences of literals and in-range matches) that decodes to exactly `size` bytes. */
function validBlock(size: number, seeds: number[]): Buffer {
  const out: number[] = [];
  let written = 0;
  let s = 0;
  const next = (): number => seeds[s++ % seeds.length]! >>> 0;
  const lengthBytes = (n: number): void => {
    for (; n >= 255; n -= 255) out.push(255);
    out.push(n);
  };
  while (written < size) {
    const left = size - written;
    // The last sequence holds at least 5 literals (LZ4's rule; this decoder does not need it).
    let lit = Math.min(left, next() % 40);
    const match = written + lit > 0 && left - lit >= 9 ? 4 + (next() % Math.min(300, left - lit - 5 - 3)) : 0;
    if (match === 0) lit = left;
    out.push((Math.min(lit, 15) << 4) | (match ? Math.min(match - 4, 15) : 0));
    if (lit >= 15) lengthBytes(lit - 15);
    for (let k = 0; k < lit; k++) out.push(next() & (next() % 3 === 0 ? 0x0f : 0xff));
    written += lit;
    if (!match) break;
    const offset = 1 + (next() % Math.min(written, 0xffff));
    out.push(offset & 0xff, offset >> 8);
    if (match - 4 >= 15) lengthBytes(match - 4 - 15);
    written += match;
  }
  return Buffer.from(out);
}

interface Case {
  width: number;
  height: number;
  payload: Buffer;
}

/** A valid payload of one block, or of two literal blocks, any format and direction. */
const validCase: fc.Arbitrary<Case> = fc
  .tuple(
    fc.integer({ min: 1, max: 37 }),
    fc.integer({ min: 1, max: 9 }),
    fc.constantFrom(BitmapFormat.Bit24, BitmapFormat.Bit32, BitmapFormat.Rgba),
    fc.boolean(),
    fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 16 }),
    fc.nat(),
  )
  .map(([width, height, format, topDown, seeds, split]) => {
    const size = width * height * (format === BitmapFormat.Bit24 ? 3 : 4);
    const first = size > 1 ? 1 + (split % (size - 1)) : size;
    const whole = validBlock(size, seeds);
    // Two blocks cut anywhere in the output: rebuilt as literals from the decoded bytes.
    const raw = referenceDecodeRaw(whole, size);
    const blocks = first < size ? [literalBlock(raw.subarray(0, first)), literalBlock(raw.subarray(first))] : [whole];
    const parts: Buffer[] = [Buffer.from([topDown ? 1 : 0, format])];
    for (const b of split % 2 === 0 ? [whole] : blocks) {
      const n = Buffer.alloc(4);
      n.writeUInt32BE(b.length);
      parts.push(n, b);
    }
    return { width, height, payload: Buffer.concat(parts) };
  });

function referenceDecodeRaw(block: Buffer, size: number): Buffer {
  const raw: number[] = [];
  if (!referenceBlock(block, 0, block.length, raw, size)) throw new Error('the generator made an invalid block');
  return Buffer.from(raw);
}

/** A block of literals only. */
function literalBlock(bytes: Buffer): Buffer {
  const head: number[] = [Math.min(bytes.length, 15) << 4];
  for (let n = bytes.length - 15; n >= 0; n -= 255) head.push(Math.min(n, 255));
  return Buffer.concat([Buffer.from(head), bytes]);
}

function same(c: Case): void {
  const got = valueOrProtocolError(() => decodeLz4(c.payload, c.width, c.height));
  const want = referenceDecode(c.payload, c.width, c.height);
  if (want === undefined) {
    expect(got).toBeInstanceOf(ProtocolError);
    return;
  }
  expect(got).not.toBeInstanceOf(ProtocolError);
  if (got instanceof ProtocolError) return;
  expect(got.stride).toBe(c.width * 4);
  expect(Buffer.compare(got.data, want)).toBe(0);
}

describe('the LZ4 decoder equals the block format decoded byte by byte', () => {
  it('valid payloads: every format, both directions, one or two blocks, bit for bit', () => {
    check(validCase, same);
  });

  it('broken payloads: the same pixels or the same refusal', () => {
    const base = validCase.map((c) => c);
    check(
      fc.tuple(base, mutated(base.map((c) => c.payload))).map(([c, payload]) => ({ ...c, payload })),
      same,
    );
  });

  it('a full-screen 24-bit payload (the word-at-a-time path and its tail) decodes exactly', () => {
    for (const [width, height] of [
      [1024, 768],
      [1023, 7],
      [5, 3],
    ] as const) {
      const raw = Buffer.alloc(width * height * 3);
      for (let i = 0; i < raw.length; i++) raw[i] = (i * 7919) >>> 3;
      const payload = Buffer.concat([Buffer.from([1, BitmapFormat.Bit24, 0, 0, 0, 0]), literalBlock(raw)]);
      payload.writeUInt32BE(payload.length - 6, 2);
      same({ width, height, payload });
    }
  });
});
