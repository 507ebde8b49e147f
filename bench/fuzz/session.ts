import net from 'node:net';
import { SpiceClient } from '../../src/client/client.js';
import { ChannelType, LINK_HEADER_SIZE, TICKET_SIZE } from '../../src/protocol/index.js';

/*
 * A real session, recorded: the project's client links every channel the server lists, types,
 * moves the pointer and clicks, through a proxy that keeps what each connection sent to the server.
 * Those byte strings are the seeds the mutator starts from.
 */

export interface RecordedChannel {
  channelType: number;
  /** Everything the client sent on this connection: link message, ticket, then data messages. */
  bytes: Buffer;
  /** Where the data messages start (after the link message, auth mechanism and ticket). */
  linkEnd: number;
}

/** A TCP proxy on 127.0.0.1 that records each connection's client-to-server bytes. */
async function recordingProxy(targetPort: number): Promise<{ port: number; recorded: Buffer[][]; close: () => void }> {
  const recorded: Buffer[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const chunks: Buffer[] = [];
    recorded.push(chunks);
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      // A reset at the end of the session is expected; the recording is what matters.
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d: Buffer) => {
      chunks.push(Buffer.from(d));
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => client.write(d));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    recorded,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Record one session against the server on `port`. */
export async function recordSession(port: number, password: string | undefined): Promise<RecordedChannel[]> {
  const proxy = await recordingProxy(port);
  const client = new SpiceClient({
    port: proxy.port,
    password: password ?? '',
    channels: [ChannelType.Display, ChannelType.Inputs, ChannelType.Cursor, ChannelType.Playback, ChannelType.Record],
  });
  try {
    await client.connect();
    await client.waitFor(() => client.display.draws > 0, 20_000, 'a first frame');
    for (let i = 0; i < 12; i++) {
      client.tapKey(0x1e + (i % 10));
      client.sendInput({ kind: 'mousePosition', x: 10 + 20 * i, y: 10 + 9 * i, buttons: 0, displayId: 0 });
      client.sendInput({ kind: 'mouseMotion', dx: 3, dy: -2, buttons: 0 });
      if (i % 4 === 0) {
        client.sendInput({ kind: 'mousePress', button: 1, buttons: 1 });
        client.sendInput({ kind: 'mouseRelease', button: 1, buttons: 0 });
      }
      await sleep(20);
    }
    await sleep(300);
  } finally {
    client.close();
    await sleep(100);
    proxy.close();
  }
  return proxy.recorded
    .map((chunks) => Buffer.concat(chunks))
    .filter((b) => b.length >= LINK_HEADER_SIZE)
    .map(describeChannel);
}

function describeChannel(bytes: Buffer): RecordedChannel {
  const messEnd = LINK_HEADER_SIZE + bytes.readUInt32LE(12);
  // Our client announces auth selection: a u32 mechanism, then the 128-byte RSA ticket.
  return {
    channelType: bytes[LINK_HEADER_SIZE + 4]!,
    bytes,
    linkEnd: Math.min(bytes.length, messEnd + 4 + TICKET_SIZE),
  };
}
