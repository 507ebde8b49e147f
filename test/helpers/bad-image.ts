import { expect } from 'vitest';
import { ProtocolError } from '../../src/protocol/errors.js';

/** `decode(data)` must refuse the image with a BAD_IMAGE ProtocolError whose message matches. */
export function expectBadImage(decode: (data: Buffer) => unknown, data: Buffer, pattern: RegExp): void {
  let caught: unknown;
  try {
    decode(data);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  const err = caught as ProtocolError;
  expect(err.code).toBe('BAD_IMAGE');
  expect(err.message).toMatch(pattern);
}
