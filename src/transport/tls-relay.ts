import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { TlsRecordCounter } from './tls-records.js';

/**
 * The ciphertext relay between Node's TLS engine and the TCP socket (the `relay` TLS engine). Node
 * would otherwise write each SSL_write's records straight to the kernel; going through this relay
 * lets the stream layer cork the TCP socket in user space around a whole flush while every
 * SSL_write keeps its own boundary, and lets it count records exactly. While the socket is corked
 * writes are acknowledged at once (they only queue in user space); otherwise once the socket has
 * taken them.
 *
 * It costs: Node runs its TLS engine over a JS stream (JSStreamSocket), so every ciphertext chunk
 * is copied into a new Buffer and goes through JavaScript, and those buffers are external memory
 * that drives V8 into full GCs. The native engine (tls-conduit.ts) avoids all of it and is used
 * wherever TCP_CORK can replace the user-space cork.
 */
export class CiphertextRelay extends Duplex {
  readonly records = new TlsRecordCounter();

  constructor(private readonly raw: Socket) {
    super();
    raw.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) raw.pause();
    });
    raw.on('end', () => this.push(null));
    raw.on('error', (err) => this.destroy(err));
    raw.on('close', () => this.destroy());
  }

  override _read(): void {
    this.raw.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.records.push(chunk);
    if (this.raw.writableCorked > 0) {
      this.raw.write(chunk);
      cb();
    } else {
      this.raw.write(chunk, cb);
    }
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.raw.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.raw.destroy(err ?? undefined);
    cb(err);
  }
}
