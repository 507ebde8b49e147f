import { readFileSync } from 'node:fs';
import { hostname, homedir } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { DisplayAddress } from './display-name.js';

/*
 * MIT-MAGIC-COOKIE-1 from an Xauthority file ($XAUTHORITY, else ~/.Xauthority). The file is a
 * sequence of records, every field big-endian whatever the host:
 *   family u16, address (u16 length + bytes), display number (u16 length + ASCII digits),
 *   auth name (u16 length + bytes), auth data (u16 length + bytes)
 * A missing file is normal (Xvfb without -auth accepts local clients): the result is then null.
 */

export interface XauthEntry {
  readonly family: number;
  readonly address: Buffer;
  readonly number: string;
  readonly name: string;
  readonly data: Buffer;
}

export interface XauthCredentials {
  readonly name: string;
  readonly data: Buffer;
}

const FAMILY_INTERNET = 0;
const FAMILY_INTERNET6 = 6;
const FAMILY_LOCAL = 256;
const FAMILY_WILD = 65535;
const COOKIE_NAME = 'MIT-MAGIC-COOKIE-1';

export function parseXauthority(file: Buffer): XauthEntry[] {
  const entries: XauthEntry[] = [];
  let pos = 0;
  const field = (): Buffer => {
    if (pos + 2 > file.length) throw new Error('truncated Xauthority record');
    const len = file.readUInt16BE(pos);
    if (pos + 2 + len > file.length) throw new Error('truncated Xauthority record');
    const out = file.subarray(pos + 2, pos + 2 + len);
    pos += 2 + len;
    return out;
  };
  while (pos < file.length) {
    if (pos + 2 > file.length) throw new Error('truncated Xauthority record');
    const family = file.readUInt16BE(pos);
    pos += 2;
    const address = field();
    const number = field().toString('latin1');
    const name = field().toString('latin1');
    const data = field();
    entries.push({ family, address, number, name, data });
  }
  return entries;
}

/** The Xauthority file Xlib would read, or null when neither $XAUTHORITY nor $HOME is set. */
export function defaultXauthorityPath(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.XAUTHORITY) return env.XAUTHORITY;
  const home = env.HOME ?? homedir();
  return home ? join(home, '.Xauthority') : null;
}

function addressMatches(entry: XauthEntry, addr: DisplayAddress, localName: string): boolean {
  if (entry.family === FAMILY_WILD) return true;
  const host = addr.host;
  if (entry.family === FAMILY_LOCAL) {
    // Xlib treats loopback TCP like a local connection when looking up cookies.
    const localish = host === null || host === 'localhost' || host === localName;
    return localish && entry.address.toString('latin1') === localName;
  }
  if (host === null) return false;
  if (entry.family === FAMILY_INTERNET && isIP(host) === 4) {
    return entry.address.equals(Buffer.from(host.split('.').map(Number)));
  }
  if (entry.family === FAMILY_INTERNET6 && isIP(host) === 6) {
    return entry.address.length === 16 && entry.address.equals(ipv6Bytes(host));
  }
  return false;
}

function ipv6Bytes(text: string): Buffer {
  const [head = '', tail = ''] = text.split('::');
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = groups(tail);
  const all = text.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16) & 0xffff, i * 2));
  return out;
}

/** The first MIT-MAGIC-COOKIE-1 entry that matches the display (as Xlib picks it). */
export function findCookie(
  entries: XauthEntry[],
  addr: DisplayAddress,
  localName = hostname(),
): XauthCredentials | null {
  const wanted = String(addr.display);
  for (const e of entries) {
    if (e.name !== COOKIE_NAME) continue;
    if (e.number !== '' && e.number !== wanted) continue;
    if (!addressMatches(e, addr, localName)) continue;
    return { name: e.name, data: e.data };
  }
  return null;
}

/** Credentials for the display from `file` (default: Xlib's choice), or null when there are none. */
export function loadCredentials(
  addr: DisplayAddress,
  file: string | null = defaultXauthorityPath(),
): XauthCredentials | null {
  if (file === null) return null;
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    // No Xauthority file is the common case for Xvfb; anything else (permissions) is worth a message.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read Xauthority file ${file}: ${(err as Error).message}`);
  }
  return findCookie(parseXauthority(bytes), addr);
}
