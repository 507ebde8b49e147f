import type { Writable } from 'node:stream';

/**
 * For the TLS bench's ceiling row only (a plain Node TLS server, not spiced, which counts its
 * writes where it submits them). Counts the writes a Node stream really makes: every call of its
 * `_write` or `_writev` is one write to the layer below (one SSL_write for a TLS socket, one
 * writev for a TCP socket), whatever Node merged on the way. Wrapping the instance's methods observes without changing behaviour.
 */
export interface WriteMeter {
  calls: number;
  bytes: number;
}

type WriteFn = (chunk: Buffer | string, encoding: BufferEncoding, cb: (err?: Error | null) => void) => void;
type WritevFn = (
  chunks: { chunk: Buffer | string; encoding: BufferEncoding }[],
  cb: (err?: Error | null) => void,
) => void;

/** Bytes of a written chunk: the HTTP server (web viewer on the TLS port) writes strings too. */
function chunkBytes(chunk: Buffer | string, encoding: BufferEncoding): number {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : chunk.length;
}

export function meterWrites(stream: Writable, onWrite?: (bytes: number) => void): WriteMeter {
  const meter: WriteMeter = { calls: 0, bytes: 0 };
  const target = stream as unknown as { _write: WriteFn; _writev?: WritevFn };
  const write = target._write;
  const writev = target._writev;
  const record = (n: number): void => {
    meter.calls++;
    meter.bytes += n;
    onWrite?.(n);
  };
  target._write = function (this: unknown, chunk, encoding, cb) {
    record(chunkBytes(chunk, encoding));
    return write.call(this, chunk, encoding, cb);
  };
  if (writev) {
    target._writev = function (this: unknown, chunks, cb) {
      let n = 0;
      for (const c of chunks) n += chunkBytes(c.chunk, c.encoding);
      record(n);
      return writev.call(this, chunks, cb);
    };
  }
  return meter;
}
