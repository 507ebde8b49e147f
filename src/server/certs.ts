// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

/*
 * Certificates for the TLS port, with the file names spice-server uses (ca-cert.pem,
 * server-cert.pem, server-key.pem). Keys are ECDSA P-256: a handshake with a small EC leaf
 * costs a fraction of an RSA-2048 one, and the server sends only the leaf (viewers hold the CA).
 */

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

const CA_CERT = 'ca-cert.pem';
const SERVER_CERT = 'server-cert.pem';
const SERVER_KEY = 'server-key.pem';

export interface TlsMaterial {
  /** PEM of the CA that viewers must trust. */
  ca: string;
  /** PEM of the server (leaf) certificate. */
  cert: string;
  /** PEM (PKCS#8) of the server key. */
  key: string;
}

export function defaultHosts(): string[] {
  return [...new Set(['localhost', '127.0.0.1', '::1', hostname()])];
}

function sanFor(hosts: string[]): x509.SubjectAlternativeNameExtension {
  return new x509.SubjectAlternativeNameExtension(
    hosts.map((h) => ({ type: isIP(h) ? ('ip' as const) : ('dns' as const), value: h })),
  );
}

async function pkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd();
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

/** A CA and a server certificate for `hosts` (names go in DNS SANs, addresses in IP SANs). */
export async function makeCertificates(hosts: string[] = defaultHosts(), days = 825): Promise<TlsMaterial> {
  if (hosts.length === 0) throw new Error('at least one host name or address is needed');
  const now = new Date(Date.now() - 60_000);
  const caKeys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=spiced CA on ${hostname()}`,
    keys: caKeys,
    notBefore: now,
    notAfter: new Date(now.getTime() + 10 * 365 * 86_400_000),
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const leafKeys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const leaf = await x509.X509CertificateGenerator.create({
    subject: `CN=${hosts[0]}`,
    issuer: ca.subject,
    publicKey: leafKeys.publicKey,
    signingKey: caKeys.privateKey,
    notBefore: now,
    notAfter: new Date(now.getTime() + days * 86_400_000),
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      sanFor(hosts),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });
  return { ca: ca.toString('pem') + '\n', cert: leaf.toString('pem') + '\n', key: await pkcs8Pem(leafKeys.privateKey) };
}

export function tlsPaths(dir: string): { ca: string; cert: string; key: string } {
  return { ca: join(dir, CA_CERT), cert: join(dir, SERVER_CERT), key: join(dir, SERVER_KEY) };
}

export async function writeCertificates(dir: string, material: TlsMaterial): Promise<void> {
  await mkdir(dir, { recursive: true });
  const p = tlsPaths(dir);
  await writeFile(p.ca, material.ca);
  await writeFile(p.cert, material.cert);
  await writeFile(p.key, material.key, { mode: 0o600 });
  await chmod(p.key, 0o600);
}

export async function readCertificates(dir: string): Promise<TlsMaterial> {
  const p = tlsPaths(dir);
  const missing = Object.values(p).filter((f) => !existsSync(f));
  if (missing.length > 0)
    throw new Error(`TLS directory ${dir} lacks ${missing.join(', ')} (make them with: spiced cert --dir ${dir})`);
  return { ca: await readFile(p.ca, 'utf8'), cert: await readFile(p.cert, 'utf8'), key: await readFile(p.key, 'utf8') };
}

/** Where `spiced serve --tls-port` keeps certificates it made itself. */
export function defaultStateDir(): string {
  const base = process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state');
  return join(base, 'spiced', 'tls');
}

/** Load the certificates in `dir`, making them first if the directory has none. */
export async function ensureCertificates(
  dir: string,
  hosts?: string[],
): Promise<{ material: TlsMaterial; created: boolean }> {
  if (existsSync(tlsPaths(dir).cert)) return { material: await readCertificates(dir), created: false };
  const material = await makeCertificates(hosts);
  await writeCertificates(dir, material);
  return { material, created: true };
}
