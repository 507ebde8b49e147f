import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import { sameRgb } from '../src/display/pixels.js';
import { ChannelType } from '../src/protocol/constants.js';
import { SpiceServer } from '../src/server/server.js';
import { ManualSource } from './helpers/pattern-source.js';

/*
 * A lagging display viewer's queue is bounded by count as well as by pixels: 1-pixel fills weigh
 * nothing next to the 32 MiB pixel bound, so before the count a viewer that stopped reading held
 * every one of them (half a million small items is some 100 MB of heap).
 */
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('display queue of a viewer that stops reading', () => {
  const source = new ManualSource();
  let server: SpiceServer;
  beforeAll(async () => {
    server = new SpiceServer({
      source,
      port: 0,
      audio: false,
      web: false,
      warmUp: false,
      display: { maxQueuedDraws: 2000 },
    });
    await server.start();
  });
  afterAll(() => server.stop());

  it('turns many small draws into damage past maxQueuedDraws, and the viewer still catches up', async () => {
    const viewer = new SpiceClient({ port: server.port, channels: [ChannelType.Display] });
    await viewer.connect();
    await viewer.waitFor(() => viewer.display.marks > 0, 5000, 'first frame');
    const socket = viewer.channels.get(ChannelType.Display)!.socket as net.Socket;
    socket.pause();
    // 20,000 one-pixel fills, none covering another: nothing is dropped as covered.
    for (let i = 0; i < 20_000; i++) {
      const x = i % 320;
      const y = Math.floor(i / 320) % 240;
      source.sink.display({
        kind: 'fill',
        surfaceId: 0,
        rect: { top: y, left: x, bottom: y + 1, right: x + 1 },
        color: (i * 2654435761) >>> 8,
      });
      if (i % 1000 === 0) await sleep(1);
    }
    const serverSide = [...server.display.clients][0]!;
    expect(serverSide.pipe.length).toBeLessThanOrEqual(2000 + 16);
    expect(serverSide.damagedCommands).toBeGreaterThan(0);
    socket.resume();
    await viewer.waitFor(
      () => sameRgb(viewer.display.primary!, server.desktop.primary!),
      15_000,
      'the viewer to catch up',
    );
    expect(viewer.errors).toEqual([]);
    viewer.close();
  });
});
