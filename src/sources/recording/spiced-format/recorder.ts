import { createWriteStream } from 'node:fs';
import { finished, type Writable } from 'node:stream';
import {
  constants as zlibConstants,
  createBrotliCompress,
  createGzip,
  type BrotliCompress,
  type Gzip,
} from 'node:zlib';
import type { SeamCommand } from '../../../seam/index.js';
import { ByteWriter } from './bytes.js';
import {
  encodePreamble,
  FORMAT_MAJOR,
  FORMAT_MINOR,
  spicedVersion,
  type BodyCompression,
  type RecordingHeader,
  type RecordingMeta,
} from './header.js';
import type { ImageStorage } from './images.js';
import { RecordEncoder } from './records.js';

export interface RecorderOptions {
  /**
   * Called once when recording fails (an I/O error, or the disk cannot keep up). Afterwards
   * write() does nothing. Without a handler, the error is thrown by the next write() or close().
   */
  onError?: (err: Error) => void;
  /** How often buffered records are compressed and sync-flushed to the file (default 1000 ms). */
  flushIntervalMs?: number;
  /** Image storage inside records (default 'raw'; see images.ts). */
  images?: ImageStorage;
  /** Body compression (default brotli at quality 5; docs/recording-format.md has the numbers). */
  compression?: BodyCompression;
  /** Compression level: brotli quality 0..11 (default 5) or gzip level 1..9 (default 6). */
  level?: number;
  /** Give up when this many bytes wait for the disk (default 64 MiB): memory stays bounded. */
  maxBacklogBytes?: number;
}

/** Records are handed to the compressor in batches of about this size: one zlib call per record would be slow. */
const BATCH_BYTES = 64 * 1024;

/** open: recording; ended: the compressor is finishing the file; broken: an I/O error destroyed the streams. */
type State = 'open' | 'ended' | 'broken';

type Compressor = Gzip | BrotliCompress;

function createCompressor(kind: BodyCompression, level: number | undefined): { stream: Compressor; flushKind: number } {
  if (kind === 'gzip') return { stream: createGzip({ level: level ?? 6 }), flushKind: zlibConstants.Z_SYNC_FLUSH };
  const params = { [zlibConstants.BROTLI_PARAM_QUALITY]: level ?? 5 };
  return { stream: createBrotliCompress({ params }), flushKind: zlibConstants.BROTLI_OPERATION_FLUSH };
}

/**
 * Writes a spiced recording (docs/recording-format.md) while a session runs. write() is
 * synchronous and cheap: it encodes the record into a memory batch; batches are compressed on
 * zlib's thread pool, and a flush every `flushIntervalMs` bounds what a crash can lose.
 */
export class SessionRecorder {
  onError: ((err: Error) => void) | undefined;
  private readonly encoder: RecordEncoder;
  private readonly pending = new ByteWriter(BATCH_BYTES * 2);
  private readonly body: Compressor;
  private readonly flushKind: number;
  private readonly timer: NodeJS.Timeout;
  private readonly closed: Promise<void>;
  private readonly maxBacklog: number;
  private state: State = 'open';
  private failure: Error | undefined;
  /** The failure has reached someone (the handler, or a caller through a throw). */
  private failureDelivered = false;
  private lastUs = 0n;
  private records = 0;
  private compressed = 0;
  private unflushed = false;

