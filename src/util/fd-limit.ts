import { libcUnavailableReason, loadLibc } from './libc.js';

/*
 * The descriptor limit. Every connection is a descriptor, and many systems start processes with
 * a soft limit of 1024 under a much higher hard one: a server raises its own soft limit to the
 * hard one at start, so a flood of connections meets the pre-auth caps long before EMFILE.
 */

const RLIMIT_NOFILE = 7; // Linux

export interface FdLimit {
  soft: number;
  hard: number;
  /** The soft limit before it was raised (equal to `soft` when nothing changed). */
  before: number;
}

type RlimitCall = (resource: number, limits: Buffer) => number;

/** struct rlimit: two 64-bit counts; RLIM_INFINITY reads as a huge number. */
function read(buf: Buffer): { soft: number; hard: number } {
  return { soft: Number(buf.readBigUInt64LE(0)), hard: Number(buf.readBigUInt64LE(8)) };
}

interface RlimitCalls {
  getrlimit: RlimitCall;
  setrlimit: RlimitCall;
}

function rlimitCalls(): RlimitCalls | string {
  if (process.platform !== 'linux') return `the descriptor limit is only read on Linux (this is ${process.platform})`;
  const libc = loadLibc();
  if (!libc) return libcUnavailableReason();
  return {
    getrlimit: libc.func('int getrlimit(int resource, _Out_ void *limits)') as RlimitCall,
    setrlimit: libc.func('int setrlimit(int resource, const void *limits)') as RlimitCall,
  };
}

/** The soft descriptor limit, or undefined where it cannot be read. */
export function softFdLimit(): number | undefined {
  const calls = rlimitCalls();
  const buf = Buffer.alloc(16);
  return typeof calls === 'string' || calls.getrlimit(RLIMIT_NOFILE, buf) !== 0 ? undefined : read(buf).soft;
}

/**
 * Raise the soft descriptor limit to the hard limit. Returns the limits, or a reason they could
 * not be read (not Linux, no koffi).
 */
export function raiseFdLimit(): FdLimit | string {
  const calls = rlimitCalls();
  if (typeof calls === 'string') return calls;
  const buf = Buffer.alloc(16);
  if (calls.getrlimit(RLIMIT_NOFILE, buf) !== 0) return 'getrlimit(RLIMIT_NOFILE) failed';
  const { soft, hard } = read(buf);
  if (soft >= hard) return { soft, hard, before: soft };
  buf.writeBigUInt64LE(buf.readBigUInt64LE(8), 0);
  if (calls.setrlimit(RLIMIT_NOFILE, buf) !== 0) return { soft, hard, before: soft };
  return { soft: hard, hard, before: soft };
}
