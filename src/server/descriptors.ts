import { closeSync, openSync, readdirSync } from 'node:fs';
import type { Socket } from 'node:net';
import { softFdLimit } from '../util/fd-limit.js';
import type { ThrottledLog } from '../util/throttled-log.js';
import type { PreAuthGate } from './pre-auth.js';

/** How often the watch checks that a descriptor can still be had. */
const PROBE_INTERVAL_MS = 1000;

/**
 * Keeps descriptors for viewers. Out of descriptors, libuv accepts each waiting connection and
 * closes it at once (so the port stays usable) without telling Node: the next viewer is dropped
 * and nothing is logged. So the server counts its sockets and, near the limit, closes the oldest
 * connection still waiting to authenticate for each new one; and a probe each second notices when
 * descriptors run out anyway (something else holds them), logs it, and closes a batch of those
 * connections.
 */
export class DescriptorWatch {
  private limit: number | undefined;
  /** Descriptors in use at start that are not sockets of ours (stdio, epoll, pipes, files). */
  private baseline = 0;
  private sockets = 0;
  private headroom = 0;
  private probe: NodeJS.Timeout | undefined;

  constructor(
    private readonly gate: PreAuthGate,
    private readonly log: ThrottledLog,
    private readonly connectionsOpen: () => number,
  ) {}

  start(): void {
    this.limit = softFdLimit();
    if (this.limit === undefined) return;
    this.headroom = Math.min(64, Math.ceil(this.limit / 8));
    this.baseline = countOpenDescriptors() ?? 0;
    this.probe = setInterval(() => this.checkProbe(), PROBE_INTERVAL_MS);
    this.probe.unref();
  }

  stop(): void {
    if (this.probe) clearInterval(this.probe);
  }

  /** A socket was accepted: count it until `closed` runs (idempotent), and keep room for the next. */
  accepted(raw: Socket): () => void {
    this.sockets++;
    let counted = true;
    const closed = (): void => {
      if (!counted) return;
      counted = false;
      this.sockets--;
    };
    raw.once('close', closed);
    if (this.limit !== undefined && this.baseline + this.sockets >= this.limit - this.headroom) {
      this.gate.shed(`few descriptors left (${this.baseline + this.sockets} of ${this.limit} in use)`);
    }
    return closed;
  }

  /** Accept or the probe met EMFILE/ENFILE: say so and free a batch of descriptors. */
  outOfDescriptors(code: string): void {
    let freed = 0;
    while (freed < Math.max(1, this.headroom) && this.gate.shed(`out of file descriptors (${code})`)) freed++;
    const limit = this.limit ?? 'unknown';
    const what = freed > 0 ? `closed ${freed} connections waiting to authenticate` : 'none waiting to authenticate';
    this.log.emit(
      'error',
      'out-of-descriptors',
      `out of file descriptors (${code}, limit ${limit}): new connections are dropped until some close; ` +
        `${what}; ${this.connectionsOpen()} connections open`,
    );
  }

  private checkProbe(): void {
    try {
      closeSync(openSync('/dev/null', 'r'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EMFILE' || code === 'ENFILE') this.outOfDescriptors(code);
      else throw err;
    }
  }
}

/** Descriptors this process holds (Linux), or undefined where that cannot be read. */
function countOpenDescriptors(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length - 1; // less the one reading the directory
  } catch {
    return undefined; // no /proc: the count starts from zero (the probe still notices exhaustion)
  }
}
