import { encodeDataHeader } from '../protocol/header.js';
import { messageSize, type OutMessage } from '../protocol/message.js';

/** One flush's messages laid out as they go on the wire (mini headers), and the iovecs they came as. */
export interface FlushBytes {
  readonly bytes: Buffer;
  readonly iovecs: number;
}

interface Entry {
  readonly messages: readonly OutMessage[];
  bytes: FlushBytes | undefined;
  /** When it was last matched or made (a counter, for replacing the least recently used). */
  used: number;
}

/**
 * Flushes remembered at once. Viewers of one desktop that keep up are in a handful of states at
 * most (the same pipe items, differing only where an image was a cache hit for some); more
 * distinct flushes than this in a row are per-viewer anyway and would only churn the table.
 */
const MAX_ENTRIES = 8;

/**
 * Flushes larger than this are not laid out in one buffer: their bulk is image payloads already
 * shared by reference, and copying them would cost more than the iovecs it saves.
 */
const MAX_SHARED_FLUSH_BYTES = 64 << 10;

/**
 * The bytes of pipe flushes shared by the connections of one channel (its many viewers). Items
 * queued for every viewer are the same message objects (a fill encoded once, a shared image's
 * DRAW_COPY), and with mini headers a message carries no serial, so two viewers whose flush is the
 * same messages in the same order get the same bytes. The first flush of a sequence is only
 * remembered (one viewer alone pays no copy: its writes, hence the replay's figures, are unchanged);
 * the second lays the sequence out in one buffer, which that viewer and every later one with the
 * same flush write as it is: one write of one buffer each, no header or iovec bookkeeping per
 * viewer. Messages are compared by reference, so a flush that differs by one per-viewer message
 * (a FROM_CACHE, an INVAL_LIST) is simply another sequence.
 */
export class SharedFlushes {
  private readonly entries: Entry[] = [];
  private clock = 0;
  /** Flushes written from a shared buffer, and buffers laid out (stats and tests). */
  hits = 0;
  built = 0;

  /**
   * The wire bytes of `messages` (mini headers; `bytes` is their total) if another connection
   * flushed the very same messages; otherwise remembers them and returns undefined.
   */
  lookup(messages: readonly OutMessage[], bytes: number): FlushBytes | undefined {
    if (bytes > MAX_SHARED_FLUSH_BYTES || messages.length === 0) return undefined;
    const now = ++this.clock;
    for (const e of this.entries) {
      if (!sameMessages(e.messages, messages)) continue;
      e.used = now;
      if (!e.bytes) {
        e.bytes = layOut(messages, bytes);
        this.built++;
      }
      this.hits++;
      return e.bytes;
    }
    this.remember({ messages, bytes: undefined, used: now });
    return undefined;
  }

  private remember(entry: Entry): void {
    if (this.entries.length < MAX_ENTRIES) {
      this.entries.push(entry);
      return;
    }
    let oldest = 0;
    for (let i = 1; i < this.entries.length; i++) if (this.entries[i]!.used < this.entries[oldest]!.used) oldest = i;
    this.entries[oldest] = entry;
  }
}

function sameMessages(a: readonly OutMessage[], b: readonly OutMessage[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Header and body of each message, one after the other, in one buffer. */
function layOut(messages: readonly OutMessage[], size: number): FlushBytes {
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  let iovecs = 0;
  for (const m of messages) {
    at += encodeDataHeader(true, m.type, messageSize(m), 0n).copy(out, at);
    for (const p of m.parts) at += p.copy(out, at);
    iovecs += 1 + m.parts.length;
  }
  return { bytes: out.subarray(0, at), iovecs };
}
