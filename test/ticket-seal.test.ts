import { createHash, generateKeyPairSync, privateDecrypt, constants } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseRsaSpki, sealTicket, sha1 } from '../src/client/ticket-seal.js';

/* The pure RSA-OAEP ticket sealer (shared by the Node client and the browser viewer) against OpenSSL. */
describe('ticket sealer', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const der = publicKey.export({ format: 'der', type: 'spki' });
  const open = (ticket: Buffer): string =>
    privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, ticket).toString(
      'utf8',
    );

  it('SHA-1 matches OpenSSL on lengths around the block edges', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const data = Buffer.alloc(n, n & 0xff);
      expect(Buffer.from(sha1(data)).toString('hex')).toBe(createHash('sha1').update(data).digest('hex'));
    }
  });

  it('reads modulus and exponent from the SPKI key', () => {
    const jwk = publicKey.export({ format: 'jwk' });
    const key = parseRsaSpki(der);
    expect(key.size).toBe(128);
    expect(key.exponent).toBe(BigInt('0x' + Buffer.from(jwk.e!, 'base64url').toString('hex')));
    expect(key.modulus).toBe(BigInt('0x' + Buffer.from(jwk.n!, 'base64url').toString('hex')));
  });

  it('OpenSSL opens what it seals, for empty, ASCII, UTF-8 and the longest passwords', () => {
    for (const pw of ['', 'letmein', 'pässwörd ✓', 'x'.repeat(85)]) {
      const ticket = sealTicket(der, pw);
      expect(ticket.length).toBe(128);
      expect(open(ticket)).toBe(pw + '\0');
    }
  });

  it('refuses a password too long for the key, and a key that is not RSA SPKI', () => {
    expect(() => sealTicket(der, 'x'.repeat(86))).toThrow(/does not fit/);
    expect(() => sealTicket(Buffer.from([0x04, 0x01, 0x00]), 'a')).toThrow(/public key/);
  });
});
