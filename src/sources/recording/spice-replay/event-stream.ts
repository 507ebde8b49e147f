import { inflateSync } from 'node:zlib';
import type { Point, Rect } from '../../../protocol/geometry.js';
import { ByteReader } from './byte-source.js';

/*
 * Tokenizer for spice-server recordings ("SPICE_REPLAY 1", server/red-record-qxl.c).
 *
 *   "SPICE_REPLAY 1\n"
 *   per event:   "event <counter> <what> <type> <timestamp_ns>\n"      what 0 = QXL command,
 *                                                                      1 = device I/O message
 *                then the event's body: text lines "key v1 v2 ...\n" and binary blobs
 *   blob:        "binary <zlib 0|1> <name> <size>:" <size raw bytes> "\n"
 *            or  "binary 1 <name> <size>:<zsize>:" <zsize zlib bytes> "\n"
 *
 * The body has no length and no terminator: an event ends where the next "event " line starts.
 * Blob bytes may contain anything (also "\nevent "), so blobs are always skipped by their declared
 * length, never scanned. Nothing else about the body is interpreted here; the decoders read it
 * with a FieldCursor in the order red-record-qxl.c wrote it.
 */

export type BodyItem = { kind: 'line'; text: string } | { kind: 'blob'; name: string; data: Buffer };

export interface RawEvent {
  /** The counter written by the recorder (its own numbering, starting at 0). */
  readonly counter: number;
  /** 0 = QXL command, 1 = device I/O message. */
  readonly what: number;
  /** QXLCmdType (what = 0) or RedWorkerMessage (what = 1). */
  readonly type: number;
  /** CLOCK_MONOTONIC nanoseconds of the recording machine. */
  readonly timeNs: bigint;
  readonly items: readonly BodyItem[];
}

const MAX_LINE = 64 * 1024;
const BINARY_PREFIX = Buffer.from('binary ', 'latin1');
const EVENT_PREFIX = 'event ';

/** Streams the events of a recording, one at a time (each event's body is held in memory). */
export async function* readRawEvents(source: AsyncIterable<Buffer>): AsyncGenerator<RawEvent> {
  const reader = new ByteReader(source);
  try {
    await readFileHeader(reader);
    let header = await readItem(reader, -1);
    while (header) {
      if (header.kind !== 'line' || !header.text.startsWith(EVENT_PREFIX)) {
        throw new Error(`recording: expected an "event" line at offset ${reader.offset}, got ${describeItem(header)}`);
      }
      const parsed = parseEventLine(header.text, reader.offset);
      const items: BodyItem[] = [];
      const next = await readBody(reader, parsed.counter, items);
      yield { ...parsed, items };
      header = next;
    }
  } finally {
    await reader.close();
  }
}

/** Reads body items into `items`; returns the next event line (or null at the end). */
async function readBody(reader: ByteReader, counter: number, items: BodyItem[]): Promise<BodyItem | null> {
  try {
    let next = await readItem(reader, counter);
    while (next && !(next.kind === 'line' && next.text.startsWith(EVENT_PREFIX))) {
      items.push(next);
      next = await readItem(reader, counter);
    }
    return next;
  } catch (e) {
    // Truncation and framing errors come from the byte reader, which knows offsets but not events.
    const message = e instanceof Error ? e.message : String(e);
    if (message.startsWith('recording: event')) throw e;
    throw new Error(`recording: event ${counter}: ${message}`, { cause: e });
  }
}

async function readFileHeader(reader: ByteReader): Promise<void> {
  const line = await reader.readUntil(0x0a, 256);
  const text = line?.toString('latin1') ?? '';
  const m = /^SPICE_REPLAY (\d+)$/.exec(text);
  if (!m) throw new Error(`recording: not a SPICE_REPLAY file (first line ${JSON.stringify(text.slice(0, 40))})`);
  if (m[1] !== '1') throw new Error(`recording: unsupported SPICE_REPLAY version ${m[1]} (only 1 is known)`);
}

function parseEventLine(text: string, offset: number): Omit<RawEvent, 'items'> {
  const m = /^event (\d+) (\d+) (\d+) (\d+)$/.exec(text);
  if (!m) throw new Error(`recording: malformed event line ${JSON.stringify(text)} at offset ${offset}`);
  return { counter: Number(m[1]), what: Number(m[2]), type: Number(m[3]), timeNs: BigInt(m[4]!) };
}

/** The next text line or blob; null at the end of the stream. */
async function readItem(reader: ByteReader, counter: number): Promise<BodyItem | null> {
  const head = await reader.peek(BINARY_PREFIX.length);
  if (head.equals(BINARY_PREFIX)) return readBlob(reader, counter);
  const line = await reader.readUntil(0x0a, MAX_LINE);
  return line === null ? null : { kind: 'line', text: line.toString('latin1') };
}

