import { ByteQueue } from '../../protocol/byte-queue.js';
import { SETUP_HEADER_BYTES, setupResponseBytes } from './setup.js';

/*
 * Sans-IO framing of what an X server sends: first the setup response, then a stream of 32-byte
 * packets. Byte 0 says what a packet is: 0 error, 1 reply, 2..127 event (bit 7 set when it came
 * from SendEvent). Replies and GenericEvents (code 35) carry a u32 at offset 4 with the number of
 * extra 4-byte units after the first 32 bytes; everything else is exactly 32 bytes.
 *
 * The decoder owns no socket: push() bytes in, pull frames out. Sequence numbers on the wire are
 * the low 16 bits of the request count; expandSequence() recovers the full number.
 */

export type XFrame =
  | { readonly kind: 'reply'; readonly seq16: number; readonly data: Buffer }
  | {
      readonly kind: 'error';
      readonly seq16: number;
      readonly code: number;
      readonly badValue: number;
      readonly minorOpcode: number;
      readonly majorOpcode: number;
    }
  | {
      readonly kind: 'event';
      readonly seq16: number;
      readonly code: number;
      readonly sendEvent: boolean;
      readonly data: Buffer;
    };

const PACKET_BYTES = 32;
const GENERIC_EVENT = 35;
const KEYMAP_NOTIFY = 11;

export class XStreamDecoder {
  private readonly queue = new ByteQueue();
  private setupDone = false;

  push(chunk: Buffer): void {
    this.queue.push(chunk);
  }

  /** The complete setup response, once (undefined until all of it arrived). */
  takeSetup(): Buffer | undefined {
    if (this.setupDone) throw new Error('X setup response already taken');
    const header = this.queue.peek(SETUP_HEADER_BYTES);
    if (!header) return undefined;
    const total = setupResponseBytes(header);
    const all = this.queue.take(total);
    if (all) this.setupDone = true;
    return all;
  }

  /** The next complete packet, or undefined when more bytes are needed. */
  next(): XFrame | undefined {
    if (!this.setupDone) throw new Error('X setup response not read yet');
    const head = this.queue.peek(PACKET_BYTES);
    if (!head) return undefined;
    const type = head[0]!;
    const code = type & 0x7f;
    const extra = type === 1 || code === GENERIC_EVENT ? head.readUInt32LE(4) * 4 : 0;
    const data = this.queue.take(PACKET_BYTES + extra);
    if (!data) return undefined;
    const seq16 = data.readUInt16LE(2);
    if (type === 0) {
      return {
        kind: 'error',
        seq16,
        code: data[1]!,
        badValue: data.readUInt32LE(4),
        minorOpcode: data.readUInt16LE(8),
        majorOpcode: data[10]!,
      };
    }
    if (type === 1) return { kind: 'reply', seq16, data };
    // KeymapNotify is the one event without a sequence number (its bytes 1..31 are key bits).
    return { kind: 'event', seq16: code === KEYMAP_NOTIFY ? -1 : seq16, code, sendEvent: (type & 0x80) !== 0, data };
  }
}

/**
 * The full sequence number of a packet: the latest request sent with these low 16 bits. The
 * server can be at most 65535 requests behind us, because its packets refer to requests we sent.
 */
export function expandSequence(seq16: number, lastSent: number): number {
  return lastSent - ((lastSent - seq16) & 0xffff);
}
