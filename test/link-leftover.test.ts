import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientLink } from '../src/client/link.js';
import { ChannelType } from '../src/protocol/constants.js';
import { SpiceServer } from '../src/server/server.js';
import { PatternSource } from './helpers/pattern-source.js';

/*
 * Found by the fuzzer (bench/fuzz.ts): a viewer that sends a malformed message in the same
 * segment as its ticket. Those bytes are handled while the channel client is being built, the
 * message closes it there, and before the fix nobody heard of that close: the main channel kept
 * the client and the server kept its session (and two PING timers) for ever, hundreds a minute
 * under the fuzzer.
 */
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Link `channelType` for real and send `garbage` in the same write as the ticket, then close. */
function linkWithGarbage(port: number, channelType: number, connectionId: number, garbage: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => {
      let writes = 0;
      const link = new ClientLink({ connectionId, channelType, channelId: 0, channelCaps: [], password: '' }, (b) => {
        // The first write is the link message; the next carries the auth mechanism and ticket.
        sock.write(++writes === 1 ? b : Buffer.concat([b, garbage]));
      });
      sock.on('data', (d) => {
        try {
          if (link.receive(d)) setTimeout(() => sock.destroy(), 50);
        } catch {
          sock.destroy();
        }
      });
      sock.on('close', () => resolve());
      link.begin();
    });
    sock.once('error', reject);
  });
}

describe('a channel closed by the bytes that came with its link', () => {
  let server: SpiceServer;
  beforeAll(async () => {
    server = new SpiceServer({ source: new PatternSource(), port: 0, warmUp: false, audio: false, web: false });
    await server.start();
  });
  afterAll(() => server.stop());

  it('ends its session and leaves the channel (main channel, 20 times)', async () => {
    // A full header (type 0xffff, size 4) for a message type nobody knows: a protocol error.
    const garbage = Buffer.alloc(6 + 4);
    garbage.writeUInt16LE(0xffff, 0);
    garbage.writeUInt32LE(4, 2);
    for (let i = 0; i < 20; i++) await linkWithGarbage(server.port, ChannelType.Main, 0, garbage);
    for (let i = 0; i < 100 && (server.sessions.size > 0 || server.main.clients.size > 0); i++) await sleep(20);
    expect(server.main.clients.size).toBe(0);
    expect(server.sessions.size).toBe(0);
  });
});
