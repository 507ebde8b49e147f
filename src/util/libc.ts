import { createRequire } from 'node:module';

/** libc's functions as koffi declares them: `func('int name(...)')`. */
export interface Libc {
  func(signature: string): (...args: unknown[]) => unknown;
}

let libc: Libc | null | undefined;
let failure = '';

/**
 * libc through koffi (an optional dependency with prebuilt binaries), loaded once; null with
 * `libcUnavailableReason()` saying why when it cannot be.
 */
export function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as { load(path: string): Libc };
    libc = koffi.load('libc.so.6');
  } catch (err) {
    failure = `koffi could not be loaded (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
    libc = null;
  }
  return libc;
}

export function libcUnavailableReason(): string {
  loadLibc();
  return failure;
}
