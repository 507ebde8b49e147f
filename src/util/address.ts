import { isIP } from 'node:net';

/*
 * Source addresses as the server's per-address defences count them (pre-auth connections, the
 * ticket back-off), and which addresses only this machine can reach.
 */

/**
 * The key connections from one source share: the IPv4 address (also when IPv4-mapped), or the
 * /64 of an IPv6 address (one host usually holds a whole /64).
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address.split('%')[0]!) !== 6) return address;
  return `${expandIpv6(address).slice(0, 4).join(':')}::/64`;
}

/** addressKey of a peer as conduits name it: "a.b.c.d:port" or "[v6]:port". */
export function peerAddressKey(peer: string): string {
  const bracketed = peer.startsWith('[');
  const address = bracketed
    ? peer.slice(1, peer.indexOf(']'))
    : peer.slice(0, Math.max(0, peer.lastIndexOf(':'))) || peer;
  return addressKey(address);
}

/** The eight 16-bit groups of an IPv6 address, as hex without leading zeros (a zone id is dropped). */
function expandIpv6(address: string): string[] {
  const [head = '', tail] = address.split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => (parseInt(g, 16) || 0).toString(16));
}

/** True for addresses (and the name localhost) only this machine can reach. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./i.test(host);
  return false;
}
