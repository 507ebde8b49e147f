import { messageSize, type OutMessage } from '../protocol/message.js';

/**
 * A pipe item: one message waiting to be sent to one client. It holds its payload by reference
 * and is marshalled only when it leaves, so an item that is dropped (e.g. display damage merging)
 * costs no encoding. Items shared between clients must not be mutated.
 */
export interface PipeItem {
  /** One message, or several that must leave together in this order (e.g. a cache eviction before a draw). */
  marshal(): OutMessage | readonly OutMessage[];
  /** Bytes this item keeps alive until sent (raw pixels for images); used for memory bounds. */
  readonly weight: number;
  /** Called once the message has been handed to the stream. */
  sent?(): void;
  /**
   * Set while the item's payload is still being made off the event loop (a JPEG on the threadpool):
   * the pipe waits at this item, so what comes after it keeps its order, and goes on once it settles.
   */
  readonly pending?: Promise<void> | undefined;
}

/** An item for a message that is already encoded. */
export function messageItem(m: OutMessage): PipeItem {
  return { marshal: () => m, weight: messageSize(m) };
}

/**
 * A FIFO with cheap shift, an urgent lane (urgent items leave first, in their own order) and a
 * background lane (its items leave only when nothing else waits: video frames, which must not hold
 * up a typed glyph or a menu).
 * An item that has left is no longer referenced: items hold whole captured frames, and a sent slot
 * that kept its item until the next compaction held up to 1024 of them (gigabytes during a drag).
 */
export class Pipe<T extends PipeItem = PipeItem> {
  private urgentItems: T[] = [];
  private backgroundItems: T[] = [];
  /** Slots before `head` have left and hold undefined. */
  private items: Array<T | undefined> = [];
  private head = 0;
  private bytes = 0;

  get length(): number {
    return this.urgentItems.length + this.items.length - this.head + this.backgroundItems.length;
  }

  /** Items queued in the urgent and normal lanes: what leaves before the background lane. */
  get foregroundLength(): number {
    return this.urgentItems.length + this.items.length - this.head;
  }

  /** Sum of the weights of items still queued. */
  get weight(): number {
    return this.bytes;
  }

  push(item: T): void {
    this.items.push(item);
    this.bytes += item.weight;
  }

  pushUrgent(item: T): void {
    this.urgentItems.push(item);
    this.bytes += item.weight;
  }

  pushBackground(item: T): void {
    this.backgroundItems.push(item);
    this.bytes += item.weight;
  }

  /** The item shift() would return next, left in place. */
  peek(): T | undefined {
    if (this.urgentItems.length > 0) return this.urgentItems[0];
    if (this.head < this.items.length) return this.items[this.head];
    return this.backgroundItems[0];
  }

  shift(): T | undefined {
    const item =
      this.urgentItems.length > 0 ? this.urgentItems.shift() : (this.shiftNormal() ?? this.backgroundItems.shift());
    if (item) this.bytes -= item.weight;
    return item;
  }

  private shiftNormal(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head] = undefined;
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Remove (and return) every queued normal or background item matching `pred`, keeping the others in order. */
  extract<U extends T>(pred: (item: T) => item is U): U[];
  extract(pred: (item: T) => boolean): T[];
  extract(pred: (item: T) => boolean): T[] {
    const taken: T[] = [];
    const kept: T[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const it = this.items[i]!;
      if (pred(it)) {
        taken.push(it);
        this.bytes -= it.weight;
      } else kept.push(it);
    }
    this.items = kept;
    this.head = 0;
    const background: T[] = [];
    for (const it of this.backgroundItems) {
      if (pred(it)) {
        taken.push(it);
        this.bytes -= it.weight;
      } else background.push(it);
    }
    this.backgroundItems = background;
    return taken;
  }

  /**
   * Walk the normal lane from the newest item back (at most `limit` items): `visit` says whether
   * to drop the item, keep it and go on, or stop. Returns how many were dropped.
   */
  dropFromTail(visit: (item: T) => 'drop' | 'keep' | 'stop', limit: number): number {
    let dropped = 0;
    for (let i = this.items.length - 1, seen = 0; i >= this.head && seen < limit; i--, seen++) {
      const it = this.items[i]!;
      const verdict = visit(it);
      if (verdict === 'stop') break;
      if (verdict === 'keep') continue;
      this.items.splice(i, 1);
      this.bytes -= it.weight;
      dropped++;
    }
    return dropped;
  }

  /** Remove and return the oldest item that matches, leaving the others in order. */
  extractFirst(pred: (item: T) => boolean): T | undefined {
    for (let i = this.head; i < this.items.length; i++) {
      const it = this.items[i]!;
      if (!pred(it)) continue;
      this.items.splice(i, 1);
      this.bytes -= it.weight;
      return it;
    }
    return undefined;
  }

  clear(): void {
    this.urgentItems = [];
    this.backgroundItems = [];
    this.items = [];
    this.head = 0;
    this.bytes = 0;
  }
}
