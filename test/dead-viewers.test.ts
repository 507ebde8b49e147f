import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import type { DisplaySink, DisplaySource } from '../src/seam/index.js';
import { encodeAck } from '../src/protocol/common.js';
import { ChannelType } from '../src/protocol/constants.js';
import { SpiceServer, type SpiceServerOptions } from '../src/server/server.js';
import { getTcpIntOption, sockoptUnavailableReason } from '../src/transport/sockopt.js';
import { memoryLogger } from '../src/util/log.js';
import { logged } from './helpers/half-open.js';
import { PatternSource } from './helpers/pattern-source.js';

let server: SpiceServer | undefined;
const clients: SpiceClient[] = [];

async function start(options: Partial<SpiceServerOptions>, source: DisplaySource = new PatternSource()) {
  const { logger, records } = memoryLogger('debug');
  server = new SpiceServer({ source, port: 0, log: logger, warmUp: false, audio: false, ...options });
  await server.start();
  return { server, records };
}

async function viewer(port: number): Promise<SpiceClient> {
  const c = new SpiceClient({ port });
  clients.push(c);
  await c.connect();
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.stop();
  server = undefined;
});

/** Noise a codec cannot shrink: every step puts ~1 MB on the wire. */
class NoiseSource implements DisplaySource {
  readonly name = 'noise';
  private sink: DisplaySink | undefined;
  private timer: NodeJS.Timeout | undefined;
  start(sink: DisplaySink): Promise<void> {
    this.sink = sink;
    sink.display({ kind: 'surfaceCreate', surfaceId: 0, width: 512, height: 512, primary: true });
    this.timer = setInterval(() => this.step(), 20);
    return Promise.resolve();
  }
  private step(): void {
    const image = { width: 512, height: 512, stride: 2048, data: Buffer.alloc(512 * 2048) };
    for (let i = 0; i < image.data.length; i += 4) image.data.writeUInt32LE((Math.random() * 0x1000000) >>> 0, i);
    this.sink?.display({ kind: 'copy', surfaceId: 0, dest: { top: 0, left: 0, bottom: 512, right: 512 }, image });
  }
  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    return Promise.resolve();
  }
}

describe('dead viewers', () => {
  it('a viewer that leaves PINGs unanswered is closed at the PING deadline; one that answers stays', async () => {
    const { server, records } = await start({ pingIntervalSeconds: 0.2, pingTimeoutSeconds: 1 });
    const alive = await viewer(server.port);
    const gone = await viewer(server.port);
    const main = gone.channels.get(ChannelType.Main)!;
    const port = (main.socket as net.Socket).localPort;
    (main.socket as net.Socket).pause(); // reads nothing more: PINGs go unanswered
    const closed = new RegExp(`closing main connection from 127\\.0\\.0\\.1:${port}: no PONG for [\\d.]+ s \\(limit 1`);
    await logged(records, closed, 5000);
    await new Promise((r) => setTimeout(r, 500));
    const open = server.main.clients;
    expect([...open].length).toBe(1);
    expect(alive.channels.get(ChannelType.Main)!.socket.destroyed).toBe(false);
  });

  it('a viewer that sends ACKs but never reads is closed when its socket does not drain', async () => {
    const options = { client: { stallTimeoutMs: 1500 }, pingTimeoutSeconds: 0 };
    const { server, records } = await start(options, new NoiseSource());
    const c = await viewer(server.port);
    await c.waitFor(() => c.display.marks > 0 || !!c.display.primary, 5000, 'the display channel');
    const display = c.channels.get(ChannelType.Display)!;
    (display.socket as net.Socket).pause();
    // ACKs keep the window open and the server sending: they must not count as draining.
    const acks = setInterval(() => display.send(encodeAck()), 20);
    try {
      const closed = /closing display connection from 127\.0\.0\.1:\d+: client stalled: socket not drained, \d+ bytes/;
      await logged(records, closed, 12_000);
    } finally {
      clearInterval(acks);
    }
  });

  const why = sockoptUnavailableReason();
  const title = `every accepted socket has TCP keepalive with short probes${why ? ` - skipped: ${why}` : ''}`;
  it.skipIf(why !== '')(title, async () => {
    const { server } = await start({ keepAlive: { idleS: 7, intervalS: 3, count: 4 } });
    await viewer(server.port);
    const fds = server.clients().map((cl) => cl.stream.conduit.fd);
    expect(fds.length).toBeGreaterThanOrEqual(4);
    for (const fd of fds) {
      expect(getTcpIntOption(fd!, 'keepidle')).toBe(7);
      expect(getTcpIntOption(fd!, 'keepintvl')).toBe(3);
      expect(getTcpIntOption(fd!, 'keepcnt')).toBe(4);
      expect(getTcpIntOption(fd!, 'user_timeout')).toBe((7 + 3 * 4) * 1000);
    }
  });
});
