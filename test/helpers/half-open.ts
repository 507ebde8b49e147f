import net from 'node:net';
import { SpiceClient } from '../../src/client/client.js';
import type { LogRecord } from '../../src/util/log.js';

/** A connection from `from` (a 127.x.y.z address) that sends `bytes` and then nothing more. */
export function halfOpen(port: number, from: string, bytes?: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port, localAddress: from }, () => {
      if (bytes !== undefined) sock.write(bytes);
      resolve(sock);
    });
    sock.on('error', reject);
  });
}

/** Resolves with the ms it took the server to close `sock`, or undefined if it did not within `ms`. */
export function closedWithin(sock: net.Socket, ms: number): Promise<number | undefined> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    if (sock.destroyed || sock.readableEnded) return resolve(0);
    const timer = setTimeout(() => resolve(undefined), ms);
    sock.on('error', () => {});
    sock.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - t0);
    });
    sock.resume();
  });
}

/** A SPICE client whose every channel comes from the source address `from`. */
function clientFrom(port: number, from: string, password?: string): SpiceClient {
  const connect = (): net.Socket => net.connect({ host: '127.0.0.1', port, localAddress: from, noDelay: true });
  return new SpiceClient({ port, password, connect });
}

/** Wait until a log record matches (polling), or throw naming what was awaited. */
export async function logged(records: LogRecord[], re: RegExp, ms = 5000): Promise<LogRecord> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = records.find((r) => re.test(r.message));
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no log line matching ${re} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Connect a viewer from `from`, wait for its first frame, close it. Resolves with the number of
 * channels it had open; rejects naming `what` when no frame came.
 */
export async function viewerGetsFrame(port: number, from: string, what: string): Promise<number> {
  const viewer = clientFrom(port, from);
  try {
    await viewer.connect();
    await viewer.waitFor(() => !!viewer.display.primary, 5000, what);
    return viewer.channels.size;
  } finally {
    viewer.close();
  }
}
