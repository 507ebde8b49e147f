import type { Duplex } from 'node:stream';

/**
 * Received bytes on their way to one consumer at a time (the front door, the link stage, then
 * the channel). Bytes that arrive while nobody listens are kept, and can be given back (`unread`)
 * or handed with the socket to a new owner (`release`): a connection never loses a byte when it
 * changes hands.
 */
export class Inbox {
  private handler: ((chunk: Buffer) => void) | undefined;
  private early: Buffer[] = [];
  private released = false;

  deliver(chunk: Buffer): void {
    if (this.released) return;
    if (this.handler) this.handler(chunk);
    else this.early.push(chunk);
  }

  onData(cb: (chunk: Buffer) => void): void {
    this.handler = cb;
    const early = this.early;
    this.early = [];
    for (const c of early) cb(c);
  }

  unread(chunks: Buffer[]): void {
    this.handler = undefined;
    this.early = [...chunks, ...this.early];
  }

  /**
   * Stop reading `socket` and put back into it what was received but not delivered. The socket is
   * paused so nothing is emitted before the new owner listens; the new owner resumes it.
   */
  release<S extends Duplex>(socket: S): S {
    this.released = true;
    this.handler = undefined;
    socket.pause();
    const early = this.early;
    this.early = [];
    for (let i = early.length - 1; i >= 0; i--) socket.unshift(early[i]!);
    return socket;
  }
}
