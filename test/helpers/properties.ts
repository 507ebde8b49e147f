import fc from 'fast-check';
import { ProtocolError } from '../../src/protocol/errors.js';

/*
 * Shared pieces of the property tests (issue 12): every decoder of peer bytes, given any bytes,
 * returns a value or throws its own error type, never a TypeError, RangeError or anything else.
 */

/** A fixed seed so a failure reproduces; fast-check prints the counterexample and its path. */
const SEED = 0x5eed12;

/** Runs per property: enough to reach every branch of these small decoders in a second or two. */
const RUNS = 2000;

export function check<T>(arb: fc.Arbitrary<T>, predicate: (v: T) => void, numRuns = RUNS): void {
  fc.assert(fc.property(arb, predicate), { seed: SEED, numRuns });
}

/**
 * `decode()` either returns or throws an instance of one of `allowed` (exactly that class when
 * `exact`, so a plain Error does not pass for its subclasses TypeError or RangeError). Anything
 * else is rethrown so fast-check shrinks the input and reports it.
 */
export function returnsOrThrows<R>(
  decode: () => R,
  allowed: readonly (abstract new (...args: never[]) => Error)[],
  exact = false,
): R | Error {
  try {
    return decode();
  } catch (err) {
    const ok = allowed.some((cls) => (exact ? err instanceof Error && err.constructor === cls : err instanceof cls));
    if (!ok) throw err;
    return err as Error;
  }
}

/** The protocol's rule: a value or a ProtocolError. */
export function valueOrProtocolError<R>(decode: () => R): R | ProtocolError {
  return returnsOrThrows(decode, [ProtocolError]) as R | ProtocolError;
}

/** Any bytes, biased to short strings (most decoders read fixed parts of a few dozen bytes). */
export const anyBytes = (maxLength = 512): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ maxLength }).map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));

/** A valid prefix with random bytes overwritten, cut or extended: reaches past the first checks. */
export function mutated(valid: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc
    .tuple(
      valid,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      fc.nat(),
      anyBytes(64),
      fc.boolean(),
    )
    .map(([base, edits, cut, tail, extend]) => {
      const b = Buffer.from(base);
      for (const [at, v] of edits) if (b.length > 0) b[at % b.length] = v;
      if (extend) return Buffer.concat([b, tail]);
      return b.subarray(0, b.length === 0 ? 0 : cut % (b.length + 1));
    });
}

export const u8 = fc.integer({ min: 0, max: 0xff });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
export const u64 = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });
