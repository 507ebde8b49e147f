import { describe, expect, it } from 'vitest';
import { encodeStats } from '../src/channels/display-items.js';
import { SpiceClient } from '../src/client/client.js';
import { sameRgb } from '../src/display/pixels.js';
import { ChannelType } from '../src/protocol/constants.js';
import { SpiceServer } from '../src/server/server.js';
import { gradient, ManualSource } from './helpers/pattern-source.js';

/*
 * Issue 15: a viewer that joins gets the whole current screen, and that screen is encoded once for
 * all of them, not once per viewer (about 40 ms of server CPU per joiner at
 * 1024x768 before).
 */
describe('the screen a joining viewer gets', () => {
  async function join(port: number, server: SpiceServer): Promise<SpiceClient> {
    const c = new SpiceClient({ port, channels: [ChannelType.Display] });
    await c.connect();
    await c.waitFor(() => c.display.marks > 0 && sameRgb(c.display.primary!, server.desktop.primary!), 5000, 'screen');
    return c;
  }

  it('is encoded once for every viewer, and a change costs the next joiner only the draw, encoded once', async () => {
    const source = new ManualSource(320, 240);
    const server = new SpiceServer({ source, port: 0, listen: '127.0.0.1', warmUp: false });
    await server.start();
    const viewers: SpiceClient[] = [];
    try {
      const before = encodeStats.images;
      viewers.push(await join(server.port, server));
      const first = encodeStats.images - before;
      expect(first).toBe(1); // one image of the whole screen (spicy-screenshot saves the first frame it sees)
      for (let i = 0; i < 4; i++) viewers.push(await join(server.port, server));
      expect(encodeStats.images - before).toBe(first);

      // A change: the next joiner gets the key frame and the change, and everyone ends on the new screen.
      const mid = encodeStats.images;
      source.sink.display({
        kind: 'copy',
        surfaceId: 0,
        dest: { top: 68, left: 10, bottom: 100, right: 42 },
        image: gradient(32, 32, 9),
      });
      viewers.push(await join(server.port, server));
      for (const v of viewers)
        await v.waitFor(() => sameRgb(v.display.primary!, server.desktop.primary!), 5000, 'changed screen');
      // The copy itself, once for the five viewers and the joiner (who gets it after the key frame).
      expect(encodeStats.images - mid).toBe(1);
    } finally {
      for (const v of viewers) v.close();
      await server.stop();
    }
  });

  it('catches up with moves, fills and images drawn since the key frame, with no encoding', async () => {
    const source = new ManualSource(320, 240);
    const server = new SpiceServer({ source, port: 0, listen: '127.0.0.1', warmUp: false });
    await server.start();
    const viewers: SpiceClient[] = [];
    try {
      viewers.push(await join(server.port, server));
      const captured = server.display.screen.captured;
      const sink = source.sink;
      for (let k = 0; k < 20; k++) {
        // A window dragged down and right: the move, the strip it uncovers, a new image in it.
        sink.display({
          kind: 'copyBits',
          surfaceId: 0,
          src: { x: 40 + k, y: 30 + k },
          dest: { top: 31 + k, left: 41 + k, bottom: 131 + k, right: 141 + k },
        });
        sink.display({
          kind: 'fill',
          surfaceId: 0,
          rect: { top: 30 + k, left: 40 + k, bottom: 31 + k, right: 141 + k },
          color: 0x102030 * k,
        });
        sink.display({
          kind: 'copy',
          surfaceId: 0,
          dest: { top: 200, left: 4 * k, bottom: 216, right: 4 * k + 16 },
          image: gradient(16, 16, k),
        });
        if (k % 5 === 4) viewers.push(await join(server.port, server));
      }
      for (const v of viewers)
        await v.waitFor(() => sameRgb(v.display.primary!, server.desktop.primary!), 5000, 'final screen');
      expect(server.display.screen.captured).toBe(captured);
    } finally {
      for (const v of viewers) v.close();
      await server.stop();
    }
  });
});
