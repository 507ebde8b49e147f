import { describe, expect, it } from 'vitest';
import { SendRounds } from '../src/channel-core/send-rounds.js';
import { SpiceClient } from '../src/client/client.js';
import { sameRgb } from '../src/display/pixels.js';
import { ChannelType } from '../src/protocol/constants.js';
import type { Rect } from '../src/protocol/geometry.js';
import { SpiceServer } from '../src/server/server.js';
import { copyBitsItem, fillItem } from '../src/channels/display-items.js';
import { SharedDrawLog } from '../src/channels/draw-log.js';
import type { LoggedDraw } from '../src/channels/key-frame.js';
import { gradient, ManualSource } from './helpers/pattern-source.js';

/*
 * Issue 15, hundreds of viewers: caught-up viewers take their draws from one log kept by the
 * display channel, with a cursor each, instead of each having every draw queued in its pipe.
 */
const fill = (rect: Rect, color = 1): LoggedDraw => ({ kind: 'fill', rect, item: fillItem(rect, color) });
const copyBits = (rect: Rect): LoggedDraw => ({
  kind: 'copyBits',
  rect,
  src: { x: 0, y: 0 },
  item: copyBitsItem(rect, { x: 0, y: 0 }),
});
const box = (left: number, top: number, size: number): Rect => ({ left, top, right: left + size, bottom: top + size });

/** A log whose round runs only when the test says (the rounds are never spaced; runRound is called directly). */
function logWith(): { log: SharedDrawLog<{ runRound(): void; ran: number }>; rounds: SendRounds } {
  const rounds = new SendRounds(() => 1, 0);
  return { log: new SharedDrawLog(rounds), rounds };
}

describe('shared draw log', () => {
  it('keeps draws only while someone follows, and gives each follower those after its cursor, in order', () => {
    const { log } = logWith();
    const a = { runRound: () => a.ran++, ran: 0 };
    const b = { runRound: () => b.ran++, ran: 0 };
    const d1 = fill(box(0, 0, 10));
    log.append(d1); // nobody follows: not kept
    expect(log.appended).toBe(0);
    log.follow(a);
    const d2 = fill(box(20, 0, 10));
    log.append(d2);
    log.follow(b); // joins after d2: it never needs it
    const d3 = fill(box(40, 0, 10));
    log.append(d3);
    expect(log.pending(a) && log.pending(b)).toBe(true);
    const takenByB: LoggedDraw[] = [];
    expect(log.take(b, (d) => takenByB.push(d))).toBe(0);
    expect(takenByB).toEqual([d3]);
    expect(log.members()).toEqual([a]);
    log.runRound(); // a still waits for d2 and d3: its round runs
    expect(a.ran).toBe(1);
    expect(b.ran).toBe(0);
    const takenByA: LoggedDraw[] = [];
    log.take(a, (d) => takenByA.push(d));
    expect(takenByA).toEqual([d2, d3]);
  });

  it('drops fills and copies a later draw covers, back to the first copy-bits, and counts them for each follower', () => {
    const { log } = logWith();
    const a = { runRound: () => {}, ran: 0 };
    log.follow(a);
    const under = fill(box(10, 10, 10));
    const bits = copyBits(box(100, 100, 10));
    const covered = fill(box(12, 12, 4));
    const other = fill(box(60, 60, 10));
    const cover = fill(box(0, 0, 50));
    for (const d of [under, bits, covered, other, cover]) log.append(d);
    const taken: LoggedDraw[] = [];
    // `covered` goes; `under` stays (the copy-bits between may read it), and so does `other` (outside).
    expect(log.take(a, (d) => taken.push(d))).toBe(1);
    expect(taken).toEqual([under, bits, other, cover]);
  });

  it('asks the send rounds once for however many draws, and its round runs the followers with draws waiting', async () => {
    const { log } = logWith();
    const a = { runRound: () => a.ran++, ran: 0 };
    log.follow(a);
    for (let i = 0; i < 5; i++) log.append(fill(box(i * 20, 0, 10)));
    await new Promise((r) => setImmediate(r));
    expect(a.ran).toBe(1);
  });
});

