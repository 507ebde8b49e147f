import { SMALL_MESSAGE_LIMIT, type CoalescePolicy } from './policy.js';

/**
 * Groups message iovecs into write units. A unit is what the transport receives in one call: one
 * SSL_write over TLS (one or more records), one writev over plain TCP, one frame over WebSocket.
 * Pure bookkeeping, no I/O, so every policy's grouping is unit-tested byte for byte.
 */
export type WriteUnit = Buffer[];

export function unitSize(unit: readonly Buffer[]): number {
  let n = 0;
  for (const b of unit) n += b.length;
  return n;
}

export class UnitBuilder {
  private open: Buffer[] = [];
  private ready: WriteUnit[] = [];
  /** Copies made by gathering (the `small` policy's cost, counted so benchmarks can show it). */
  gatheredBytes = 0;

  constructor(private readonly coalesce: CoalescePolicy) {}

  /** Add one message (its header and body iovecs, in order). */
  addMessage(iovecs: readonly Buffer[]): void {
    switch (this.coalesce) {
      case 'flush':
        for (const b of iovecs) if (b.length > 0) this.open.push(b);
        return;
      case 'none':
        for (const b of iovecs) if (b.length > 0) this.ready.push([b]);
        return;
      case 'small': {
        const size = unitSize(iovecs);
        if (size <= SMALL_MESSAGE_LIMIT && iovecs.length > 1) {
          this.ready.push([Buffer.concat(iovecs as Buffer[], size)]);
          this.gatheredBytes += size;
        } else {
          for (const b of iovecs) if (b.length > 0) this.ready.push([b]);
        }
        return;
      }
    }
  }

  /** Units complete so far (`none`/`small` produce them per message); the builder keeps the rest. */
  takeReady(): WriteUnit[] {
    const out = this.ready;
    this.ready = [];
    return out;
  }

  /** End of a flush: everything, including the open `flush` unit. */
  endFlush(): WriteUnit[] {
    if (this.open.length > 0) {
      this.ready.push(this.open);
      this.open = [];
    }
    return this.takeReady();
  }
}
