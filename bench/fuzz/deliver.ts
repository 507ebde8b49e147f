import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { ClientLink, LinkRefusedError } from '../../src/client/link.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import type { Rng } from './mutate.js';

/*
 * How a case reaches the server: its bytes on a fresh TCP connection (raw, the link stage included),
 * wrapped in a WebSocket handshake and frames on the same port (the framing mutated or not), or
 * after a real link with the right session id and password (so mutations reach the channels behind
 * the ticket check). Each case waits for the server to close or for a short quiet period.
 */

export type DeliveryMode = 'tcp' | 'ws' | 'ws-frames' | 'linked';
export const DELIVERY_MODES: readonly DeliveryMode[] = ['tcp', 'ws', 'ws-frames', 'linked'];

export interface CaseOutcome {
  /** The server closed the connection (a refusal) rather than our timer. */
  closedByServer: boolean;
  /** The link failed before the mutated bytes were sent (linked mode only). */
  linkFailed?: boolean;
}

/** Time to leave the server after the last byte before hanging up ourselves. */
const SETTLE_MS = 40;
/** A linked display channel keeps receiving frames: no case lasts longer than this. */
const CASE_MS = 1000;

/**
 * Cases come from 16 loopback addresses of their own (127.0.1.1-16, round robin), the healthy
 * viewer and the anchor session from 127.0.0.1: the server judges addresses (pre-auth connections
 * per address, the ticket back-off), and the question is whether an attacker's addresses can stop
 * a viewer at another address from being served. A single attacking address would mostly meet its
 * own per-address limits; sixteen get past them to the decoders.
 */
const ATTACKER_ADDRESSES = 16;
let nextAttacker = 0;
function attackerAddress(): string {
  nextAttacker = (nextAttacker % ATTACKER_ADDRESSES) + 1;
  return `127.0.1.${nextAttacker}`;
}

/**
 * A connection, or undefined when the server is not listening (it exited or is restarting: the
 * crash monitor reports that). Other errors are the fuzzer's own and are thrown.
 */
function connect(port: number): Promise<net.Socket | undefined> {
  const localAddress = attackerAddress();
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress, noDelay: true }, () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET') resolve(undefined);
      else reject(err);
    });
  });
}

/** Write `bytes` in a few pieces, then wait for the server to close or for SETTLE_MS of quiet. */
function sendAndSettle(sock: net.Socket, bytes: Buffer, rng: Rng): Promise<CaseOutcome> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const cap = setTimeout(() => finish(false), CASE_MS);
    const finish = (closedByServer: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(cap);
      sock.destroy();
      resolve({ closedByServer });
    };
    // A reset by the server is one way to refuse: nothing to report.
    sock.on('error', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('data', () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), SETTLE_MS);
    });
    const cuts = [
      0,
      ...Array.from({ length: Math.floor(rng() * 3) }, () => Math.floor(rng() * bytes.length)).sort((a, b) => a - b),
      bytes.length,
    ];
    for (let i = 1; i < cuts.length; i++) if (cuts[i]! > cuts[i - 1]!) sock.write(bytes.subarray(cuts[i - 1], cuts[i]));
    sock.write(Buffer.alloc(0), () => {
      if (!done) timer = setTimeout(() => finish(false), SETTLE_MS);
    });
  });
}

export async function deliverTcp(port: number, bytes: Buffer, rng: Rng): Promise<CaseOutcome> {
  const sock = await connect(port);
  if (!sock) return { closedByServer: true };
  return sendAndSettle(sock, bytes, rng);
}

/** An HTTP upgrade request as spice-html5's browser sends it, for `port`. */
export function wsHandshake(port: number): Buffer {
  return Buffer.from(
    'GET / HTTP/1.1\r\n' +
      `Host: 127.0.0.1:${port}\r\n` +
      'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n\r\n',
  );
}

/** Client-to-server binary frames (masked, as RFC 6455 requires) carrying `payload` in 1..4 messages. */
export function wsFrames(payload: Buffer, rng: Rng): Buffer {
  const parts: Buffer[] = [];
  const pieces = 1 + Math.floor(rng() * 4);
  const step = Math.max(1, Math.ceil(payload.length / pieces));
  for (let at = 0; at < payload.length || (at === 0 && payload.length === 0); at += step) {
    const data = payload.subarray(at, at + step);
    const n = data.length;
    const head =
      n < 126
        ? Buffer.from([0x82, 0x80 | n])
        : n < 65536
          ? Buffer.from([0x82, 0x80 | 126, n >> 8, n & 0xff])
          : longHeader(n);
    const mask = randomBytes(4);
    const masked = Buffer.from(data);
    for (let i = 0; i < n; i++) masked[i]! ^= mask[i & 3]!;
    parts.push(head, mask, masked);
    if (n === 0) break;
  }
  return Buffer.concat(parts);
}

function longHeader(n: number): Buffer {
  const h = Buffer.alloc(10);
  h[0] = 0x82;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(BigInt(n), 2);
  return h;
}

/** Link a channel for real (right session id and password), then send the mutated data messages. */
export async function deliverLinked(
  port: number,
  channelType: number,
  connectionId: number,
  password: string,
  data: Buffer,
  rng: Rng,
): Promise<CaseOutcome> {
  const sock = await connect(port);
  if (!sock) return { closedByServer: true };
  const linked = await new Promise<boolean>((resolve) => {
    const link = new ClientLink({ connectionId, channelType, channelId: 0, channelCaps: [], password }, (b) =>
      sock.write(b),
    );
    const onData = (d: Buffer): void => {
      try {
        if (link.receive(d)) {
          cleanup();
          resolve(true);
        }
      } catch (err) {
        // Refused (the session went away, or a second channel of this type was not accepted).
        if (!(err instanceof LinkRefusedError || err instanceof ProtocolError)) throw err;
        cleanup();
        resolve(false);
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve(false);
    };
    const timer = setTimeout(onEnd, 3000);
    const cleanup = (): void => {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('close', onEnd);
      sock.off('error', onEnd);
    };
    sock.on('data', onData);
    sock.on('close', onEnd);
    sock.on('error', onEnd);
    link.begin();
  });
  if (!linked) {
    sock.destroy();
    return { closedByServer: true, linkFailed: true };
  }
  return sendAndSettle(sock, data, rng);
}
