import { inflateSync } from 'node:zlib';
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
 * with a FieldCursor (field-cursor.ts) in the order red-record-qxl.c wrote it.
 *
 * The scanner walks the whole recording in memory. An event's items are positions in it, kept in
 * one table that is reused for every event (nothing holds it after the event is decoded); blob
 * payloads are views into the recording, or inflated copies for zlib blobs. It is the careful
 * reader, used only where the fast one (ByteCursor, reading well-formed events in place) gives
 * up; so it favours plain code over speed.
 */

const LINE = 0;
const BLOB = 1;
const MAX_LINE = 64 * 1024;
const BINARY_PREFIX = Buffer.from('binary ', 'latin1');
const EVENT_PREFIX = 'event ';

/** The items of one event body: text lines and blobs, as positions in the recording. */
export class BodyItems {
  count = 0;
  private readonly kinds: number[] = [];
  /** Lines: the text; blobs: the name. */
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly blobs: (Buffer | null)[] = [];

  constructor(readonly buf: Buffer) {}

  reset(): void {
    this.count = 0;
  }

  push(kind: number, start: number, end: number, data: Buffer | null): void {
    const i = this.count++;
    this.kinds[i] = kind;
    this.starts[i] = start;
    this.ends[i] = end;
    this.blobs[i] = data;
  }

  isLine(i: number): boolean {
    return i < this.count && this.kinds[i] === LINE;
  }

  isBlob(i: number): boolean {
    return i < this.count && this.kinds[i] === BLOB;
  }

  start(i: number): number {
    return this.starts[i]!;
  }

  end(i: number): number {
    return this.ends[i]!;
  }

  /** A line's text, or a blob's name. */
  text(i: number): string {
    return this.buf.toString('latin1', this.starts[i], this.ends[i]);
  }

  data(i: number): Buffer {
    return this.blobs[i]!;
  }

  /** For error messages: the item, or "the end of the event". */
  describe(i: number): string {
    if (i >= this.count) return 'the end of the event';
    return this.isLine(i)
      ? JSON.stringify(this.text(i).slice(0, 60))
      : `a blob "${this.text(i)}" (${this.data(i).length} bytes)`;
  }
}

export interface EventHeader {
  /** The counter written by the recorder (its own numbering, starting at 0). */
  readonly counter: number;
  /** 0 = QXL command, 1 = device I/O message. */
  readonly what: number;
  /** QXLCmdType (what = 0) or RedWorkerMessage (what = 1). */
  readonly type: number;
  /** CLOCK_MONOTONIC nanoseconds of the recording machine. */
  readonly timeNs: bigint;
}

/**
 * The careful reader of an in-memory recording's events: seek() to an event line, nextHeader()
 * reads it, readBodyItems() splits the body into items, and the scanner is left at the next event
 * line (nextEventStart). Errors name the event (its counter) and the offset, worded as they
 * always were. ReplayEvents (replay-events.ts) only comes here when its fast path gives up.
 */
export class EventScanner {
  private readonly reader: ByteReader;
  private readonly items: BodyItems;
  /** False once the recording has no more items. */
  private more = false;
  // The item just read: a body item, or the event line that ends the body.
  private headKind = LINE;
  private headStart = 0;
  private headEnd = 0;
  private headData: Buffer | null = null;
  private latin1: string | undefined;
  /** Where the body of the event last returned by nextHeader() starts. */
  private bodyStart = 0;

  constructor(buf: Buffer) {
    this.reader = new ByteReader(buf);
    this.items = new BodyItems(buf);
  }

  get buf(): Buffer {
    return this.reader.buf;
  }

  /** The recording as Latin-1 text (one character per byte), made on first use. */
  get text(): string {
    this.latin1 ??= this.reader.buf.toString('latin1');
    return this.latin1;
  }

  /** Checks the "SPICE_REPLAY 1" line; returns where the first event starts. */
  readFileHeader(): number {
    this.reader.offset = 0;
    const end = this.reader.readUntil(0x0a, 256);
    const text = end < 0 ? '' : this.reader.text(0, end);
    const m = /^SPICE_REPLAY (\d+)$/.exec(text);
    if (!m) throw new Error(`recording: not a SPICE_REPLAY file (first line ${JSON.stringify(text.slice(0, 40))})`);
    if (m[1] !== '1') throw new Error(`recording: unsupported SPICE_REPLAY version ${m[1]} (only 1 is known)`);
    return this.reader.offset;
  }

  /**
   * Continue at `offset`: the first item after the file header, or an event line that has been
   * seen to be complete (so reading it cannot fail in a way that would name an event).
   */
  seek(offset: number): void {
    this.reader.offset = offset;
    this.more = this.readItem(-1);
  }