describe('many viewers of one desktop, following the shared draw log', () => {
  async function viewer(server: SpiceServer): Promise<SpiceClient> {
    const c = new SpiceClient({ port: server.port, channels: [ChannelType.Display] });
    await c.connect();
    await c.waitFor(() => c.display.marks > 0, 5000, 'first frame');
    return c;
  }

  async function everyoneOnServerFrame(server: SpiceServer, viewers: SpiceClient[]): Promise<void> {
    for (const v of viewers)
      await v.waitFor(() => sameRgb(v.display.primary!, server.desktop.primary!), 5000, 'server frame');
  }

  it('do not have their loopback links read after every flush (a delayed ACK is not bytes waiting)', async () => {
    const source = new ManualSource(160, 120);
    const server = new SpiceServer({ source, port: 0, listen: '127.0.0.1', warmUp: false, audio: false, web: false });
    await server.start();
    const viewers: SpiceClient[] = [];
    try {
      for (let i = 0; i < 6; i++) viewers.push(await viewer(server));
      const clients = [...server.display.clients];
      const sum = (f: (c: (typeof clients)[number]) => number): number => clients.reduce((n, c) => n + f(c), 0);
      const flushes0 = sum((c) => c.stream.counters.flushes);
      const readings0 = sum((c) => c.kernelReadings);
      // A small draw every few ms for 0.6 s: each is a flush to each viewer, and after each the
      // receiver's delayed ACK holds the lone segment it went in.
      const until = performance.now() + 600;
      for (let i = 0; performance.now() < until; i++) {
        source.sink.display({ kind: 'fill', surfaceId: 0, rect: box(i % 150, 0, 4), color: 0x010101 * (i & 0xff) });
        await new Promise((r) => setTimeout(r, 2));
      }
      await everyoneOnServerFrame(server, viewers);
      const flushes = sum((c) => c.stream.counters.flushes) - flushes0;
      const readings = sum((c) => c.kernelReadings) - readings0;
      expect(flushes).toBeGreaterThan(6 * 20);
      // Read when the estimate says bytes may wait, or every 200 ms: not once (or more) a flush.
      expect(readings).toBeLessThan(flushes / 4);
      // Nothing waits: the sampler lets them all go (one found with bytes in flight is read until they leave).
      await viewers[0]!.waitFor(() => server.display.linkSampler.size === 0, 2000, 'sampler idle');
    } finally {
      for (const v of viewers) v.close();
      await server.stop();
    }
  });

  it('end on the server frame, drop covered draws once for all, and a paused viewer catches up on its own', async () => {
    const source = new ManualSource(160, 120);
    // 6 viewers at 200 writes a second: rounds 30 ms apart, so the draws of several turns wait in the log.
    const server = new SpiceServer({
      source,
      port: 0,
      listen: '127.0.0.1',
      warmUp: false,
      audio: false,
      web: false,
      client: { writesPerSecond: 200 },
    });
    await server.start();
    const viewers: SpiceClient[] = [];
    try {
      for (let i = 0; i < 6; i++) viewers.push(await viewer(server));
      const display = server.display;
      const logs = [display.drawLogs.streams, display.drawLogs.images];
      const followers = (): number => logs.reduce((n, l) => n + l.followers, 0);
      // Viewers whose pipes drained before there were five of them follow from the next draw on.
      source.sink.display({ kind: 'fill', surfaceId: 0, rect: box(0, 0, 4), color: 0x445566 });
      await everyoneOnServerFrame(server, viewers);
      expect(followers()).toBe(6);
      const covered = (): number => [...display.clients].reduce((n, c) => n + c.coveredDraws, 0);
      const covered0 = covered();
      const sink = source.sink;
      for (let i = 0; i < 20; i++) {
        sink.display({ kind: 'fill', surfaceId: 0, rect: box(10, 10, 8), color: 0x010203 * i }); // the next draw covers it
        sink.display({ kind: 'copy', surfaceId: 0, dest: box(5, 5, 24), image: gradient(24, 24, 300 + i) });
        sink.display({ kind: 'copyBits', surfaceId: 0, src: { x: 0, y: 0 }, dest: box(60 + i, 40, 20) });
        await new Promise((r) => setImmediate(r));
      }
      await everyoneOnServerFrame(server, viewers);
      expect(Math.max(...logs.map((l) => l.appended))).toBeGreaterThanOrEqual(60);
      // Every fill was covered by the copy after it before its round came: 20 for each of the 6.
      expect(covered() - covered0).toBeGreaterThanOrEqual(6 * 15);

      // One viewer stops reading: it leaves the log (its pipe fills behind the ACK window) while
      // the others follow on; resumed, it catches up from its own pipe.
      const paused = viewers[0]!.channels.get(ChannelType.Display)!;
      paused.socket.pause();
      for (let i = 0; i < 100; i++) {
        sink.display({ kind: 'copy', surfaceId: 0, dest: box(i % 100, 60, 30), image: gradient(30, 30, 400 + i) });
        await new Promise((r) => setImmediate(r));
      }
      await everyoneOnServerFrame(server, viewers.slice(1));
      expect(followers()).toBeLessThanOrEqual(5);
      paused.socket.resume();
      await everyoneOnServerFrame(server, viewers);
      for (const v of viewers) expect(v.errors).toEqual([]);
    } finally {
      for (const v of viewers) v.close();
      await server.stop();
    }
  });
});
