/**
 * An encoded message body ready for the wire: its type and its bytes as iovecs. Large payloads are
 * referenced, not copied, so a draw message is typically [fixed part, image header, pixel data].
 * The data header is added by the channel client, which knows whether the link uses mini headers.
 */
export interface OutMessage {
  readonly type: number;
  readonly parts: readonly Buffer[];
}

export function outMessage(type: number, ...parts: Buffer[]): OutMessage {
  return { type, parts };
}

/** Bytes of a message body: the sum of its parts (the data header's size field). */
export function messageSize(m: OutMessage): number {
  let n = 0;
  for (const p of m.parts) n += p.length;
  return n;
}

export function emptyBody(type: number): OutMessage {
  return { type, parts: [] };
}

/** Concatenate a message body (tests and the client side; the server never needs this). */
export function flatten(m: OutMessage): Buffer {
  return m.parts.length === 1 ? m.parts[0]! : Buffer.concat(m.parts as Buffer[]);
}
