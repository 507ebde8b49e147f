/**
 * The SPICE ticket: the password, NUL-terminated, encrypted with RSA-OAEP (SHA-1, MGF1-SHA-1,
 * empty label) under the 1024-bit key of the server's link reply, in the key's SPKI DER form.
 *
 * Written out with BigInt instead of calling node:crypto or WebCrypto so that one synchronous
 * implementation serves the Node client and the browser viewer alike: a page served over plain
 * http from another machine is not a secure context, where browsers offer no crypto.subtle. Only
 * the randomness (crypto.getRandomValues) comes from the platform; it exists in both places.
 */
import { ProtocolError } from '../protocol/errors.js';

const SHA1_BYTES = 20;

interface RsaPublicKey {
  modulus: bigint;
  exponent: bigint;
  /** The modulus length in bytes (the ciphertext's length). */
  size: number;
}

/** A DER reader for the few tags an RSA SubjectPublicKeyInfo has. */
class Der {
  constructor(
    private readonly bytes: Uint8Array,
    private at = 0,
    private readonly end = bytes.length,
  ) {}

  /** The next element, which must carry `tag`, as a reader over its contents. */
  enter(tag: number): Der {
    if (this.at + 2 > this.end || this.bytes[this.at] !== tag) throw bad(`expected DER tag 0x${tag.toString(16)}`);
    let len = this.bytes[this.at + 1]!;
    let start = this.at + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n < 1 || n > 3 || start + n > this.end) throw bad('DER length out of range');
      len = 0;
      for (let i = 0; i < n; i++) len = (len << 8) | this.bytes[start + i]!;
      start += n;
    }
    if (start + len > this.end) throw bad('DER element runs past its container');
    this.at = start + len;
    return new Der(this.bytes, start, start + len);
  }

  skip(tag: number): void {
    this.enter(tag);
  }

  rest(): Uint8Array {
    return this.bytes.subarray(this.at, this.end);
  }
}

function bad(message: string): ProtocolError {
  return new ProtocolError('BAD_MESSAGE', `link reply public key: ${message}`);
}

function toBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** Modulus and exponent from SEQUENCE { SEQUENCE { OID, NULL }, BIT STRING { SEQUENCE { n, e } } }. */
export function parseRsaSpki(der: Uint8Array): RsaPublicKey {
  const spki = new Der(der).enter(0x30);
  spki.skip(0x30);
  const bits = spki.enter(0x03).rest();
  if (bits[0] !== 0) throw bad('BIT STRING with unused bits');
  const key = new Der(bits.subarray(1)).enter(0x30);
  const n = key.enter(0x02).rest();
  const e = key.enter(0x02).rest();
  const modulus = toBigInt(n);
  if (modulus === 0n) throw bad('zero modulus');
  return { modulus, exponent: toBigInt(e), size: Math.ceil(modulus.toString(16).length / 2) };
}

/** SHA-1 (FIPS 180-4): OAEP with the hash SPICE chose needs nothing more. */
export function sha1(data: Uint8Array): Uint8Array {
  const bitLen = data.length * 8;
  const padded = new Uint8Array((((data.length + 8) >> 6) + 1) << 6);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bitLen / 2 ** 32));
  view.setUint32(padded.length - 4, bitLen >>> 0);
  const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
  const w = new Uint32Array(80);
  for (let block = 0; block < padded.length; block += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(block + 4 * i);
    for (let i = 16; i < 80; i++) w[i] = rotl(w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!, 1);
    let [a, b, c, d, e] = h as [number, number, number, number, number];
    for (let i = 0; i < 80; i++) {
      const [f, k] =
        i < 20
          ? [(b & c) | (~b & d), 0x5a827999]
          : i < 40
            ? [b ^ c ^ d, 0x6ed9eba1]
            : i < 60
              ? [(b & c) | (b & d) | (c & d), 0x8f1bbcdc]
              : [b ^ c ^ d, 0xca62c1d6];
      const t = (rotl(a, 5) + f + e + k + w[i]!) >>> 0;
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = t;
    }
    h[0] = (h[0]! + a) >>> 0;
    h[1] = (h[1]! + b) >>> 0;
    h[2] = (h[2]! + c) >>> 0;
    h[3] = (h[3]! + d) >>> 0;
    h[4] = (h[4]! + e) >>> 0;
  }
  const out = new Uint8Array(SHA1_BYTES);
  const outView = new DataView(out.buffer);
  h.forEach((v, i) => outView.setUint32(4 * i, v));
  return out;
}

function rotl(v: number, n: number): number {
  return ((v << n) | (v >>> (32 - n))) >>> 0;
}

/** MGF1 with SHA-1: `length` bytes of mask from `seed`. */
function mgf1(seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const input = new Uint8Array(seed.length + 4);
  input.set(seed);
  for (let counter = 0, at = 0; at < length; counter++, at += SHA1_BYTES) {
    new DataView(input.buffer).setUint32(seed.length, counter);
    out.set(sha1(input).subarray(0, length - at), at);
  }
  return out;
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

/** EME-OAEP encoding (RFC 8017 §7.1.1) of `message` for a key of `size` bytes, empty label. */
function oaepEncode(message: Uint8Array, size: number, seed: Uint8Array): Uint8Array {
  const dbLength = size - SHA1_BYTES - 1;
  const db = new Uint8Array(dbLength);
  db.set(sha1(new Uint8Array(0)));
  db[dbLength - message.length - 1] = 0x01;
  db.set(message, dbLength - message.length);
  const dbMask = mgf1(seed, dbLength);
  for (let i = 0; i < dbLength; i++) db[i]! ^= dbMask[i]!;
  const seedMask = mgf1(db, SHA1_BYTES);
  const em = new Uint8Array(size);
  for (let i = 0; i < SHA1_BYTES; i++) em[1 + i] = seed[i]! ^ seedMask[i]!;
  em.set(db, 1 + SHA1_BYTES);
  return em;
}

/** The ticket for `password` under the link reply's key (SPKI DER). */
export function sealTicket(publicKeyDer: Uint8Array, password: string): Buffer {
  const key = parseRsaSpki(publicKeyDer);
  const message = new TextEncoder().encode(password + '\0');
  if (message.length > key.size - 2 * SHA1_BYTES - 2) {
    throw new RangeError(`a password of ${message.length - 1} bytes does not fit a ${key.size * 8}-bit ticket`);
  }
  const seed = crypto.getRandomValues(new Uint8Array(SHA1_BYTES));
  const c = modPow(toBigInt(oaepEncode(message, key.size, seed)), key.exponent, key.modulus);
  const out = Buffer.alloc(key.size);
  const hex = c.toString(16);
  out.write(hex.padStart(key.size * 2, '0'), 'hex');
  return out;
}
