import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientChannel } from '../src/client/channel.js';
import { SpiceClient } from '../src/client/client.js';
import { ChannelType, DisplayCap } from '../src/protocol/constants.js';
import { SpiceServer } from '../src/server/server.js';
import { memoryLogger } from '../src/util/log.js';
import { PatternSource } from './helpers/pattern-source.js';

/*
 * A session holds one connection per channel: whoever has the session id (the viewer, relinking)
 * can open the display channel again, and the new connection replaces the old one instead of
 * adding a second that receives every frame too.
 */
function linkDisplay(port: number, sessionId: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => {
      const ch = new ClientChannel(socket, {
        connectionId: sessionId,
        channelType: ChannelType.Display,
        channelId: 0,
        channelCaps: [DisplayCap.MonitorsConfig],
        password: '',
      });
      ch.linked.then(() => resolve(ch), reject);
    });
    socket.once('error', reject);
  });
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('one connection per channel and session', () => {
  const { logger, records } = memoryLogger('debug');
  let server: SpiceServer;
  beforeAll(async () => {
    server = new SpiceServer({ source: new PatternSource(), port: 0, log: logger, warmUp: false });
    await server.start();
  });
  afterAll(() => server.stop());

  it('a second display link of a session replaces the first; the newest gets the screen', async () => {
    const viewer = new SpiceClient({ port: server.port });
    await viewer.connect();
    await viewer.waitFor(() => viewer.display.marks > 0, 10_000, 'the first frame');
    const sessionId = viewer.init!.sessionId;
    expect(server.display.clients.size).toBe(1);

    const extra: ClientChannel[] = [];
    for (let i = 0; i < 5; i++) {
      const ch = await linkDisplay(server.port, sessionId);
      let messages = 0;
      ch.on('message', () => messages++);
      extra.push(ch);
      await until(`display link ${i} to get messages`, () => messages > 0);
      await until('the replaced display connection to close', () => server.display.clients.size === 1);
    }
    // Every earlier connection was closed by the server; only the last is open.
    await until('the replaced connections to close at the client', () => extra.slice(0, -1).every((c) => c.isClosed));
    expect(extra.at(-1)!.isClosed).toBe(false);
    expect(records.some((r) => r.message.includes('replaced by a new connection of the same channel'))).toBe(true);
    // The session itself goes on: its main channel is still there.
    expect(server.sessions.has(sessionId)).toBe(true);
    for (const c of extra) c.socket.destroy();
    viewer.close();
  });
});
