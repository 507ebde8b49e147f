import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import { sameRgb } from '../src/display/pixels.js';
import { ChannelType, MainMsgc } from '../src/protocol/constants.js';
import { encodeDataHeader } from '../src/protocol/header.js';
import { SpiceServer } from '../src/server/server.js';
import { memoryLogger, type LogRecord } from '../src/util/log.js';
import { gradient, PatternSource } from './helpers/pattern-source.js';

/*
 * Everything a peer can make the server queue has a bound. A viewer that asks and never reads the
 * answers is closed once its pipe holds maxQueuedItems, long before the stall timeout, and the
 * other viewers carry on.
 */

const MAX_ITEMS = 2000;
const MAX_BURSTS = 15;

describe('bounds on what a peer can make the server queue', () => {
  const source = new PatternSource();
  const { logger, records } = memoryLogger('debug');
  const server = new SpiceServer({
    source,
    port: 0,
    listen: '127.0.0.1',
    log: logger,
    client: { stallTimeoutMs: 120_000, maxQueuedItems: MAX_ITEMS },
  });
  let watcher: SpiceClient;

  beforeAll(async () => {
    await server.start();
    watcher = new SpiceClient({ port: server.port });
    await watcher.connect();
    await watcher.waitFor(() => watcher.display.marks > 0, 5000, 'first frame');
  });

  afterAll(async () => {
    watcher.close();
    await server.stop();
  });

  it('closes a main channel that sends ATTACH_CHANNELS without reading the replies', async () => {
    const c = new SpiceClient({ port: server.port, channels: [] });
    await c.connect();
    const main = c.channels.get(ChannelType.Main)!;
    main.socket.pause(); // read nothing more: the server's replies back up into its pipe
    const refused = (): boolean =>
      records.some((r) =>
        /closing main connection from 127\.0\.0\.1:\d+: client does not read: 2000 messages queued/.test(r.message),
      );
    // 100k requests per write (mini headers, 6 bytes each): the kernel and stream buffers hold a few
    // hundred thousand replies; the pipe fills once they are full.
    const burst = Buffer.concat(
      Array.from({ length: 100_000 }, (_, i) => encodeDataHeader(true, MainMsgc.AttachChannels, 0, BigInt(i + 1))),
    );
    let writes = 0;
    // As fast as the server reads, and no further than needed (the old server kept every reply).
    // The paused socket reports no close, so the server's log says when it has given up.
    while (!refused() && writes < MAX_BURSTS) {
      writes++;
      if (!main.socket.write(burst))
        await Promise.race([once(main.socket, 'drain'), new Promise((resolve) => setTimeout(resolve, 200))]);
    }
    expect(refused(), `not refused after ${writes} bursts of 100k requests`).toBe(true);
    c.close();
    source.step();
    await watcher.waitFor(
      () => sameRgb(watcher.display.primary!, server.desktop.primary!),
      5000,
      'the other viewer to keep up',
    );
  });

  it('a cursor viewer that does not read holds a few cursor messages, and ends with the current cursor', async () => {
    const before = new Set(server.clients());
    const c = new SpiceClient({ port: server.port, channels: [ChannelType.Cursor] });
    await c.connect();
    await c.waitFor(() => c.cursor.messages > 0, 5000, 'cursor INIT');
    const sock = c.channels.get(ChannelType.Cursor)!.socket;
    sock.pause();
    for (let i = 0; i < 5000; i++) {
      if (i % 100 === 0)
        server.desktop.cursor({
          kind: 'cursorSet',
          shape: { id: 100 + i, image: gradient(32, 32, i), hotX: 0, hotY: 0 },
        });
      server.desktop.cursor({ kind: 'cursorMove', x: i % 300, y: i % 200 });
    }
    server.desktop.cursor({ kind: 'cursorMove', x: 123, y: 45 });
    const cursorClient = server.clients().find((k) => k.channelType === ChannelType.Cursor && !before.has(k))!;
    expect(cursorClient.pipe.length).toBeLessThanOrEqual(2);
    sock.resume();
    await c.waitFor(
      () => c.cursor.x === 123 && c.cursor.y === 45 && c.cursor.shape?.width === 32,
      5000,
      'the current cursor',
    );
    c.close();
  });

  it('warns once about an unknown mouse mode however often a viewer asks for it', async () => {
    const c = new SpiceClient({ port: server.port, channels: [] });
    await c.connect();
    const main = c.channels.get(ChannelType.Main)!;
    for (let i = 0; i < 200; i++) main.send({ type: MainMsgc.MouseModeRequest, parts: [Buffer.from([7, 0])] });
    const asked = (): LogRecord[] => records.filter((r) => /asked for unknown mouse mode 7/.test(r.message));
    await c.waitFor(() => asked().length === 200, 5000, 'the requests');
    expect(asked().filter((r) => r.level === 'warn')).toHaveLength(1);
    c.close();
  });
});
