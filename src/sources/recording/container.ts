import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';

/*
 * Recordings as byte streams, whatever they are wrapped in: SPICE_REPLAY files are often kept
 * compressed (.xz by the project, .gz by spice-server's SPICE_WORKER_RECORD_FILTER=gzip). The
 * wrapper is recognised by its magic bytes, not by the file name.
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
    throw new Error(`xz -dc ${path} failed (${code !== null ? `exit ${code}` : `signal ${signal}`})${why ? `: ${why}` : ''}`);
  }
}
