import type { Socket } from 'node:net';
import { setKeepAliveProbes, socketFd } from './sockopt.js';

/**
 * TCP keepalive, so a viewer whose machine vanished (power, cable, suspended laptop) is dropped by
 * the kernel instead of holding its connection until the default two hours run out. spice-server
 * turns keepalive on with a 10-minute idle time; a remote desktop that is gone is better found
 * within a minute.
 */
export interface KeepAlive {
  /** Seconds of silence before the first probe. */
  idleS: number;
  /** Seconds between probes. */
  intervalS: number;
  /** Unanswered probes before the connection is dropped. */
  count: number;
}

/** About a minute from the last sign of life to the drop. */
export const DEFAULT_KEEPALIVE: KeepAlive = { idleS: 30, intervalS: 10, count: 3 };

/** Seconds from the last sign of life until the kernel drops a peer that does not answer. */
function keepAliveDeadlineS(k: KeepAlive): number {
  return k.idleS + k.intervalS * k.count;
}

/**
 * SO_KEEPALIVE and the idle time through Node; the probe interval, count and TCP_USER_TIMEOUT
 * (the same deadline for data that is never acknowledged) through setsockopt where koffi can.
 * False when only Node's part could be set.
 */
export function applyKeepAlive(socket: Socket, k: KeepAlive): boolean {
  socket.setKeepAlive(true, k.idleS * 1000);
  const fd = socketFd(socket);
  return fd !== undefined && setKeepAliveProbes(fd, k.intervalS, k.count, keepAliveDeadlineS(k) * 1000);
}
