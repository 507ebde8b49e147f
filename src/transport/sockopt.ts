import type { Socket } from 'node:net';
import { libcUnavailableReason, loadLibc } from '../util/libc.js';

/*
 * setsockopt/getsockopt through koffi (an optional dependency with prebuilt binaries): Node has
 * no API for TCP_CORK or TCP_INFO. Everything here degrades to "unavailable" with a reason when
 * koffi cannot be loaded, and callers fall back (cork policy `kernel` -> `on`, no kernel counters).
 */

const IPPROTO_TCP = 6;
const TCP_CORK = 3;
const TCP_KEEPIDLE = 4;
const TCP_KEEPINTVL = 5;
const TCP_KEEPCNT = 6;
const TCP_INFO = 11;
const TCP_USER_TIMEOUT = 18;
const TCP_INFO_SIZE = 232;

type SetSockOpt = (fd: number, level: number, name: number, value: Buffer, len: number) => number;
type GetSockOpt = (fd: number, level: number, name: number, value: Buffer, len: Buffer) => number;

interface Native {
  setsockopt: SetSockOpt;
  getsockopt: GetSockOpt;
}

let native: Native | null | undefined;

function loadNative(): Native | null {
  if (native !== undefined) return native;
  const libc = loadLibc();
  native = libc && {
    setsockopt: libc.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)') as SetSockOpt,
    getsockopt: libc.func(
      'int getsockopt(int fd, int level, int name, _Out_ void *value, _Inout_ uint32_t *len)',
    ) as unknown as GetSockOpt,
  };
  return native;
}

/** Why kernel socket options are unavailable, or '' when they are. */
export function sockoptUnavailableReason(): string {
  if (process.platform !== 'linux') return `TCP_CORK/TCP_INFO need Linux (this is ${process.platform})`;
  return libcUnavailableReason();
}

export function socketFd(socket: Socket): number | undefined {
  const handle = (socket as unknown as { _handle?: { fd?: unknown } })._handle;
  const fd = handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** setsockopt values, made once: TCP_CORK is set and cleared around every flush. */
const CORK_ON = Buffer.from([1, 0, 0, 0]);
const CORK_OFF = Buffer.alloc(4);

/** Set or clear TCP_CORK. Returns false when it could not be done. */
export function setTcpCork(fd: number, on: boolean): boolean {
  const n = process.platform === 'linux' ? loadNative() : null;
  if (!n) return false;
  return n.setsockopt(fd, IPPROTO_TCP, TCP_CORK, on ? CORK_ON : CORK_OFF, 4) === 0;
}

function setIntOption(n: Native, fd: number, name: number, value: number): boolean {
  const b = Buffer.alloc(4);
  b.writeInt32LE(value, 0);
  return n.setsockopt(fd, IPPROTO_TCP, name, b, 4) === 0;
}

/**
 * What Node's setKeepAlive cannot set: seconds between keepalive probes, how many go unanswered
 * before the connection is dropped, and TCP_USER_TIMEOUT (ms that sent data may stay unacknowledged
 * before the kernel gives up; keepalive alone never fires while data is in flight). False when
 * any could not be set.
 */
export function setKeepAliveProbes(fd: number, intervalS: number, count: number, userTimeoutMs: number): boolean {
  const n = process.platform === 'linux' ? loadNative() : null;
  if (!n) return false;
  const a = setIntOption(n, fd, TCP_KEEPINTVL, intervalS);
  const b = setIntOption(n, fd, TCP_KEEPCNT, count);
  const c = setIntOption(n, fd, TCP_USER_TIMEOUT, userTimeoutMs);
  return a && b && c;
}

/** Read an int TCP option (tests check what was set). */
const INT_OPTIONS = {
  keepidle: TCP_KEEPIDLE,
  keepintvl: TCP_KEEPINTVL,
  keepcnt: TCP_KEEPCNT,
  user_timeout: TCP_USER_TIMEOUT,
};

export function getTcpIntOption(fd: number, name: keyof typeof INT_OPTIONS): number | undefined {
  const n = process.platform === 'linux' ? loadNative() : null;
  if (!n) return undefined;
  const buf = Buffer.alloc(4);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(4, 0);
  return n.getsockopt(fd, IPPROTO_TCP, INT_OPTIONS[name], buf, len) === 0 ? buf.readInt32LE(0) : undefined;
}

/** The parts of Linux `struct tcp_info` we report (offsets from linux/tcp.h). */
export interface TcpInfo {
  segsOut: number;
  dataSegsOut: number;
  segsIn: number;
  bytesSent: number;
  bytesRetrans: number;
  bytesAcked: number;
  totalRetrans: number;
  sndMss: number;
  rttUs: number;
  /** The path's least round trip seen (the kernel's windowed minimum). */
  minRttUs: number;
  notsentBytes: number;
  /** Segments in flight as the kernel counts them (unacked - sacked - lost + retransmitted). */
  packetsInFlight: number;
}

function decodeTcpInfo(b: Buffer): TcpInfo {
  return {
    sndMss: b.readUInt32LE(16),
    rttUs: b.readUInt32LE(68),
    minRttUs: b.readUInt32LE(148),
    totalRetrans: b.readUInt32LE(100),
    bytesAcked: Number(b.readBigUInt64LE(120)),
    segsOut: b.readUInt32LE(136),
    segsIn: b.readUInt32LE(140),
    notsentBytes: b.readUInt32LE(144),
    packetsInFlight: Math.max(0, b.readUInt32LE(24) - b.readUInt32LE(28) - b.readUInt32LE(32) + b.readUInt32LE(36)),
    dataSegsOut: b.readUInt32LE(156),
    bytesSent: Number(b.readBigUInt64LE(200)),
    bytesRetrans: Number(b.readBigUInt64LE(208)),
  };
}

/**
 * getsockopt's buffers for TCP_INFO, made once: the call is synchronous and the fields are decoded
 * before it returns, and link sampling reads thousands of sockets a second with many viewers.
 */
const tcpInfoBuf = Buffer.alloc(TCP_INFO_SIZE);
const tcpInfoLen = Buffer.alloc(4);

/** TCP_INFO of a connected socket, or undefined where it cannot be read. */
export function getTcpInfo(fd: number): TcpInfo | undefined {
  const n = process.platform === 'linux' ? loadNative() : null;
  if (!n) return undefined;
  const buf = tcpInfoBuf;
  const len = tcpInfoLen;
  len.writeUInt32LE(TCP_INFO_SIZE, 0);
  if (n.getsockopt(fd, IPPROTO_TCP, TCP_INFO, buf, len) !== 0) return undefined;
  const got = len.readUInt32LE(0);
  if (got < 216) return undefined; // kernel too old for bytes_sent/bytes_retrans
  // The buffer is shared by every socket: what this kernel did not write reads as 0, not as another socket's.
  if (got < TCP_INFO_SIZE) buf.fill(0, got);
  return decodeTcpInfo(buf);
}