  private constructor(
    private readonly out: Writable,
    readonly header: RecordingHeader,
    options: RecorderOptions,
    /** The file name (or a label for a stream), for error messages. */
    readonly name: string,
  ) {
    this.onError = options.onError;
    this.encoder = new RecordEncoder(options.images ?? 'raw');
    this.maxBacklog = options.maxBacklogBytes ?? 64 * 1024 * 1024;
    const compression = options.compression ?? 'brotli';
    const preamble = encodePreamble(header, compression);
    this.compressed = preamble.length;
    out.write(preamble);
    const { stream, flushKind } = createCompressor(compression, options.level);
    this.body = stream;
    this.flushKind = flushKind;
    this.body.on('data', (chunk: Buffer) => (this.compressed += chunk.length));
    this.body.on('error', (err) => this.fail(new Error(`recording ${name}: compression failed: ${err.message}`), true));
    out.on('error', (err) => this.fail(new Error(`recording ${name}: write failed: ${err.message}`), true));
    // Settles once the output is done (finished and closed, or destroyed); errors go to fail() above.
    this.closed = new Promise((resolve) => finished(out, () => resolve()));
    this.body.pipe(out);
    this.timer = setInterval(() => this.periodicFlush(), options.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  /** Create (truncate) `path` and start a recording in it. */
  static async open(path: string, meta: RecordingMeta, options: RecorderOptions = {}): Promise<SessionRecorder> {
    const out = createWriteStream(path);
    await new Promise<void>((resolve, reject) => {
      out.once('ready', () => resolve());
      out.once('error', (err) => reject(new Error(`cannot create recording ${path}: ${err.message}`)));
    });
    return new SessionRecorder(out, makeHeader(meta), options, path);
  }

  /** Record into any writable stream (ended by close()). */
  static create(out: Writable, meta: RecordingMeta, options: RecorderOptions = {}, name = 'stream'): SessionRecorder {
    return new SessionRecorder(out, makeHeader(meta), options, name);
  }

  /** Command records written so far. */
  get recordCount(): number {
    return this.records;
  }

  /** Bytes produced so far (header plus compressed body handed to the file). */
  get bytesWritten(): number {
    return this.compressed;
  }

  /** Why recording stopped, if it failed. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** True while write() stores commands. */
  get recording(): boolean {
    return this.state === 'open' && !this.failure;
  }

  /**
   * Append one command at `timeNs` nanoseconds since the start (stored to the microsecond; must
   * not go backwards). Throws for a command the format cannot hold (nothing is written then).
   */
  write(timeNs: bigint, cmd: SeamCommand): void {
    if (this.failure) return this.deliverFailure();
    if (this.state !== 'open') throw new Error(`recording ${this.name} is closed`);
    if (timeNs < 0n) throw new RangeError(`recording ${this.name}: negative timestamp ${timeNs} ns`);
    const us = (timeNs + 500n) / 1000n;
    if (us < this.lastUs)
      throw new RangeError(
        `recording ${this.name}: timestamp ${timeNs} ns is before the previous record (${this.lastUs} us)`,
      );
    const { tag, payload } = this.encoder.encode(cmd);
    this.append(tag, us, payload);
    this.records++;
    if (this.pending.length >= BATCH_BYTES) this.handOff();
  }

  /** Compress what is buffered and flush it (resolves when the compressor has produced the bytes). */
  async flush(): Promise<void> {
    if (this.state !== 'open') return;
    this.handOff();
    this.unflushed = false;
    await new Promise<void>((resolve) => this.body.flush(this.flushKind, () => resolve()));
  }

  /** Write the end record and finish the file. Throws a failure no handler has received. */
  async close(): Promise<void> {
    if (this.state === 'open') {
      const { tag, payload } = this.encoder.encodeEnd(this.records);
      this.append(tag, this.lastUs, payload);
      this.finish();
    }
    if (this.state === 'ended') await this.closed;
    this.deliverFailure();
  }

  /**
   * Stop recording because of `err` (a command that cannot be recorded, say) and report it once
   * through onError. What was recorded so far is finished properly but without the end record,
   * so the file reads as a recording cut short at this point.
   */
  abort(err: Error): void {
    this.fail(err, false);
  }

  private fail(err: Error, ioBroken: boolean): void {
    if (this.failure) return;
    this.failure = err;
    if (ioBroken) {
      // The file cannot take more bytes: drop everything, keep what reached it.
      clearInterval(this.timer);
      this.state = 'broken';
      this.body.unpipe(this.out);
      this.body.destroy();
      this.out.destroy();
    } else if (this.state === 'open') {
      this.finish();
    }
    if (this.onError) {
      this.failureDelivered = true;
      this.onError(err);
    }
  }

  /** Hand over the last batch and let the compressor end the file. */
  private finish(): void {
    this.handOff();
    // handOff may have found the disk hopelessly behind and broken the streams.
    if (this.state !== 'open') return;
    clearInterval(this.timer);
    this.state = 'ended';
    this.body.end();
  }

  private deliverFailure(): void {
    if (this.failureDelivered || !this.failure) return;
    this.failureDelivered = true;
    throw this.failure;
  }

  private append(tag: number, us: bigint, payload: Buffer): void {
    const dt = Number(us - this.lastUs);
    this.pending.u8(tag).uvarint(dt, 'time delta').uvarint(payload.length, 'record length').bytes(payload);
    this.lastUs = us;
    this.unflushed = true;
  }

  /** Give the batch to the compressor, unless the disk is so far behind that memory would grow without bound. */
  private handOff(): void {
    if (this.pending.length === 0 || this.state !== 'open') return;
    const backlog = this.body.writableLength + this.out.writableLength;
    if (backlog > this.maxBacklog) {
      this.fail(
        new Error(`recording ${this.name}: ${Math.round(backlog / 1048576)} MiB wait for the disk; recording stopped`),
        true,
      );
      return;
    }
    this.body.write(this.pending.take());
  }

  private periodicFlush(): void {
    if (!this.unflushed || this.state !== 'open') return;
    this.handOff();
    this.unflushed = false;
    if (this.state === 'open') this.body.flush(this.flushKind);
  }
}

function makeHeader(meta: RecordingMeta): RecordingHeader {
  return {
    tool: 'spiced',
    version: spicedVersion(),
    created: new Date().toISOString(),
    format: `${FORMAT_MAJOR}.${FORMAT_MINOR}`,
    ...meta,
  };
}

/**
 * Write a whole command sequence (a generator, a converted SPICE_REPLAY file, ...) to `path`. If
 * the sequence fails, the file is left reading as cut short and the error is rethrown.
 */
export async function writeRecording(
  path: string,
  meta: RecordingMeta,
  commands:
    Iterable<{ timeNs: bigint; command: SeamCommand }> | AsyncIterable<{ timeNs: bigint; command: SeamCommand }>,
  options: RecorderOptions = {},
): Promise<{ commands: number; bytes: number }> {
  const recorder = await SessionRecorder.open(path, meta, options);
  try {
    for await (const { timeNs, command } of commands) recorder.write(timeNs, command);
  } catch (err) {
    recorder.abort(err instanceof Error ? err : new Error(String(err)));
  }
  await recorder.close();
  return { commands: recorder.recordCount, bytes: recorder.bytesWritten };
}
