import { isLoopback } from '../util/address.js';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/*
 * DNS rebinding: a web page at http://evil.example:5900/ whose name the attacker then points at
 * 127.0.0.1 is same-origin with itself, so the browser lets it read our page and open WebSockets
 * to us, sending Host "evil.example:5900" and an Origin to match. The Host header is the one
 * thing the attacker cannot choose, so the web front answers only Host names the server is known
 * by. The port is not checked: behind an SSH tunnel or a port forward the browser's port is not
 * ours, and a port cannot be rebound anyway.
 */

export interface KnownHosts {
  /** The address the server listens on (a wildcard admits every address of this machine). */
  listen: string;
  /** Names given with --public-host (the names viewers use for this machine). */
  publicHosts: readonly string[];
}

/** The host name of a Host header or URL authority, lower case, without port and brackets. */
export function hostnameOf(authority: string): string | undefined {
  const m = /^(?:\[([0-9a-f:.%]+)\]|([^:[\]]+))(?::\d{1,5})?$/i.exec(authority.trim());
  const name = m?.[1] ?? m?.[2];
  return name === undefined ? undefined : name.toLowerCase().replace(/\.$/, '');
}

function isWildcard(address: string): boolean {
  return address === '' || address === '0.0.0.0' || address === '::' || address === '[::]';
}

/** Whether this machine has the address `ip` on one of its interfaces. */
function isOwnAddress(ip: string): boolean {
  for (const list of Object.values(networkInterfaces())) {
    if (list?.some((i) => i.address.toLowerCase() === ip)) return true;
  }
  return false;
}

/**
 * Whether a Host name is one the server is known by: a loopback name or address (browsers resolve
 * `localhost` and `*.localhost` themselves, so they cannot be rebound), the listen address (any of
 * this machine's addresses when it listens on a wildcard), or a --public-host name.
 */
export function isKnownHost(hostname: string, known: KnownHosts): boolean {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  if (known.publicHosts.some((h) => hostnameOf(h) === hostname)) return true;
  if (isIP(hostname) === 0) return false;
  if (isLoopback(hostname)) return true;
  const listen = hostnameOf(known.listen) ?? known.listen;
  return isWildcard(listen) ? isOwnAddress(hostname) : listen.toLowerCase() === hostname;
}
