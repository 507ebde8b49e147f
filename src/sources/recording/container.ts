import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip, gunzip as gunzipCallback } from 'node:zlib';

/*
 * Recordings as bytes, whatever they are wrapped in: SPICE_REPLAY files are often kept
 * compressed (.xz by the project, .gz by spice-server's SPICE_WORKER_RECORD_FILTER=gzip). The
 * wrapper is recognised by its magic bytes, not by the file name. Streams serve probing;
 * importing reads the whole (decompressed) file, which a synchronous parser then walks.
 */

export type Container = 'plain' | 'gzip' | 'xz';

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

/** Up to `n` bytes from the start of the file. */
export async function readHead(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export function containerOf(head: Buffer): Container {
  if (head.subarray(0, GZIP_MAGIC.length).equals(GZIP_MAGIC)) return 'gzip';
  if (head.subarray(0, XZ_MAGIC.length).equals(XZ_MAGIC)) return 'xz';
  return 'plain';
}

/** The file's bytes, decompressed on the fly; never the whole file in memory. */
export function decompressedChunks(path: string, container: Container): AsyncIterable<Buffer> {
  switch (container) {
    case 'plain':
      return fileChunks(path);
    case 'gzip':
      return gunzipChunks(path);
    case 'xz':
      return xzChunks(path);
  }
}

const gunzipBuffer = promisify(gunzipCallback);

/**
 * The file's whole decompressed content in one Buffer that belongs to the caller (nothing else
 * holds or writes it, so views into it can be handed out as immutable data).
 */
export async function readDecompressed(path: string, container: Container): Promise<Buffer> {
  switch (container) {
    case 'plain':
      return readWhole(path);
    case 'gzip':
      try {
        // zlib runs on the thread pool, off the event loop, as the streaming gunzip did.
        return await gunzipBuffer(await readWhole(path));
      } catch (err) {
        throw new Error(`gunzip ${path}: ${err instanceof Error ? err.message : String(err)}`);
      }
    case 'xz':
      return xzWhole(path);
  }
}

/**
 * `xz -dc` into one Buffer. xz writes 8 KB at a time, and taking ~1000 such chunks from a pipe
 * costs this process more CPU than the rest of an import; so xz writes into a private temporary
 * file instead, read back in one go. Without a usable temporary directory, a pipe it is.
 */
async function xzWhole(path: string): Promise<Buffer> {
  let dir: string;
  try {
    dir = await mkdtemp(join(tmpdir(), 'spiced-xz-'));
  } catch {
    return runXz(path, 'pipe');
  }
  try {
    const out = await open(join(dir, 'recording'), 'wx+', 0o600);
    try {
      await runXz(path, out.fd);
      return await readAll(out);
    } finally {
      await out.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A whole file in one Buffer, read with one call where the system allows (not 512 KB at a time). */
async function readWhole(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    return await readAll(fh);
  } finally {
    await fh.close();
  }
}

async function readAll(fh: FileHandle): Promise<Buffer> {
  const stat = await fh.stat();
  // Pipes and devices have no size to read at once.
  if (!stat.isFile()) return fh.readFile();
  const size = stat.size;
  const buf = Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const { bytesRead } = await fh.read(buf, got, size - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === size ? buf : buf.subarray(0, got);
}

/** Runs `xz -dc`, its output to `stdout` (a file descriptor) or collected from a pipe. */
function runXz(path: string, stdout: number | 'pipe'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('xz', ['-dc', '--', path], { stdio: ['ignore', stdout, 'pipe'] });
    const parts: Buffer[] = [];
    let size = 0;
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => {
      parts.push(b);
      size += b.length;
    });
    child.stderr?.on('data', (b: Buffer) => stderr.push(b));
    child.once('error', (error) => reject(new Error(`cannot run xz to decompress ${path}: ${error.message}`)));
    // 'close' comes after the pipes have ended, so every byte is in.
    child.once('close', (code, signal) => {
      if (code === 0) return resolve(Buffer.concat(parts, size));
      const why = Buffer.concat(stderr).toString('utf8').trim();
      reject(
        new Error(
          `xz -dc ${path} failed (${code !== null ? `exit ${code}` : `signal ${signal}`})${why ? `: ${why}` : ''}`,
        ),
      );
    });
  });
}

/** Every chunk of a stream in one fresh Buffer (a copy, so later changes to the chunks do not show). */
export async function concatChunks(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const c of chunks) {
    parts.push(c);
    total += c.length;
  }
  return Buffer.concat(parts, total);
}

/** The first `n` decompressed bytes (fewer if the stream is shorter); stops the stream early. */
export async function firstBytes(chunks: AsyncIterable<Buffer>, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let have = 0;
  for await (const c of chunks) {
    parts.push(c);
    have += c.length;
    if (have >= n) break;
  }
  return Buffer.concat(parts).subarray(0, n);
}

async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } finally {
    stream.destroy();
  }
}

async function* gunzipChunks(path: string): AsyncGenerator<Buffer> {
  const gunzip = createGunzip();
  // Errors of either stream reach the iteration below (pipeline destroys gunzip with them).
  pipeline(createReadStream(path), gunzip, () => undefined);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (err) {
    throw new Error(`gunzip ${path}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    gunzip.destroy();
  }
}

/** `xz -dc`, as the SPICE_REPLAY importer runs it for `.xz` names, but for any name. */
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
    // The consumer may stop early (format detection reads only the first bytes).
    if (!finished) child.kill('SIGTERM');
  }
  const { code, signal, error } = await exited;
  if (error) throw new Error(`cannot run xz to decompress ${path}: ${error.message}`);
  if (code !== 0) {
    const why = Buffer.concat(stderr).toString('utf8').trim();
    throw new Error(
      `xz -dc ${path} failed (${code !== null ? `exit ${code}` : `signal ${signal}`})${why ? `: ${why}` : ''}`,
    );
  }
}