  /** The next event's header, or null at the end. */
  nextHeader(): EventHeader | null {
    if (!this.more) return null;
    const reader = this.reader;
    if (!this.headIsEventLine()) {
      throw new Error(`recording: expected an "event" line at offset ${reader.offset}, got ${this.describeHead()}`);
    }
    const header = this.parseEventLine(this.headStart, this.headEnd, reader.offset);
    this.bodyStart = reader.offset;
    return header;
  }

  /** The body of `header`'s event as items (valid until the next call), with framing errors. */
  readBodyItems(header: EventHeader): BodyItems {
    this.reader.offset = this.bodyStart;
    this.items.reset();
    this.more = this.readBody(header.counter);
    return this.items;
  }

  /** Where the next event line starts, after readBodyItems() (the length of the recording at its end). */
  get nextEventStart(): number {
    return this.more ? this.headStart : this.reader.buf.length;
  }

  /**
   * After a body has been read up to `end`: true when a complete line starting with "event "
   * follows, or nothing. False when anything else follows or the next item cannot be read: then
   * readBodyItems() must read the body again to say what is wrong.
   */
  finishBody(end: number, counter: number): boolean {
    this.reader.offset = end;
    try {
      this.more = this.readItem(counter);
    } catch {
      return false;
    }
    return !this.more || this.headIsEventLine();
  }

  private headIsEventLine(): boolean {
    const { headStart, headEnd } = this;
    return (
      this.headKind === LINE &&
      headEnd - headStart >= EVENT_PREFIX.length &&
      this.reader.text(headStart, headStart + EVENT_PREFIX.length) === EVENT_PREFIX
    );
  }

  private describeHead(): string {
    const text = this.reader.text(this.headStart, this.headEnd);
    return this.headKind === LINE
      ? JSON.stringify(text.slice(0, 60))
      : `a blob "${text}" (${this.headData!.length} bytes)`;
  }

  /** Reads body items; true when it stopped at the next event line, false at the end. */
  private readBody(counter: number): boolean {
    try {
      let more = this.readItem(counter);
      while (more && !this.headIsEventLine()) {
        this.items.push(this.headKind, this.headStart, this.headEnd, this.headData);
        more = this.readItem(counter);
      }
      return more;
    } catch (e) {
      // Truncation and framing errors come from the byte reader, which knows offsets but not events.
      const message = e instanceof Error ? e.message : String(e);
      if (message.startsWith('recording: event')) throw e;
      throw new Error(`recording: event ${counter}: ${message}`, { cause: e });
    }
  }

  private parseEventLine(start: number, end: number, offset: number): EventHeader {
    const text = this.reader.text(start, end);
    const m = /^event (\d+) (\d+) (\d+) (\d+)$/.exec(text);
    if (!m) throw new Error(`recording: malformed event line ${JSON.stringify(text)} at offset ${offset}`);
    return { counter: Number(m[1]), what: Number(m[2]), type: Number(m[3]), timeNs: BigInt(m[4]!) };
  }

  /** The next text line or blob into head*; false at the end of the recording. */
  private readItem(counter: number): boolean {
    const reader = this.reader;
    if (reader.startsWith(BINARY_PREFIX)) return this.readBlob(counter);
    const start = reader.offset;
    const end = reader.readUntil(0x0a, MAX_LINE);
    if (end < 0) return false;
    this.setHead(LINE, start, end, null);
    return true;
  }

  private setHead(kind: number, start: number, end: number, data: Buffer | null): void {
    this.headKind = kind;
    this.headStart = start;
    this.headEnd = end;
    this.headData = data;
  }

  private readBlob(counter: number): boolean {
    const reader = this.reader;
    const at = reader.offset;
    const where = `recording: event ${counter}: blob at offset ${at}`;
    const colon = reader.readUntil(0x3a, 1024);
    const head = colon < 0 ? undefined : reader.text(at, colon);
    const m = head === undefined ? null : /^binary ([01]) (\S+) (\d+)$/.exec(head);
    if (!m) throw new Error(`${where}: malformed blob header ${JSON.stringify(head)}`);
    const size = Number(m[3]);
    let data: Buffer;
    if (m[1] === '1') {
      const zstart = reader.offset;
      const zend = reader.readUntil(0x3a, 32);
      const zsizeText = zend < 0 ? '' : reader.text(zstart, zend);
      if (!/^\d+$/.test(zsizeText)) throw new Error(`${where}: malformed compressed size ${JSON.stringify(zsizeText)}`);
      data = inflateSync(reader.readExact(Number(zsizeText)));
      if (data.length !== size) throw new Error(`${where}: inflated to ${data.length} bytes, header says ${size}`);
    } else {
      data = reader.readExact(size);
    }
    const newline = reader.readExact(1);
    if (newline[0] !== 0x0a) throw new Error(`${where}: blob "${m[2]}" of ${size} bytes is not followed by a newline`);
    const nameStart = at + 'binary 0 '.length;
    this.setHead(BLOB, nameStart, nameStart + m[2]!.length, data);
    return true;
  }
}
