import { inflateSync } from 'node:zlib';
import type { Point, Rect } from '../../../protocol/geometry.js';
import type { EventHeader, EventScanner } from './event-stream.js';
import type { FieldCursor } from './field-cursor.js';

/*
 * The fast FieldCursor: reads a well-formed event in place, in one pass over its bytes, with no
 * strings, word arrays or item table. It accepts only the plain case, exactly as the careful
 * reader (ItemCursor over a split body) would read it:
 *
 *   event  "event <counter> <what> <type> <time>\n"      unsigned
 *   line   "<key>[ <name>] <int> <int> ...\n"   single spaces, /-?\d+/ each (taken as Number()
 *                                               of the text takes them; u64 fields as BigInt())
 *   blob   "binary 0 <name> <size>:" <size bytes> "\n"  or  "binary 1 <name> <size>:<zsize>:" ...
 *   end    the next event line, complete, or the end of the recording
 *
 * Anything else - a malformed or truncated item, a decoder's own complaint (fail), a longer
 * number - throws MISS, and the caller reads the event again with ItemCursor, which then gives
 * the value or the error exactly as before. So this reader only ever decides the easy cases.
 *
 * Every item is read by one method, item(), against what the accessor expects; the accessors
 * are one-line wrappers. An import runs briefly, and V8 spent more CPU optimizing it than
 * running it, mostly on copies of small parsing functions inlined into every accessor and
 * decoder. item() is one reader, too large for V8 to inline (its limit is 460 bytes of bytecode;
 * item() has about 500), so it is optimized once.
 */

class FastPathMiss extends Error {}

/** Thrown by ByteCursor when it leaves the event to the careful reader (one shared instance). */
const MISS: Error = new FastPathMiss('not a plain well-formed event');

const NL = 0x0a;
const SPACE = 0x20;
const MINUS = 0x2d;
const ZERO = 0x30;
const ONE = 0x31;
const NINE = 0x39;
const COLON = 0x3a;
/** Up to 15 decimal digits a double holds exactly, whatever the digits are; longer numbers are read from the text. */
const MAX_DIGITS = 15;
const BINARY = 'binary ';
/** item()'s key for a blob (a line never starts with "binary ": that is how blobs are told apart). */
const BLOB = 'binary';
const EVENT = 'event';

export class ByteCursor implements FieldCursor {
  private readonly buf: Buffer;
  /** The same bytes as Latin-1 text: words are compared by the string builtins, not byte by byte. */
  private readonly text: string;
  /** The start of the next item. */
  private pos = 0;
  /** The numbers of the line read last. */
  private readonly nums: number[] = [0, 0, 0, 0];
  /** Whether any of them had a minus sign, or more than MAX_DIGITS digits. */
  private signed = false;
  private long = false;
  /** Where the line read last starts. */
  private lineStart = 0;
  /** The payload of the blob read last. */
  private data: Buffer | null = null;
  /** Where the size read last by size() ends (past its colon). */
  private itemEnd = 0;
  /** The header read ahead by end(), the start of its line and of the body after it. */
  private ahead: EventHeader | null = null;
  private aheadAt = -1;
  private aheadBody = 0;
  counter = 0;
  /** After end(): where the next event line starts (the length of the recording at its end). */
  nextEvent = 0;

  constructor(private readonly scanner: EventScanner) {
    this.buf = scanner.buf;
    this.text = scanner.text;
  }

  /** The event line at `pos`; the body is read next. */
  header(pos: number): EventHeader {
    let header = this.ahead;
    if (this.aheadAt === pos && header) {
      this.pos = this.aheadBody;
    } else {
      this.pos = pos;
      header = this.eventLine();
    }
    this.ahead = null;
    this.aheadAt = -1;
    this.counter = header.counter;
    return header;
  }

  fail(): never {
    throw MISS;
  }

  peekKey(key: string): boolean {
    const p = this.pos;
    if (!this.text.startsWith(key, p)) return false;
    const next = this.buf[p + key.length];
    return next === SPACE || next === NL;
  }

  keyword(key: string): void {
    this.item(key, '', 0);
  }

  int(key: string): number {
    this.item(key, '', 1);
    return small(this.nums[0]!);
  }

  ints(key: string, count: number): number[] {
    this.item(key, '', count);
    return this.nums.slice(0, count).map(small);
  }

  bigint(key: string): bigint {
    const v = this.int(key);
    // A u64 beyond 15 digits may not fit a double: the digits themselves, as BigInt() takes them.
    return this.long ? BigInt(this.text.slice(this.lineStart + key.length + 1, this.pos - 1)) : BigInt(v);
  }

  rect(name: string): Rect {
    this.item('rect', name, 4);
    const v = this.nums;
    return { top: small(v[0]!), left: small(v[1]!), bottom: small(v[2]!), right: small(v[3]!) };
  }

  point(key = 'point'): Point {
    this.item(key, '', 2);
    const v = this.nums;
    return { x: small(v[0]!), y: small(v[1]!) };
  }

  bareInts(count: number): number[] {
    // An empty line would pass as no numbers, but it is no list of them.
    if (count < 1) throw MISS;
    this.item('', '', count);
    return this.nums.slice(0, count).map(small);
  }

  blob(name: string): Buffer {
    this.item(BLOB, name, 0);
    return this.data!;
  }

