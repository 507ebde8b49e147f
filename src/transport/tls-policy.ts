import { constants } from 'node:crypto';
import tls from 'node:tls';

/*
 * What the TLS port accepts. TLS 1.3 keeps OpenSSL's default suites (all AEAD, all forward
 * secret). TLS 1.2 is limited to ECDHE key exchange with AES-GCM or ChaCha20-Poly1305: no CBC
 * (MAC-then-encrypt, SHA-1), no CCM_8 (8-byte tags), no ARIA/Camellia, no static RSA. Both kinds
 * of certificate are listed: spiced makes ECDSA ones, but `--tls-dir` may hold an RSA pair made
 * for spice-server. spice-gtk and Chromium offer TLS 1.3, and ECDHE-GCM for 1.2.
 */
const TLS13_SUITES = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'];
const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-CHACHA20-POLY1305',
];

/**
 * The server's context, shared by every connection of a port. Renegotiation is refused by OpenSSL
 * itself (SSL_OP_NO_RENEGOTIATION: a client's new ClientHello gets a no_renegotiation alert):
 * each renegotiation is a full handshake the client can ask for at will, and Node's own limit
 * (tls.CLIENT_RENEG_LIMIT) did not stop them on the conduit's sockets (21 handshakes in 4 s on one
 * connection, issue 12).
 */
export function secureContext(o: { cert: string; key: string }): tls.SecureContext {
  return tls.createSecureContext({
    cert: o.cert,
    key: o.key,
    minVersion: 'TLSv1.2',
    ciphers: [...TLS13_SUITES, ...TLS12_CIPHERS].join(':'),
    honorCipherOrder: true,
    secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
  });
}
