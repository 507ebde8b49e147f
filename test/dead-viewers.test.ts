import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import type { DisplaySink, DisplaySource } from '../src/seam/index.js';
import { encodeAck } from '../src/protocol/common.js';
import { ChannelType } from '../src/protocol/constants.js';
import type { MainChannelClient } from '../src/channels/main.js';
import { SpiceServer, type SpiceServerOptions } from '../src/server/server.js';
import { getTcpIntOption, sockoptUnavailableReason } from '../src/transport/sockopt.js';
import { memoryLogger } from '../src/util/log.js';
import { logged } from './helpers/half-open.js';
import { ManualClock } from './helpers/manual-clock.js';
import { until } from './helpers/wait.js';
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

/** The server's main channel client for `viewer`, found by the viewer's local port. */
function serverMain(server: SpiceServer, viewer: SpiceClient): MainChannelClient {
  const port = (viewer.channels.get(ChannelType.Main)!.socket as net.Socket).localPort;
  const found = [...server.main.clients].find((c) => c.stream.peer === `127.0.0.1:${port}`);
  if (!found) throw new Error(`no main client from port ${port}`);
  return found;
}

/*
 * The deadlines here are the server's (PING, drain), and they run on a ManualClock: the test moves
 * time itself, so "not closed at 1 s, closed at the next check" holds exactly on a loaded machine,
 * and nobody sleeps through a deadline. Sockets are real; only the server's timers wait for advance().
 */
describe('dead viewers', () => {
  it('a viewer that leaves PINGs unanswered is closed at the PING deadline; one that answers stays', async () => {
    const clock = new ManualClock();
    // PING every 200 ms; the PONG check runs every 250 ms (a quarter of the limit).
    const { server, records } = await start({ pingIntervalSeconds: 0.2, pingTimeoutSeconds: 1, client: { clock } });
    const alive = await viewer(server.port);
    const gone = await viewer(server.port);
    const [aliveMain, goneMain] = [serverMain(server, alive), serverMain(server, gone)];
    await until('both viewers answering the first PING', () => !aliveMain.awaitingPong && !goneMain.awaitingPong);
    (gone.channels.get(ChannelType.Main)!.socket as net.Socket).pause(); // reads nothing more: PINGs go unanswered
    const closing = /closing main connection from 127\.0\.0\.1:\d+: no PONG for ([\d.]+) s \(limit 1 s\)/;
    /** One PING interval on: the alive viewer answers the PING it brings before time moves on. */
    const step = async (): Promise<void> => {
      await clock.advance(200);
      await until('the alive viewer answering', () => !aliveMain.awaitingPong);
    };
    // The first unanswered PING goes at 200 ms; the check at 1000 ms finds it 800 ms old.
    for (let t = 200; t <= 1200; t += 200) await step();
    expect(goneMain.awaitingPong).toBe(true);
    expect(records.some((r) => closing.test(r.message))).toBe(false);
    // The check at 1250 ms finds it 1050 ms old: over the limit.
    await step();
    const line = await logged(records, closing);
    expect(closing.exec(line.message)![1]).toBe('1.1'); // 1050 ms, to a tenth
    await until('the gone viewer removed', () => server.main.clients.size === 1);
    // The viewer that answers stays, however long time runs on.
    for (let t = 1400; t <= 4000; t += 200) await step();
    expect([...server.main.clients]).toEqual([aliveMain]);
    expect(alive.channels.get(ChannelType.Main)!.socket.destroyed).toBe(false);
  });

  it('a viewer that sends ACKs but never reads is closed when its socket does not drain', async () => {
    const clock = new ManualClock();
    // The drain check runs every 1000 ms (its floor) and closes after 1500 ms without progress.
    const options = { client: { stallTimeoutMs: 1500, clock }, pingTimeoutSeconds: 0 };
    const { server, records } = await start(options, new NoiseSource());
    const c = await viewer(server.port);
    await c.waitFor(() => c.display.marks > 0 || !!c.display.primary, 5000, 'the display channel');
    const display = c.channels.get(ChannelType.Display)!;
    (display.socket as net.Socket).pause();
    // ACKs keep the window open and the server sending: they must not count as draining.
    const acks = setInterval(() => display.send(encodeAck()), 20);
    try {
      const [client] = [...server.display.clients];
      // The kernel's buffers are full once bytes wait there unsent (the display channel then holds
      // its draws in the pipe, its link allowance spent) or the server holds back bytes of its own.
      const unsent = (): number => client!.stream.buffered + (client!.stream.tcpInfo()?.notsentBytes ?? 0);
      await until('the display socket full', () => unsent() > 0);
      // And the viewer's receive buffer full too: until then its kernel still acknowledges what
      // arrives (progress), and the manual clock's checks, which pass in a few real ms, could all
      // fall before it fills (a loaded machine). Settled once nothing was acknowledged for 300 ms.
      let acked = -1;
      let still = 0;
      await until(
        "the viewer's receive buffer full",
        () => {
          const now = client!.stream.tcpInfo()?.bytesAcked ?? 0;
          still = now === acked ? still + 1 : 0;
          acked = now;
          return still >= 6;
        },
        20_000,
        50,
      );
      const closing =
        /closing display connection from 127\.0\.0\.1:\d+: client stalled: socket not drained, \d+ bytes unsent and none taken for (\d+) s/;
      const closed = (): boolean => records.some((r) => closing.test(r.message));
      // Two checks see no progress 1000 ms apart (under the limit), the third 2000 ms after (over
      // it); more only if the kernel still took a few bytes at first.
      for (let i = 0; i < 20 && !closed(); i++) await clock.advance(1000);
      const line = await logged(records, closing);
      expect(Number(closing.exec(line.message)![1])).toBe(2);
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
