/*
 * DISPLAY strings as Xlib reads them: `[protocol/][host]:display[.screen]`. An empty host, `unix`
 * or the `unix/` protocol means the local Unix socket /tmp/.X11-unix/X<display>; any other host
 * means TCP port 6000 + display (Xlib does the same: `localhost:0` is TCP, `:0` is the socket).
 */

export interface DisplayAddress {
  /** Host for TCP, or null for the local Unix socket. */
  readonly host: string | null;
  readonly display: number;
  readonly screen: number;
  /** The string as given, for messages ("X server :1 went away"). */
  readonly name: string;
}

/** One way to reach the server, tried in order. */
export type SocketTarget = { readonly path: string } | { readonly host: string; readonly port: number };

const X_TCP_PORT_BASE = 6000;

export function parseDisplayName(name: string): DisplayAddress {
  let rest = name.trim();
  let protocol: string | null = null;
  const slash = rest.indexOf('/');
  const colon = rest.lastIndexOf(':');
  if (slash >= 0 && slash < colon) {
    protocol = rest.slice(0, slash);
    rest = rest.slice(slash + 1);
  }
  const at = rest.lastIndexOf(':');
  if (at < 0) throw new Error(`bad DISPLAY "${name}": expected [host]:display[.screen]`);
  let host = rest.slice(0, at);
  const numbers = rest.slice(at + 1);
  const match = /^(\d+)(?:\.(\d+))?$/.exec(numbers);
  if (!match) throw new Error(`bad DISPLAY "${name}": "${numbers}" is not display[.screen]`);
  // "[::1]:0" (bracketed IPv6) and the "::0" DECnet form; DECnet is not supported.
  if (host.endsWith(':')) throw new Error(`bad DISPLAY "${name}": DECnet displays are not supported`);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const local = protocol === 'unix' || (protocol === null && (host === '' || host === 'unix'));
  return {
    host: local ? null : host === '' ? 'localhost' : host,
    display: Number(match[1]),
    screen: match[2] === undefined ? 0 : Number(match[2]),
    name,
  };
}

/**
 * Where to connect. Local displays try the filesystem socket and then Linux's abstract socket of
 * the same name (servers started with `-nolisten unix` but not `-nolisten local` have only that).
 */
export function socketTargets(addr: DisplayAddress): SocketTarget[] {
  if (addr.host !== null) return [{ host: addr.host, port: X_TCP_PORT_BASE + addr.display }];
  const path = `/tmp/.X11-unix/X${addr.display}`;
  const targets: SocketTarget[] = [{ path }];
  if (process.platform === 'linux') targets.push({ path: `\0${path}` });
  return targets;
}
