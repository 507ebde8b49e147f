import type { Conduit } from '../transport/conduit.js';
import type { ThrottledLog } from '../util/throttled-log.js';

/*
 * One port, two protocols (spice-server does the same): the first bytes of a connection (after
 * TLS, on the TLS port) decide. An HTTP method is a browser asking for the viewer page or a
 * WebSocket upgrade; everything else goes to the SPICE link stage, which answers anything but
 * "REDQ" with SPICE_LINK_ERR_INVALID_MAGIC, logs the peer and closes.
 */

/** 'unknown': nothing (or too little) arrived before a timeout or close. */
export type Protocol = 'spice' | 'http' | 'unknown';

const HTTP_METHODS = ['GET ', 'HEAD', 'POST', 'PUT ', 'OPTI', 'DELE', 'PATC', 'CONN', 'TRAC'];

function classify(first4: Buffer): Protocol {
  return HTTP_METHODS.includes(first4.toString('latin1')) ? 'http' : 'spice';
}

/**
 * Read the first four bytes of `conduit`, give them back, and say which protocol it speaks. What
 * closes a connection here is logged once per source address per interval (a flood is one line).
 */
export function sniff(conduit: Conduit, timeoutMs: number, log: ThrottledLog, decided: (p: Protocol) => void): void {
  const chunks: Buffer[] = [];
  let have = 0;
  let done = false;
  const timer = setTimeout(() => finish('unknown', `nothing recognisable within ${timeoutMs} ms`), timeoutMs);
  timer.unref();
  const finish = (p: Protocol, why?: string): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    conduit.unread(chunks);
    if (p === 'unknown') {
      const address = conduit.peer.replace(/:\d+$/, '');
      log.emit('warn', `sniff ${address}`, `connection from ${conduit.peer} closed: ${why ?? 'nothing recognisable'}`);
      conduit.destroy();
    }
    decided(p);
  };
  conduit.onClose(() => finish('unknown', 'closed before saying anything'));
  conduit.onData((chunk) => {
    chunks.push(chunk);
    have += chunk.length;
    if (have < 4) return;
    const first = Buffer.concat(chunks).subarray(0, 4);
    finish(classify(first));
  });
}
