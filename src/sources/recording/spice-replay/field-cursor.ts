import type { Point, Rect } from '../../../protocol/geometry.js';
import type { BodyItems, EventHeader } from './event-stream.js';

/*
 * Reads an event body in order. Every accessor names the key it expects, and a mismatch is an
 * error that names the event counter, the position and what was found instead.
 *
 * Two readers implement it: ByteCursor (byte-cursor.ts) reads well-formed bodies straight from
 * the bytes in one pass and gives up on anything else; ItemCursor (here) reads a body that has
 * been split into items first, and words every error.
 */
export interface FieldCursor {
  readonly counter: number;
  /** Throws an error about this event. */
  fail(message: string): never;
  /** True when the next item is a text line starting with `key` (followed by a space or the end). */
  peekKey(key: string): boolean;
  /** A bare keyword line such as "drawable". */
  keyword(key: string): void;
  int(key: string): number;
  ints(key: string, count: number): number[];
  /** u64 values (ids, palette "unique") that do not fit a JS number. */
  bigint(key: string): bigint;
  /** "rect <name> top left bottom right" */
  rect(name: string): Rect;
  point(key?: string): Point;
  blob(name: string): Buffer;
  /** The next item must be a line whose whole text is given (the primary-surface lines have no key). */
  bareInts(count: number, what: string): number[];
  /** Every item must have been read: leftovers mean the decoder and the file disagree. */
  end(): void;
}

/**
 * The careful reader, over a body split into items (event-stream.ts): each line is split into
 * words, so values and error messages are exactly what the format has always given. Only used
 * where ByteCursor gives up, so it favours plain code over speed.
 */
export class ItemCursor implements FieldCursor {
  private index = 0;

  constructor(
    private readonly event: EventHeader,
    private readonly items: BodyItems,
  ) {}

  get counter(): number {
    return this.event.counter;
  }

  fail(message: string): never {
    throw new Error(
      `recording: event ${this.event.counter} (what ${this.event.what}, type ${this.event.type}): ${message}`,
    );
  }

  peekKey(key: string): boolean {
    if (!this.items.isLine(this.index)) return false;
    const text = this.items.text(this.index);
    return text === key || text.startsWith(`${key} `);
  }

  /** The whitespace-separated values after `key` on the next line. */
  values(key: string, count?: number): string[] {
    const i = this.index;
    if (!this.items.isLine(i)) this.fail(`expected "${key}", got ${this.items.describe(i)}`);
    const text = this.items.text(i);
    const words = text.split(' ');
    if (words[0] !== key) this.fail(`expected "${key}", got ${this.items.describe(i)}`);
    if (count !== undefined && words.length - 1 !== count)
      this.fail(`"${key}" needs ${count} values, got ${JSON.stringify(text)}`);
    this.index++;
    return words.slice(1);
  }

  keyword(key: string): void {
    this.values(key, 0);
  }

  int(key: string): number {
    return this.toInt(key, this.values(key, 1)[0]!);
  }

  ints(key: string, count: number): number[] {
    return this.values(key, count).map((v) => this.toInt(key, v));
  }

  bigint(key: string): bigint {
    const v = this.values(key, 1)[0]!;
    if (!/^-?\d+$/.test(v)) this.fail(`"${key}" is not an integer: ${JSON.stringify(v)}`);
    return BigInt(v);
  }

  rect(name: string): Rect {
    const v = this.values('rect', 5);
    if (v[0] !== name) this.fail(`expected "rect ${name}", got "rect ${v.join(' ')}"`);
    const [top, left, bottom, right] = v.slice(1).map((x) => this.toInt(`rect ${name}`, x)) as [
      number,
      number,
      number,
      number,
    ];
    return { top, left, bottom, right };
  }

  point(key = 'point'): Point {
    const [x, y] = this.ints(key, 2) as [number, number];
    return { x, y };
  }

  blob(name: string): Buffer {
    const i = this.index;
    if (!this.items.isBlob(i) || this.items.text(i) !== name)
      this.fail(`expected blob "${name}", got ${this.items.describe(i)}`);
    this.index++;
    return this.items.data(i);
  }

  bareInts(count: number, what: string): number[] {
    const i = this.index;
    if (!this.items.isLine(i)) this.fail(`expected ${what}, got ${this.items.describe(i)}`);
    const text = this.items.text(i);
    const words = text.split(' ');
    if (words.length !== count) this.fail(`expected ${count} numbers (${what}), got ${JSON.stringify(text)}`);
    this.index++;
    return words.map((w) => this.toInt(what, w));
  }

  end(): void {
    if (this.index < this.items.count)
      this.fail(`unexpected ${this.items.describe(this.index)} after the end of the record`);
  }

  private toInt(key: string, v: string): number {
    if (!/^-?\d+$/.test(v)) this.fail(`"${key}" is not an integer: ${JSON.stringify(v)}`);
    return Number(v);
  }
}
