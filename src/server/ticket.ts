import {
  constants,
  createHash,
  generateKeyPairSync,
  privateDecrypt,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { PUB_KEY_SIZE, TICKET_SIZE } from '../protocol/link.js';
import type { ViewerRole } from '../channel-core/session.js';

/** spice-gtk refuses longer passwords; the server does too. */
const MAX_PASSWORD_LENGTH = 60;

/**
 * One RSA-1024 key pair for SPICE ticket authentication (docs/protocol.md, Ticket): the client encrypts
 * password + NUL with its public half (OAEP, SHA-1). The server uses a fresh one per link
 * (key-pool.ts), so a captured ticket cannot be replayed.
 */
export class TicketKey {
  readonly publicDer: Buffer;
  /** Private-key operations made so far (a garbage ticket should cost one). */
  decryptions = 0;

  constructor(
    publicKey: KeyObject,
    private readonly privateKey: KeyObject,
  ) {
    this.publicDer = publicKey.export({ type: 'spki', format: 'der' });
    if (this.publicDer.length !== PUB_KEY_SIZE) throw new Error(`unexpected SPKI size ${this.publicDer.length}`);
  }

  /** A key made on the spot, blocking the event loop ~8 ms (tests; the server's one key for no-password links). */
  static generateSync(): TicketKey {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024, publicExponent: 65537 });
    return new TicketKey(publicKey, privateKey);
  }

  /**
   * Decrypt a 128-byte ticket to the password it carries (without the trailing NUL), or undefined.
   * spice-html5 (`html5Quirk`: the link came over a WebSocket) drops a leading zero byte of the
   * ciphertext and pads a zero at the end (about 1 link in 256); shifting the buffer right by one
   * or two bytes recovers those tickets. A shift is only tried when the bytes it would drop are
   * zero, so a garbage ticket costs one decryption (1 in 256 costs two).
   */
  decrypt(ticket: Buffer, html5Quirk = false): string | undefined {
    if (ticket.length !== TICKET_SIZE) return undefined;
    for (const shift of [0, 1, 2]) {
      if (shift > 0 && !(html5Quirk && zeroTail(ticket, shift))) break;
      const plain = this.tryDecrypt(shiftRight(ticket, shift));
      if (plain !== undefined) return plain;
    }
    return undefined;
  }

  private tryDecrypt(ciphertext: Buffer): string | undefined {
    this.decryptions++;
    let plain: Buffer;
    try {
      const key = { key: this.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' };
      plain = privateDecrypt(key, ciphertext);
    } catch {
      return undefined; // a wrong padding: a wrong key, garbage, or a shifted guess
    }
    const nul = plain.indexOf(0);
    return plain.subarray(0, nul === -1 ? plain.length : nul).toString('utf8');
  }
}

/** Whether the last n bytes are zero: what spice-html5's padding leaves when it shifted the ciphertext. */
function zeroTail(buf: Buffer, n: number): boolean {
  return buf.subarray(buf.length - n).every((b) => b === 0);
}

function shiftRight(buf: Buffer, n: number): Buffer {
  if (n === 0) return buf;
  const out = Buffer.alloc(buf.length);
  buf.copy(out, n, 0, buf.length - n);
  return out;
}

/** Compare without leaking the password's length or content through timing. */
function passwordsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

export interface TicketingOptions {
  /** undefined together with `disabled` = anyone may connect. */
  password?: string | undefined;
  /** A second password that gives view-only viewers (needs `password`). */
  viewPassword?: string | undefined;
  disabled: boolean;
  /** Seconds after which the password stops being accepted (spice-server's ticket expiry). */
  expirySeconds?: number | undefined;
}

/** `reported`: the refusal is already in the log's summary of failures (auth-log.ts), so the link logs it quietly. */
export type TicketVerdict = { ok: true; role: ViewerRole } | { ok: false; reason: string; reported?: boolean };

/** Decides whether a decrypted ticket opens the door. */
export class Ticketing {
  private readonly expiresAt: number | undefined;

  constructor(
    private readonly opts: TicketingOptions,
    now: number = Date.now(),
  ) {
    for (const p of [opts.password, opts.viewPassword]) {
      if (p !== undefined && Buffer.byteLength(p) > MAX_PASSWORD_LENGTH) {
        throw new Error(`password longer than ${MAX_PASSWORD_LENGTH} bytes (spice-gtk cannot send it)`);
      }
    }
    if (opts.viewPassword !== undefined && (opts.password === undefined || opts.disabled)) {
      throw new Error('a view-only password needs a password for control (otherwise every viewer controls)');
    }
    if (opts.viewPassword !== undefined && opts.viewPassword === opts.password) {
      throw new Error('the view-only password must differ from the password');
    }
    this.expiresAt = opts.expirySeconds !== undefined ? now + opts.expirySeconds * 1000 : undefined;
  }

  get required(): boolean {
    return !this.opts.disabled;
  }

  verify(decrypted: string | undefined, now: number = Date.now()): TicketVerdict {
    if (this.opts.disabled) return { ok: true, role: 'control' };
    if (this.opts.password === undefined) return { ok: false, reason: 'ticketing is enabled but no password is set' };
    if (decrypted === undefined) return { ok: false, reason: 'ticket could not be decrypted' };
    if (this.expiresAt !== undefined && now > this.expiresAt) return { ok: false, reason: 'ticket expired' };
    // Both compared every time, so timing does not tell which password a ticket was close to.
    const control = passwordsEqual(decrypted, this.opts.password);
    const view = this.opts.viewPassword !== undefined && passwordsEqual(decrypted, this.opts.viewPassword);
    if (control) return { ok: true, role: 'control' };
    if (view) return { ok: true, role: 'view' };
    return { ok: false, reason: 'wrong password' };
  }
}
