import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { constants as zlibConstants, createBrotliDecompress, createGunzip } from 'node:zlib';
import type { SeamCommand } from '../../../seam/index.js';
import { peekUvarint, RecordingFormatError } from './bytes.js';
import { parseHeaderJson, parsePreamble, PREAMBLE_SIZE, type BodyCompression, type RecordingHeader } from './header.js';
import { decodeEnd, RecordDecoder, Tag } from './records.js';

export interface TimedSeamCommand {
  /** Nanoseconds since the start of the recording (microsecond resolution in this format). */
  timeNs: bigint;
  command: SeamCommand;
}

/** How a read went; final once commands() has finished. */
export interface ReadStatus {
  /** Command records read. */
  records: number;
  /** The writer's end record was found: the recording was closed properly. */
  complete: boolean;
  /** Records with tags this reader does not know (from a newer minor version), skipped. */
  skipped: number;
  /** Bytes of an incomplete last record (a recording cut short); they are ignored. */
  trailingBytes: number;
}

/** Longest possible record prefix: tag u8 + two 8-byte varints. */
const MAX_RECORD_PREFIX = 17;
/** The largest record a writer can produce: a raw image of the largest surface (16384 x 16384) plus its fields. */
const MAX_RECORD_BYTES = 16384 * 16384 * 4 + 64;

/**
 * Reads a spiced recording incrementally: the file is streamed through the decompressor and records are
 * decoded one at a time. A recording cut short (a crashed writer, a copy in progress) reads up to
 * its last complete record; corrupt data is an error naming the record and offset.
 */
export class SpicedRecordingReader {
  readonly status: ReadStatus = { records: 0, complete: false, skipped: 0, trailingBytes: 0 };
  private started = false;

  constructor(readonly path: string) {}

  /** The recording's timestamped commands. Can be iterated once. */
  async *commands(): AsyncGenerator<TimedSeamCommand> {
    if (this.started) throw new Error('SpicedRecordingReader.commands() can only be iterated once');
    this.started = true;
    const { bodyOffset, compression } = await readSpicedHeader(this.path);
    const splitter = new RecordSplitter(this.path);
    const decoder = new RecordDecoder();
    let us = 0n;
    let index = 0;
    for await (const chunk of bodyChunks(
      this.path,
      bodyOffset,
      compression,
      () => `after record ${index} (decompressed body offset ${splitter.offset})`,
    )) {
      splitter.push(chunk);
      for (let rec = splitter.next(); rec !== undefined; rec = splitter.next()) {
        us += BigInt(rec.dt);
        const where = `${this.path}: record ${index} (tag 0x${rec.tag.toString(16)}) at decompressed body offset ${rec.offset}`;
        index++;
        if (rec.tag === Tag.End) {
          this.finish(decodeEnd(rec.payload, where), where);
          return;
        }
        const command = decoder.decode(rec.tag, rec.payload, where);
        if (command === undefined) {
          this.status.skipped++;
          continue;
        }
        this.status.records++;
        yield { timeNs: us * 1000n, command };
      }
    }
    this.status.trailingBytes = splitter.buffered;
  }

  private finish(expected: number, where: string): void {
    if (expected !== this.status.records)
      throw new RecordingFormatError(
        `${where}: end record counts ${expected} command records, ${this.status.records} were read`,
      );
    this.status.complete = true;
  }
}

/** The recording's timestamped commands (see SpicedRecordingReader). */
export async function* readSpicedRecording(path: string): AsyncGenerator<TimedSeamCommand> {
  yield* new SpicedRecordingReader(path).commands();
}

/** The header (and where the compressed body starts), without touching the body. */
async function readSpicedHeader(path: string): Promise<{
  header: RecordingHeader;
  major: number;
  minor: number;
  compression: BodyCompression;
  bodyOffset: number;
}> {
  const fh = await open(path, 'r');
  try {
    const fixed = Buffer.alloc(PREAMBLE_SIZE);
    const { bytesRead } = await fh.read(fixed, 0, PREAMBLE_SIZE, 0);
    const { major, minor, compression, headerLength } = parsePreamble(fixed.subarray(0, bytesRead), path);
    const json = Buffer.alloc(headerLength);
    const got = (await fh.read(json, 0, headerLength, PREAMBLE_SIZE)).bytesRead;
    if (got < headerLength)
      throw new RecordingFormatError(
        `${path}: cut short inside the header (${got} of ${headerLength} bytes at offset ${PREAMBLE_SIZE})`,
      );
    return { header: parseHeaderJson(json, path), major, minor, compression, bodyOffset: PREAMBLE_SIZE + headerLength };
  } finally {
    await fh.close();
  }
}

