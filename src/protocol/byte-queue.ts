/**
 * A queue of received chunks. `take(n)` returns a view when the bytes lie in one chunk (the usual
 * case) and copies only when a message straddles chunks: the receiver never concatenates eagerly.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private head = 0; // read offset into chunks[0]
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** Remove and return exactly n bytes, or undefined (and nothing consumed) if fewer are queued. */
  take(n: number): Buffer | undefined {
    if (n > this.total) return undefined;
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    if (first.length - this.head >= n) {
      const view = first.subarray(this.head, this.head + n);
      this.advance(n);
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length - this.head, n - filled);
      c.copy(out, filled, this.head, this.head + k);
      filled += k;
      this.advance(k);
    }
    return out;
  }

  /** Read n bytes without consuming them (copies only when split across chunks). */
  peek(n: number): Buffer | undefined {
    if (n > this.total) return undefined;
    const first = this.chunks[0];
    if (first && first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let i = 0;
    let off = this.head;
    while (filled < n) {
      const c = this.chunks[i]!;
      const k = Math.min(c.length - off, n - filled);
      c.copy(out, filled, off, off + k);
      filled += k;
      i++;
      off = 0;
    }
    return out;
  }

  /** Everything still queued, as views; the queue is left empty. */
  drain(): Buffer[] {
    const out = this.chunks.map((c, i) => (i === 0 ? c.subarray(this.head) : c));
    this.chunks = [];
    this.head = 0;
    this.total = 0;
    return out;
  }

  private advance(n: number): void {
    this.total -= n;
    this.head += n;
    while (this.chunks.length > 0 && this.head >= this.chunks[0]!.length) {
      this.head -= this.chunks[0]!.length;
      this.chunks.shift();
    }
  }
}
