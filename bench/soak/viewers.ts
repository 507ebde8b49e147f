import type { Duplex } from 'node:stream';
import net from 'node:net';
import tls from 'node:tls';
import { createWebSocketStream, WebSocket } from 'ws';
import { SpiceClient } from '../../src/client/client.js';
import { ChannelType } from '../../src/protocol/index.js';
import type { Rng } from '../fuzz/mutate.js';

/*
 * The soak's population: viewers over TCP, TLS and WebSocket that connect, type, drag windows,
 * stall (stop reading, so their pipes fill) and vanish (the sockets are dropped without a SPICE or
 * WebSocket goodbye), as real viewers on bad networks do.
 */

export type Transport = 'tcp' | 'tls' | 'ws';
export type Behaviour = 'worker' | 'staller' | 'vanisher';

export interface Endpoint {
  port: number;
  tlsPort: number;
  ca: Buffer;
  width: number;
  height: number;
}

export interface ViewerStats {
  started: number;
  connected: number;
  failed: number;
  /** Viewers whose channels are open right now. */
  live: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function clientFor(t: Transport, e: Endpoint, sockets: Duplex[], webSockets: WebSocket[]): SpiceClient {
  const channels = [ChannelType.Display, ChannelType.Inputs, ChannelType.Cursor, ChannelType.Playback];
  if (t === 'ws') {
    return new SpiceClient({
      port: e.port,
      channels,
      connect: () =>
        new Promise<Duplex>((resolve, reject) => {
          const ws = new WebSocket(`ws://127.0.0.1:${e.port}/`, 'binary');
          webSockets.push(ws);
          ws.once('open', () => {
            const s = createWebSocketStream(ws);
            sockets.push(s);
            resolve(s);
          });
          ws.once('error', reject);
        }),
    });
  }
  const c = new SpiceClient({
    port: t === 'tls' ? e.tlsPort : e.port,
    channels,
    tls: t === 'tls' ? { ca: e.ca, servername: 'localhost' } : undefined,
  });
  return c;
}

/** Type a few keys and drag where windows' title bars are, for `ms`. */
async function work(c: SpiceClient, e: Endpoint, rng: Rng, ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until && !closedAll(c)) {
    c.tapKey(0x10 + Math.floor(rng() * 26));
    if (rng() < 0.3) {
      const x = Math.round(e.width * 0.3) + 40;
      const y = Math.round(e.height * 0.22) + 8;
      c.sendInput({ kind: 'mousePosition', x, y, buttons: 0, displayId: 0 });
      c.sendInput({ kind: 'mousePress', button: 1, buttons: 1 });
      for (let i = 1; i <= 5; i++)
        c.sendInput({
          kind: 'mousePosition',
          x: x + i * Math.round((rng() - 0.5) * 40),
          y: y + i * 5,
          buttons: 1,
          displayId: 0,
        });
      c.sendInput({ kind: 'mouseRelease', button: 1, buttons: 0 });
    }
    await sleep(100 + rng() * 200);
  }
}

function closedAll(c: SpiceClient): boolean {
  return [...c.channels.values()].every((ch) => ch.isClosed);
}

/** One viewer's life: connect, then behave until its time is up. */
export async function viewerLife(
  t: Transport,
  b: Behaviour,
  e: Endpoint,
  rng: Rng,
  lifeMs: number,
  stats: ViewerStats,
): Promise<void> {
  const sockets: Duplex[] = [];
  const webSockets: WebSocket[] = [];
  const c = clientFor(t, e, sockets, webSockets);
  stats.started++;
  try {
    await c.connect();
    await c.waitFor(() => c.display.draws > 0, 30_000, 'a first frame');
  } catch {
    // Counted, not thrown: under a long soak a refused or slow link is a figure to print.
    stats.failed++;
    c.close();
    return;
  }
  stats.connected++;
  stats.live++;
  try {
    if (b === 'worker') {
      await work(c, e, rng, lifeMs);
      c.close();
    } else if (b === 'staller') {
      await work(c, e, rng, lifeMs / 4);
      // Stop reading: the server's pipes for this viewer fill up and it must cope (or cut it off).
      for (const ch of c.channels.values()) ch.socket.pause();
      await sleep((lifeMs * 3) / 4);
      vanish(c, webSockets);
    } else {
      await work(c, e, rng, lifeMs);
      vanish(c, webSockets);
    }
  } finally {
    stats.live--;
  }
}

/**
 * Drop every connection without a goodbye: plain TCP is reset, TLS is closed without close_notify
 * (Node cannot reset a TLS socket's handle), WebSockets are terminated without a close frame.
 */
function vanish(c: SpiceClient, webSockets: WebSocket[]): void {
  for (const ws of webSockets) ws.terminate();
  for (const ch of c.channels.values()) {
    const s = ch.socket;
    if (s instanceof net.Socket && !(s instanceof tls.TLSSocket)) s.resetAndDestroy();
    else s.destroy();
  }
}
