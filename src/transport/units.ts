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
  /** Bytes in `open`: held in user space like queued units, so the stream counts them as buffered. */
  openBytes = 0;
  /** Index in `open` where the flush's last message begins. */
  private lastMessageAt = 0;
  private ready: WriteUnit[] = [];
  /** Copies made by gathering (the `small` policy's cost, counted so benchmarks can show it). */
  gatheredBytes = 0;

  /**
   * @param splitLastMessage give a flush's last message its own unit (TLS: see endFlush); plain
   * TCP has no records and needs no split.
   */
  constructor(
    private readonly coalesce: CoalescePolicy,
    private readonly splitLastMessage = true,
  ) {}

  /** Add one message (its header and body iovecs, in order). */
  addMessage(iovecs: readonly Buffer[]): void {
    switch (this.coalesce) {
      case 'flush':
        this.lastMessageAt = this.open.length;
        for (const b of iovecs) {
          if (b.length === 0) continue;
          this.open.push(b);
          this.openBytes += b.length;
        }
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

  /**
   * End of a flush: everything, including the open `flush` unit. The flush's last message leaves
   * in an SSL_write of its own, so the final TLS record of a flush never holds more than one
   * message. spice-gtk reads a TLS channel only while its socket is readable: messages decrypted
   * into OpenSSL's buffer behind the one it is reading stay unread until more bytes arrive, which
   * after the last flush (or before an ACK the server waits for) is never.
   */
  endFlush(): WriteUnit[] {
    if (this.open.length > 0) {
      if (this.splitLastMessage && this.lastMessageAt > 0) {
        this.ready.push(this.open.slice(0, this.lastMessageAt), this.open.slice(this.lastMessageAt));
      } else {
        this.ready.push(this.open);
      }
      this.open = [];
      this.openBytes = 0;
      this.lastMessageAt = 0;
    }
    return this.takeReady();
  }
}