  /** The body ends with the recording or at a complete event line, which is read ahead. */
  end(): void {
    const p = this.pos;
    this.nextEvent = p;
    if (p >= this.buf.length) return;
    try {
      this.ahead = this.eventLine();
      this.aheadAt = p;
      this.aheadBody = this.pos;
      return;
    } catch {
      // Not a plain event line: if it is one at all, the next event's careful read judges it.
    }
    if (!this.scanner.finishBody(p, this.counter)) throw MISS;
  }

  /** "event <counter> <what> <type> <time>" at the cursor, which moves past it. */
  private eventLine(): EventHeader {
    this.item(EVENT, '', 4);
    if (this.signed) throw MISS;
    const v = this.nums;
    // Nanosecond clocks pass 15 digits after 11.6 days of uptime: then the time is read as text.
    const timeNs = this.long
      ? BigInt(this.text.slice(this.text.lastIndexOf(' ', this.pos - 1) + 1, this.pos - 1))
      : BigInt(v[3]!);
    return { counter: v[0]!, what: v[1]!, type: v[2]!, timeNs };
  }

  /**
   * The item at the cursor, which must be a text line "<key>[ <name>] <n1> ... <count>\n" (no
   * key: bare numbers; the numbers go to nums) or, for the key BLOB, the blob `name` (its
   * payload goes to data); the cursor moves to the next item.
   */
  private item(key: string, name: string, count: number): void {
    const b = this.buf;
    let p = this.pos;
    let c = b[p];
    if (key === BLOB) {
      this.data = this.blobAt(p, name);
      return;
    }
    this.lineStart = p;
    if (key !== '') {
      if (!this.text.startsWith(key, p)) throw MISS;
      p += key.length;
      c = b[p];
      if (c === SPACE) {
        c = b[++p];
        if (name !== '') {
          if (!this.text.startsWith(name, p)) throw MISS;
          p += name.length;
          c = b[p];
          if (c === SPACE) c = b[++p];
          else if (c !== NL) throw MISS;
        }
        // A space is always followed by a number.
        if (c === NL) throw MISS;
      } else if (c !== NL || name !== '') {
        throw MISS;
      }
    }
    this.signed = false;
    this.long = false;
    let n = 0;
    const nums = this.nums;
    while (c !== NL) {
      if (n > 0) {
        if (c !== SPACE) throw MISS;
        c = b[++p];
      }
      const negative = c === MINUS;
      if (negative) {
        this.signed = true;
        c = b[++p];
      }
      const first = p;
      let v = 0;
      // Past the end c is undefined, which is no digit and ends the number like any other byte.
      while (c !== undefined && c >= ZERO && c <= NINE) {
        v = v * 10 + (c - ZERO);
        c = b[++p];
      }
      if (p === first || (c !== SPACE && c !== NL)) throw MISS;
      if (p - first > MAX_DIGITS) {
        // Digit by digit a double may round differently from Number() of the whole text.
        v = Number(this.text.slice(first, p));
        this.long = true;
      }
      nums[n++] = negative ? -v : v;
    }
    if (n !== count) throw MISS;
    this.pos = p + 1;
  }

  /** "binary <0|1> <name> <size>:" at `p`, then the payload (a view, or inflated) and a newline. */
  private blobAt(p: number, name: string): Buffer {
    const b = this.buf;
    if (!this.text.startsWith(BINARY, p)) throw MISS;
    p += BINARY.length;
    const zlib = b[p] === ONE;
    if ((!zlib && b[p] !== ZERO) || b[p + 1] !== SPACE || !this.text.startsWith(name, p + 2)) throw MISS;
    p += 2 + name.length;
    if (b[p] !== SPACE) throw MISS;
    const size = this.size(p + 1);
    let data: Buffer;
    if (zlib) {
      const zsize = this.size(this.itemEnd);
      data = inflated(this.slice(this.itemEnd, zsize), size);
      p = this.itemEnd + zsize;
    } else {
      // A view: the recording's Buffer is never written.
      data = this.slice(this.itemEnd, size);
      p = this.itemEnd + size;
    }
    if (b[p] !== NL) throw MISS;
    this.pos = p + 1;
    return data;
  }

  /** A blob's size: digits at `p` ending at a colon (itemEnd is set past it). */
  private size(p: number): number {
    const b = this.buf;
    const first = p;
    let v = 0;
    for (let d = b[p]! - ZERO; d >= 0 && d <= 9; d = b[++p]! - ZERO) v = v * 10 + d;
    if (p === first || p - first > MAX_DIGITS || b[p] !== COLON) throw MISS;
    this.itemEnd = p + 1;
    return v;
  }

  private slice(p: number, n: number): Buffer {
    if (p + n > this.buf.length) throw MISS;
    return this.buf.subarray(p, p + n);
  }
}

/** A zlib blob's payload, which must inflate to `size` bytes. */
function inflated(compressed: Buffer, size: number): Buffer {
  let data: Buffer;
  try {
    data = inflateSync(compressed);
  } catch {
    throw MISS;
  }
  if (data.length !== size) throw MISS;
  return data;
}

/**
 * A number from `nums` as a small integer (V8's Smi) when it is one. `nums` also carries u64 values
 * beyond 32 bits, so V8 keeps it as an array of doubles and hands every element out as a heap
 * number: stored into a rect, a point or an image's size, one such value turned those objects'
 * fields into doubles for the whole process (every rect a source, the desktop or a channel made
 * then carried four boxed numbers), and code compiled for small-integer rects was thrown away.
 */
function small(v: number): number {
  // Object.is keeps -0 (the careful reader's Number("-0")) as it is.
  return Object.is(v | 0, v) ? v | 0 : v;
}