async function readBlob(reader: ByteReader, counter: number): Promise<BodyItem> {
  const where = `recording: event ${counter}: blob at offset ${reader.offset}`;
  const head = (await reader.readUntil(0x3a, 1024))?.toString('latin1');
  const m = head === undefined ? null : /^binary ([01]) (\S+) (\d+)$/.exec(head);
  if (!m) throw new Error(`${where}: malformed blob header ${JSON.stringify(head)}`);
  const size = Number(m[3]);
  let data: Buffer;
  if (m[1] === '1') {
    const zsizeText = (await reader.readUntil(0x3a, 32))?.toString('latin1') ?? '';
    if (!/^\d+$/.test(zsizeText)) throw new Error(`${where}: malformed compressed size ${JSON.stringify(zsizeText)}`);
    data = inflateSync(await reader.readExact(Number(zsizeText)));
    if (data.length !== size) throw new Error(`${where}: inflated to ${data.length} bytes, header says ${size}`);
  } else {
    data = await reader.readExact(size);
  }
  const newline = await reader.readExact(1);
  if (newline[0] !== 0x0a) throw new Error(`${where}: blob "${m[2]}" of ${size} bytes is not followed by a newline`);
  return { kind: 'blob', name: m[2]!, data };
}

function describeItem(item: BodyItem): string {
  return item.kind === 'line' ? JSON.stringify(item.text.slice(0, 60)) : `a blob "${item.name}" (${item.data.length} bytes)`;
}

/**
 * Reads an event body in order. Every accessor names the key it expects, and a mismatch is an
 * error that names the event counter, the position and what was found instead.
 */
export class FieldCursor {
  private index = 0;

  constructor(private readonly event: RawEvent) {}

  get counter(): number {
    return this.event.counter;
  }

  fail(message: string): never {
    throw new Error(`recording: event ${this.event.counter} (what ${this.event.what}, type ${this.event.type}): ${message}`);
  }

  /** True when the next item is a text line starting with `key` (followed by a space or the end). */
  peekKey(key: string): boolean {
    const item = this.event.items[this.index];
    return item?.kind === 'line' && (item.text === key || item.text.startsWith(`${key} `));
  }

  /** The whitespace-separated values after `key` on the next line. */
  values(key: string, count?: number): string[] {
    const item = this.event.items[this.index];
    if (item?.kind !== 'line') this.fail(`expected "${key}", got ${item ? describeItem(item) : 'the end of the event'}`);
    const words = item.text.split(' ');
    if (words[0] !== key) this.fail(`expected "${key}", got ${describeItem(item)}`);
    if (count !== undefined && words.length - 1 !== count) this.fail(`"${key}" needs ${count} values, got ${JSON.stringify(item.text)}`);
    this.index++;
    return words.slice(1);
  }

  /** A bare keyword line such as "drawable". */
  keyword(key: string): void {
    this.values(key, 0);
  }

  int(key: string): number {
    return this.toInt(key, this.values(key, 1)[0]!);
  }

  ints(key: string, count: number): number[] {
    return this.values(key, count).map((v) => this.toInt(key, v));
  }

  /** u64 values (ids, palette "unique") that do not fit a JS number. */
  bigint(key: string): bigint {
    const v = this.values(key, 1)[0]!;
    if (!/^-?\d+$/.test(v)) this.fail(`"${key}" is not an integer: ${JSON.stringify(v)}`);
    return BigInt(v);
  }

  /** "rect <name> top left bottom right" */
  rect(name: string): Rect {
    const v = this.values('rect', 5);
    if (v[0] !== name) this.fail(`expected "rect ${name}", got "rect ${v.join(' ')}"`);
    const [top, left, bottom, right] = v.slice(1).map((x) => this.toInt(`rect ${name}`, x)) as [number, number, number, number];
    return { top, left, bottom, right };
  }

  point(key = 'point'): Point {
    const [x, y] = this.ints(key, 2) as [number, number];
    return { x, y };
  }

  blob(name: string): Buffer {
    const item = this.event.items[this.index];
    if (item?.kind !== 'blob' || item.name !== name) {
      this.fail(`expected blob "${name}", got ${item ? describeItem(item) : 'the end of the event'}`);
    }
    this.index++;
    return item.data;
  }

  /** The next item must be a line whose whole text is given (the primary-surface lines have no key). */
  bareInts(count: number, what: string): number[] {
    const item = this.event.items[this.index];
    if (item?.kind !== 'line') this.fail(`expected ${what}, got ${item ? describeItem(item) : 'the end of the event'}`);
    const words = item.text.split(' ');
    if (words.length !== count) this.fail(`expected ${count} numbers (${what}), got ${JSON.stringify(item.text)}`);
    this.index++;
    return words.map((w) => this.toInt(what, w));
  }

  /** Every item must have been read: leftovers mean the decoder and the file disagree. */
  end(): void {
    const item = this.event.items[this.index];
    if (item) this.fail(`unexpected ${describeItem(item)} after the end of the record`);
  }

  private toInt(key: string, v: string): number {
    if (!/^-?\d+$/.test(v)) this.fail(`"${key}" is not an integer: ${JSON.stringify(v)}`);
    return Number(v);
  }
}
