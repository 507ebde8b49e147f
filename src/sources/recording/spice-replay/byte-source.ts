import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';

/*
 * Byte sources for recordings: a plain file is streamed with fs; a `.xz` file is streamed through
 * `xz -dc`, so neither is ever held in memory as a whole. ByteReader turns the chunks into the
 * primitives the recording format needs (text lines, "read up to ':'", exact byte counts).
 */

const CHUNK_SIZE = 1 << 20;

/** Chunks of a recording file, decompressed on the fly when the name ends in `.xz`. */
export function openRecording(path: string): AsyncIterable<Buffer> {
  return path.endsWith('.xz') ? xzChunks(path) : fileChunks(path);
}

async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  const stream = createReadStream(path, { highWaterMark: CHUNK_SIZE });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } finally {
    stream.destroy();
  }
}

async function* xzChunks(path: string): AsyncGenerator<Buffer> {
  const child = spawn('xz', ['-dc', '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (b: Buffer) => stderr.push(b));
  // Settles (never rejects) when xz has gone, so an abandoned generator leaves no unhandled rejection.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  let finished = false;
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    finished = true;
  } finally {
    // The consumer may stop early (an error in a later event, or it only wanted a prefix).
    if (!finished) child.kill('SIGTERM');
  }
  const { code, signal, error } = await exited;
  if (error) throw new Error(`cannot run xz to decompress ${path}: ${error.message}`);
  if (code !== 0) {
    const why = Buffer.concat(stderr).toString('utf8').trim();
    throw new Error(`xz -dc ${path} failed (${code !== null ? `exit ${code}` : `signal ${signal}`})${why ? `: ${why}` : ''}`);
  }
}

/** Pull-based reader over a chunk iterator with a small look-ahead buffer. */
export class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private ended = false;
  private readonly it: AsyncIterator<Buffer>;
  /** Bytes consumed so far (for error messages). */
  offset = 0;

  constructor(source: AsyncIterable<Buffer>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Stop the underlying source (kills xz when the caller gives up early). */
  async close(): Promise<void> {
    await this.it.return?.();
  }

  /** True when every byte has been consumed. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  /** The next `n` bytes without consuming them (fewer at the end of the stream). */
  async peek(n: number): Promise<Buffer> {
    await this.fill(n);
    return this.buf.subarray(this.pos, Math.min(this.buf.length, this.pos + n));
  }

  /**
   * Bytes up to (not including) `delimiter`, which is consumed too. Null at the end of the stream;
   * an error when the delimiter does not come within `maxLength` bytes.
   */
  async readUntil(delimiter: number, maxLength: number): Promise<Buffer | null> {
    let scanned = 0;
    for (;;) {
      const at = this.buf.indexOf(delimiter, this.pos + scanned);
      if (at >= 0) {
        const out = this.buf.subarray(this.pos, at);
        this.consume(at + 1 - this.pos);
        return out;
      }
      if (this.buf.length - this.pos > maxLength) {
        throw new Error(`no ${JSON.stringify(String.fromCharCode(delimiter))} within ${maxLength} bytes at offset ${this.offset}`);
      }
      scanned = this.buf.length - this.pos;
      if (!(await this.fill(this.buf.length - this.pos + 1))) {
        if (this.buf.length === this.pos) return null;
        throw new Error(`stream ends inside a line at offset ${this.offset}`);
      }
    }
  }

  /** Exactly `n` bytes, as a fresh Buffer that does not pin the read chunks. */
  async readExact(n: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      if (this.pos === this.buf.length && !(await this.fill(1))) {
        throw new Error(`stream ends after ${got} of ${n} bytes at offset ${this.offset}`);
      }
      const take = Math.min(n - got, this.buf.length - this.pos);
      this.buf.copy(out, got, this.pos, this.pos + take);
      got += take;
      this.consume(take);
    }
    return out;
  }

  private consume(n: number): void {
    this.pos += n;
    this.offset += n;
  }

  /** Make at least `n` unread bytes available; false when the stream ends first. */
  private async fill(n: number): Promise<boolean> {
    if (this.buf.length - this.pos >= n) return true;
    const parts: Buffer[] = [this.buf.subarray(this.pos)];
    let have = parts[0]!.length;
    while (have < n && !this.ended) {
      const next = await this.it.next();
      if (next.done) {
        this.ended = true;
        break;
      }
      parts.push(next.value);
      have += next.value.length;
    }
    if (parts.length > 1) {
      this.buf = parts.length === 2 && parts[0]!.length === 0 ? parts[1]! : Buffer.concat(parts);
      this.pos = 0;
    }
    return have >= n;
  }
}
