import { describe, expect, it, vi } from 'vitest';
import { SharedFlushes } from '../src/channel-core/shared-flush.js';
import { SendRounds } from '../src/channel-core/send-rounds.js';
import { SpiceClient } from '../src/client/client.js';
import { sameRgb } from '../src/display/pixels.js';
import { ChannelType } from '../src/protocol/constants.js';
import { outMessage } from '../src/protocol/message.js';
import { SpiceServer } from '../src/server/server.js';
import { gradient, ManualSource } from './helpers/pattern-source.js';

/*
 * Issue 15, hundreds of viewers: a flush that is the same messages for several viewers is laid
 * out once and written to each as that one buffer, and the viewers of a broadcast channel are
 * pushed in rounds spaced by how many they are.
 */
describe('shared flushes', () => {
  const a = outMessage(302, Buffer.from([1, 2, 3]), Buffer.from([4]));
  const b = outMessage(303, Buffer.from([5, 6]));
  const size = 6 + 4 + 6 + 2;

  it('lay out a sequence seen twice as mini-header messages, and only then', () => {
    const flushes = new SharedFlushes();
    expect(flushes.lookup([a, b], size)).toBeUndefined(); // one viewer alone pays no copy
    const shared = flushes.lookup([a, b], size)!;
    expect(shared.bytes).toEqual(Buffer.from([46, 1, 4, 0, 0, 0, 1, 2, 3, 4, 47, 1, 2, 0, 0, 0, 5, 6]));
    expect(shared.iovecs).toBe(5); // what the messages would have been: header + parts each
    expect(flushes.lookup([a, b], size)).toBe(shared); // built once
    expect(flushes.built).toBe(1);
    expect(flushes.hits).toBe(2);
  });

  it('match messages by reference: equal bytes made per viewer, another order or a prefix are other flushes', () => {
    const flushes = new SharedFlushes();
    flushes.lookup([a, b], size);
    expect(flushes.lookup([b, a], size)).toBeUndefined();
    expect(flushes.lookup([a], 10)).toBeUndefined();
    expect(flushes.lookup([outMessage(302, Buffer.from([1, 2, 3]), Buffer.from([4])), b], size)).toBeUndefined();
    expect(flushes.hits).toBe(0);
  });

  it('are not laid out past the size bound (large payloads stay shared by reference)', () => {
    const flushes = new SharedFlushes();
    const big = outMessage(302, Buffer.alloc(128 << 10));
    flushes.lookup([big], 6 + (128 << 10));
    expect(flushes.lookup([big], 6 + (128 << 10))).toBeUndefined();
  });
});

