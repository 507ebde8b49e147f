import { ProtocolError } from './errors.js';
import { ByteQueue } from './byte-queue.js';

/*
 * Data message headers (docs/protocol.md):
 *   mini: u16 type | u32 size                                (6 bytes)
 *   full: u64 serial | u16 type | u32 size | u32 sub_list    (18 bytes)
 * The mini header is used when both sides announced common cap MINI_HEADER.
 */
export const MINI_HEADER_SIZE = 6;
const FULL_HEADER_SIZE = 18;

export function headerSize(mini: boolean): number {
  return mini ? MINI_HEADER_SIZE : FULL_HEADER_SIZE;
}

/** Write a header for a body of `size` bytes; `serial` is ignored for the mini header. */
export function encodeDataHeader(mini: boolean, type: number, size: number, serial: bigint): Buffer {
  if (mini) {
    const b = Buffer.allocUnsafe(MINI_HEADER_SIZE);
    b.writeUInt16LE(type, 0);
    b.writeUInt32LE(size, 2);
    return b;
  }
  const b = Buffer.allocUnsafe(FULL_HEADER_SIZE);
  b.writeBigUInt64LE(serial, 0);
  b.writeUInt16LE(type, 8);
  b.writeUInt32LE(size, 10);
  b.writeUInt32LE(0, 14);
  return b;
}

export interface Frame {
  type: number;
  /** The message body: a view into received data whenever it arrived in one chunk. */
  body: Buffer;
  /** Full header only; with mini headers the n-th message has serial n. */
  serial: bigint;
}

/**
 * Resumable splitter of a byte stream into data messages. It never sees a socket: callers push
 * chunks and pull frames. A declared size above `maxSize` fails as soon as the header arrives,
 * before a single body byte is buffered.
 */
export class FrameDecoder {
  private readonly queue = new ByteQueue();
  private pending: { type: number; size: number; serial: bigint } | undefined;
  private count = 0n;

  constructor(
    private readonly mini: boolean,
    private readonly maxSize: number,
  ) {}

  push(chunk: Buffer): void {
    this.queue.push(chunk);
  }

  get buffered(): number {
    return this.queue.length;
  }

  /** The next complete frame, or undefined until more bytes arrive. Throws ProtocolError. */
  next(): Frame | undefined {
    if (!this.pending) {
      const h = this.queue.take(headerSize(this.mini));
      if (!h) return undefined;
      this.count++;
      this.pending = this.mini
        ? { type: h.readUInt16LE(0), size: h.readUInt32LE(2), serial: this.count }
        : { type: h.readUInt16LE(8), size: h.readUInt32LE(10), serial: h.readBigUInt64LE(0) };
      if (this.pending.size > this.maxSize) {
        throw new ProtocolError(
          'OVERSIZE',
          `message type ${this.pending.type} declares ${this.pending.size} bytes (limit ${this.maxSize})`,
        );
      }
    }
    const body = this.queue.take(this.pending.size);
    if (!body) return undefined;
    const frame: Frame = { type: this.pending.type, body, serial: this.pending.serial };
    this.pending = undefined;
    return frame;
  }
}
