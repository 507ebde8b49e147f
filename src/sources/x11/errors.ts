/* X protocol errors (core codes 1..17; extensions add theirs from their first-error base). */

const CORE_ERROR_NAMES = [
  'Success',
  'BadRequest',
  'BadValue',
  'BadWindow',
  'BadPixmap',
  'BadAtom',
  'BadCursor',
  'BadFont',
  'BadMatch',
  'BadDrawable',
  'BadAccess',
  'BadAlloc',
  'BadColor',
  'BadGC',
  'BadIDChoice',
  'BadName',
  'BadLength',
  'BadImplementation',
];

export const BAD_MATCH = 8;

export class XError extends Error {
  constructor(
    readonly code: number,
    readonly errorName: string,
    readonly majorOpcode: number,
    readonly minorOpcode: number,
    readonly badValue: number,
    readonly sequence: number,
    readonly request: string,
  ) {
    super(
      `X error ${errorName} (${code}) from ${request} (major ${majorOpcode}, minor ${minorOpcode}), value 0x${badValue.toString(16)}, sequence ${sequence}`,
    );
    this.name = 'XError';
  }
}

export function coreErrorName(code: number): string | undefined {
  return CORE_ERROR_NAMES[code];
}

/** The X connection is gone (server exit, socket error, or close()). */
export class XConnectionLost extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'XConnectionLost';
  }
}