describe('send rounds', () => {
  it('run at once for a few viewers, and spaced by viewers / writes per second for many', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setImmediate', 'performance'] });
    try {
      let viewers = 1;
      const rounds = new SendRounds(() => viewers, 1000);
      expect(rounds.spacingMs).toBe(0);
      viewers = 50;
      expect(rounds.spacingMs).toBe(50);
      const ran: number[] = [];
      const member = { runRound: () => ran.push(performance.now()) };
      rounds.schedule(member);
      rounds.schedule(member); // one round, however often a member asks
      vi.advanceTimersByTime(10);
      expect(ran.length).toBe(1);
      rounds.schedule(member);
      vi.advanceTimersByTime(10);
      expect(ran.length).toBe(1); // waits for the spacing
      vi.advanceTimersByTime(40);
      expect(ran.length).toBe(2);
      expect(ran[1]! - ran[0]!).toBeGreaterThanOrEqual(49);
      expect(rounds.waited).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('many viewers of one desktop', () => {
  async function viewer(server: SpiceServer): Promise<SpiceClient> {
    const c = new SpiceClient({ port: server.port, channels: [ChannelType.Display] });
    await c.connect();
    await c.waitFor(() => c.display.marks > 0, 5000, 'first frame');
    return c;
  }

  async function drawSteps(source: ManualSource, steps: number): Promise<void> {
    for (let i = 0; i < steps; i++) {
      source.sink.display({
        kind: 'fill',
        surfaceId: 0,
        rect: { top: 10 + i, left: 10, bottom: 20 + i, right: 60 },
        color: 0x102030 * (i + 1),
      });
      await new Promise((r) => setImmediate(r)); // each draw in a turn of its own
    }
  }

  /** A 160x120 desktop served to `count` viewers, given to `body`; everything closed afterwards. */
  async function withViewers(
    count: number,
    body: (source: ManualSource, server: SpiceServer, viewers: SpiceClient[]) => Promise<void>,
  ): Promise<void> {
    const source = new ManualSource(160, 120);
    const server = new SpiceServer({ source, port: 0, listen: '127.0.0.1', warmUp: false, audio: false, web: false });
    await server.start();
    const viewers: SpiceClient[] = [];
    try {
      for (let i = 0; i < count; i++) viewers.push(await viewer(server));
      await body(source, server, viewers);
    } finally {
      for (const v of viewers) v.close();
      await server.stop();
    }
  }

  it('get the same flushes from one shared buffer and end on the server frame', async () => {
    await withViewers(4, async (source, server, viewers) => {
      const hits = server.display.sharedFlushes.hits;
      await drawSteps(source, 10);
      for (const v of viewers)
        await v.waitFor(() => sameRgb(v.display.primary!, server.desktop.primary!), 5000, 'server frame');
      // Each of the 10 draws reached 4 viewers; all but the first viewer's flush of each came from a shared buffer.
      expect(server.display.sharedFlushes.hits - hits).toBeGreaterThanOrEqual(10 * 3 - 3);
    });
  });

  it('are pushed in rounds that merge the draws of several turns when the write budget asks for it', async () => {
    const flushesFor = async (writesPerSecond: number): Promise<{ flushes: number; ms: number }> => {
      const source = new ManualSource(160, 120);
      const server = new SpiceServer({
        source,
        port: 0,
        listen: '127.0.0.1',
        warmUp: false,
        audio: false,
        web: false,
        client: { writesPerSecond },
      });
      await server.start();
      const viewers: SpiceClient[] = [];
      try {
        for (let i = 0; i < 3; i++) viewers.push(await viewer(server));
        const count = (): number => [...server.display.clients].reduce((n, c) => n + c.stream.counters.flushes, 0);
        const before = count();
        const t0 = performance.now();
        await drawSteps(source, 20);
        const ms = performance.now() - t0;
        for (const v of viewers)
          await v.waitFor(() => sameRgb(v.display.primary!, server.desktop.primary!), 5000, 'server frame');
        return { flushes: (count() - before) / viewers.length, ms };
      } finally {
        for (const v of viewers) v.close();
        await server.stop();
      }
    };
    // 3 viewers at 100 writes a second: rounds 30 ms apart, so 20 draws in 20 turns leave in a round
    // per 30 ms they took (and one more for the last), against one flush per draw without spacing.
    const spaced = await flushesFor(100);
    const unspaced = await flushesFor(0);
    expect(unspaced.flushes).toBeGreaterThanOrEqual(15);
    expect(spaced.flushes).toBeLessThanOrEqual(Math.ceil(spaced.ms / 30) + 2);
    expect(spaced.flushes).toBeLessThan(unspaced.flushes);
  });

  it('give viewers joining a channel whose writes are spaced a window of twice the ACKs', async () => {
    /** Messages sent per message received (ACKs, mostly) for one viewer of a server at `writesPerSecond`. */
    const messagesPerAck = async (writesPerSecond: number): Promise<number> => {
      const source = new ManualSource(160, 120);
      const options = { source, port: 0, listen: '127.0.0.1', warmUp: false, audio: false, web: false } as const;
      const server = new SpiceServer({ ...options, client: { writesPerSecond } });
      await server.start();
      const v = await viewer(server);
      try {
        const client = [...server.display.clients][0]!;
        const sent0 = client.stream.counters.messages;
        const received0 = client.received;
        await drawSteps(source, 400);
        await v.waitFor(() => sameRgb(v.display.primary!, server.desktop.primary!), 5000, 'server frame');
        return (client.stream.counters.messages - sent0) / (client.received - received0);
      } finally {
        v.close();
        await server.stop();
      }
    };
    // One viewer at 100 writes a second: rounds 10 ms apart (spaced), an ACK every 40 messages;
    // unspaced (the default budget, one viewer), every 20 as spice-gtk is told by default.
    expect(await messagesPerAck(100)).toBeGreaterThan(35);
    const unspaced = await messagesPerAck(0);
    expect(unspaced).toBeGreaterThan(17);
    expect(unspaced).toBeLessThan(23);
  });

  it('cache an image from its second sighting on when there are more than a few of them', async () => {
    await withViewers(6, async (source, server, viewers) => {
      const stats = (): { hits: number; entries: number }[] =>
        [...server.display.clients].map((c) => ({ hits: c.cacheStats!.hits, entries: c.cacheStats!.entries }));
      const image = gradient(24, 24, 77); // content no test has drawn before
      const drawAndSettle = async (left: number): Promise<{ hits: number; entries: number }[]> => {
        source.sink.display({
          kind: 'copy',
          surfaceId: 0,
          dest: { top: 40, left, bottom: 64, right: left + 24 },
          image,
        });
        for (const v of viewers)
          await v.waitFor(() => sameRgb(v.display.primary!, server.desktop.primary!), 5000, 'server frame');
        return stats();
      };
      const before = stats();
      const first = await drawAndSettle(10);
      expect(first).toEqual(before); // first sighting: sent, not cached
      const second = await drawAndSettle(50);
      second.forEach((s, i) => expect(s.entries).toBe(before[i]!.entries + 1)); // seen before: now cached
      const third = await drawAndSettle(90);
      third.forEach((s, i) => expect(s.hits).toBe(second[i]!.hits + 1)); // and sent from the cache
    });
  });
});