/**
 * The decompressed body. A flush as finishFlush makes the decompressor hand out everything it
 * could decode from a truncated stream instead of failing with "unexpected end of file".
 */
async function* bodyChunks(
  path: string,
  offset: number,
  compression: BodyCompression,
  progress: () => string,
): AsyncGenerator<Buffer> {
  const inflate =
    compression === 'gzip'
      ? createGunzip({ finishFlush: zlibConstants.Z_SYNC_FLUSH })
      : createBrotliDecompress({ finishFlush: zlibConstants.BROTLI_OPERATION_FLUSH });
  // Errors of either stream destroy the other and surface through the iteration below; the
  // callback has nothing left to do.
  pipeline(createReadStream(path, { start: offset }), inflate, () => undefined);
  try {
    for await (const chunk of inflate) yield chunk as Buffer;
  } catch (err) {
    // File errors (ENOENT, EIO, ...) carry a syscall and pass as they are; anything else came
    // from the decompressor and means the bytes are not what the writer produced.
    if (!(err instanceof Error) || 'syscall' in err) throw err;
    throw new RecordingFormatError(`${path}: ${compression} body is corrupt ${progress()}: ${err.message}`);
  }
}

interface RawRecord {
  tag: number;
  dt: number;
  payload: Buffer;
  /** Offset of the record in the decompressed body. */
  offset: number;
}

/** Cuts a byte stream into records without concatenating more than one record's bytes. */
class RecordSplitter {
  private chunks: Buffer[] = [];

  constructor(private readonly file: string) {}

  /** Read position inside chunks[0]. */
  private head = 0;
  /** Unconsumed bytes across chunks. */
  buffered = 0;
  /** Body offset of the first unconsumed byte. */
  offset = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next complete record, or undefined until more bytes arrive. */
  next(): RawRecord | undefined {
    if (this.buffered === 0) return undefined;
    const prefix = this.peek(Math.min(MAX_RECORD_PREFIX, this.buffered));
    const dt = this.varint(prefix, 1);
    const len = dt && this.varint(prefix, dt.next);
    if (!dt || !len) return undefined;
    if (len.value > MAX_RECORD_BYTES) {
      throw new RecordingFormatError(
        `${this.file}: record at decompressed body offset ${this.offset} claims ${len.value} bytes (at most ${MAX_RECORD_BYTES})`,
      );
    }
    if (this.buffered < len.next + len.value) return undefined;
    const offset = this.offset;
    const bytes = this.take(len.next + len.value);
    return { tag: prefix[0] as number, dt: dt.value, payload: bytes.subarray(len.next), offset };
  }

  private varint(prefix: Buffer, at: number): { value: number; next: number } | undefined {
    try {
      return peekUvarint(prefix, at);
    } catch (err) {
      throw new RecordingFormatError(
        `${this.file}: record at decompressed body offset ${this.offset}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const parts: Buffer[] = [first.subarray(this.head)];
    let have = parts[0]!.length;
    for (let i = 1; have < n && i < this.chunks.length; i++) {
      const c = this.chunks[i] as Buffer;
      parts.push(c);
      have += c.length;
    }
    return Buffer.concat(parts).subarray(0, n);
  }

  private take(n: number): Buffer {
    this.buffered -= n;
    this.offset += n;
    const first = this.chunks[0] as Buffer;
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.advance(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const c = this.chunks[0] as Buffer;
      const step = Math.min(n - got, c.length - this.head);
      c.copy(out, got, this.head, this.head + step);
      got += step;
      this.advance(step);
    }
    return out;
  }

  private advance(n: number): void {
    this.head += n;
    if (this.head === (this.chunks[0] as Buffer).length) {
      this.chunks.shift();
      this.head = 0;
    }
  }
}
