import net from 'node:net';
import tls from 'node:tls';
import { randomFillSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import { allocImage } from '../src/display/pixels.js';
import { makeCertificates, type TlsMaterial } from '../src/server/certs.js';
import { SpiceServer } from '../src/server/server.js';
import { FeedSource } from '../src/sources/feed.js';
import type { StreamPolicy } from '../src/transport/policy.js';
import { getTcpInfo, sockoptUnavailableReason, type TcpInfo } from '../src/transport/sockopt.js';
import { HIGH_WATER, SpiceStream } from '../src/transport/stream.js';
import { chooseTlsEngine, secureContext, TlsConduit, type TlsEngine } from '../src/transport/tls-conduit.js';
import { recordOverhead } from '../src/transport/tls-records.js';
import type { WriteUnit } from '../src/transport/units.js';
import { memoryLogger } from '../src/util/log.js';
import type { Conduit } from '../src/transport/conduit.js';
import { WireRecorder } from '../replay/wire-recorder.js';

/*
 * The native TLS engine (Node's TLSWrap on the TCP handle): its records and ciphertext bytes are
 * computed from SSL_write sizes, so they are checked here against the relay engine, which counts
 * them from the ciphertext, for each kind of suite; TCP_CORK must pack a flush like the relay's
 * user-space cork did; and flushes stay bounded by the stream's high-water mark.
 */

const sockopt = sockoptUnavailableReason();
let material: TlsMaterial;
let context: tls.SecureContext;
/** The server refuses CBC suites (tls-policy.ts); the accounting for them is checked on a context that allows them. */
let cbcContext: tls.SecureContext;

beforeAll(async () => {
  material = await makeCertificates(['127.0.0.1']);
  context = secureContext(material);
  cbcContext = tls.createSecureContext({ cert: material.cert, key: material.key, minVersion: 'TLSv1.2' });
});

interface Pair {
  conduit: TlsConduit;
  client: tls.TLSSocket;
  /** Plaintext bytes the client has read. */
  received: () => number;
  close: () => Promise<void>;
}

/** A server-side TlsConduit of the given engine and a tls.connect client that discards what it reads. */
async function pair(
  engine: TlsEngine,
  clientOptions: tls.ConnectionOptions = {},
  serverContext = context,
): Promise<Pair> {
  let accepted!: (c: TlsConduit) => void;
  const got = new Promise<TlsConduit>((r) => (accepted = r));
  const server = net.createServer({ noDelay: true }, (raw) => accepted(new TlsConduit(raw, serverContext, engine)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  let received = 0;
  const client = tls.connect({ host: '127.0.0.1', port, ca: material.ca, ...clientOptions });
  client.on('data', (c: Buffer) => (received += c.length));
  client.on('error', () => {});
  const conduit = await got;
  await conduit.handshake(5000);
  return {
    conduit,
    client,
    received: () => received,
    close: async () => {
      client.destroy();
      conduit.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function submit(conduit: TlsConduit, unit: WriteUnit, meter?: WireRecorder): Promise<void> {
  const size = unit.reduce((n, b) => n + b.length, 0);
  meter?.unitSubmitted(size, 0);
  return new Promise((resolve, reject) =>
    conduit.submit(unit, (err) => {
      meter?.unitDone(size, 0);
      if (err) reject(err);
      else resolve();
    }),
  );
}

async function until(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const bytes = (n: number): Buffer => Buffer.alloc(n, 0x41);

/** Units with record boundaries at every interesting place: tiny, exactly 16 KiB, one over, multi-iovec. */
const UNITS: WriteUnit[] = [
  [bytes(1)],
  [bytes(100)],
  [bytes(16384)],
  [bytes(16385)],
  [bytes(6), bytes(20), bytes(100_000)],
  [bytes(50_000), bytes(50_000), bytes(1)],
];
const PLAINTEXT = UNITS.flat().reduce((n, b) => n + b.length, 0);

/** Send UNITS one at a time and wait until the client has read them all. */
async function sendUnits(p: Pair, meter?: WireRecorder): Promise<void> {
  for (const u of UNITS) await submit(p.conduit, u, meter);
  await until(() => p.received() === PLAINTEXT, 'every byte at the client');
}

/** Ciphertext the kernel has taken: what TCP_INFO says, independently of both engines. */
function accepted(t: TcpInfo | undefined): number {
  if (!t) throw new Error('no TCP_INFO');
  return t.bytesSent - t.bytesRetrans + t.notsentBytes;
}

const SUITES: { name: string; options: tls.ConnectionOptions; aead: boolean }[] = [
  { name: 'TLS 1.3 AES-256-GCM', options: {}, aead: true },
  { name: 'TLS 1.3 ChaCha20-Poly1305', options: { ciphers: 'TLS_CHACHA20_POLY1305_SHA256' }, aead: true },
  {
    name: 'TLS 1.2 AES-128-GCM',
    options: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' },
    aead: true,
  },
  {
    name: 'TLS 1.2 ChaCha20-Poly1305',
    options: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' },
    aead: true,
  },
  // CBC: no fixed overhead; the native engine reads the kernel's byte count instead.
  {
    name: 'TLS 1.2 AES-128-CBC-SHA256',
    options: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256' },
    aead: false,
  },
];

describe('choosing the TLS engine', () => {
  it('native unless a cork must be held and TCP_CORK is unavailable', () => {
    expect(chooseTlsEngine('on', '').engine).toBe('native');
    expect(chooseTlsEngine('kernel', '').engine).toBe('native');
    expect(chooseTlsEngine('off', 'koffi could not be loaded').engine).toBe('native');
    expect(chooseTlsEngine('on', 'koffi could not be loaded')).toEqual({
      engine: 'relay',
      reason: expect.stringContaining('koffi could not be loaded'),
    });
    expect(chooseTlsEngine('kernel', 'no Linux').engine).toBe('relay');
  });

  it('says which at debug level when the TLS port starts', async () => {
    const { logger, records } = memoryLogger('debug');
    const server = new SpiceServer({ source: new FeedSource(), port: null, tlsPort: 0, tls: material, log: logger });
    await server.start();
    await server.stop();
    const line = records.find((r) => /^TLS port: (native|relay) TLS engine \(/.test(r.message));
    expect(line?.level).toBe('debug');
    expect(line?.message).toContain(sockopt === '' ? 'native' : 'relay');
  });

  it('knows the per-record overhead of every AEAD suite and none of CBC', () => {
    expect(recordOverhead('TLSv1.3', 'TLS_AES_256_GCM_SHA384')).toBe(22);
    expect(recordOverhead('TLSv1.3', 'TLS_AES_128_CCM_8_SHA256')).toBe(14);
    expect(recordOverhead('TLSv1.2', 'ECDHE-ECDSA-AES256-GCM-SHA384')).toBe(29);
    expect(recordOverhead('TLSv1.2', 'ECDHE-ECDSA-AES128-CCM8')).toBe(21);
    expect(recordOverhead('TLSv1.2', 'ECDHE-RSA-CHACHA20-POLY1305')).toBe(21);
    expect(recordOverhead('TLSv1.2', 'ECDHE-ECDSA-AES128-SHA256')).toBeUndefined();
  });
});

describe('native engine accounting', () => {
  for (const suite of SUITES) {
    it.skipIf(!suite.aead && sockopt !== '')(
      `${suite.name}: records and ciphertext computed = counted by the relay${!suite.aead && sockopt ? ` - skipped: ${sockopt}` : ''}`,
      async () => {
        const relay = await pair('relay', suite.options, suite.aead ? context : cbcContext);
        const native = await pair('native', suite.options, suite.aead ? context : cbcContext);
        try {
          expect(native.client.getCipher().name).toBe(relay.client.getCipher().name);
          expect(native.conduit.stats).toMatchObject({ sslWrites: 0, tlsRecords: 0, wireBytes: 0 });
          await sendUnits(relay);
          await sendUnits(native);
          const counted = relay.conduit.stats;
          const computed = native.conduit.stats;
          expect(counted.sslWrites).toBe(UNITS.length);
          expect(counted.tlsRecords).toBe(1 + 1 + 1 + 2 + 7 + 7);
          expect(computed.sslWrites).toBe(counted.sslWrites);
          expect(computed.tlsRecords).toBe(counted.tlsRecords);
          expect(computed.wireBytes).toBe(counted.wireBytes);
        } finally {
          await relay.close();
          await native.close();
        }
      },
    );
  }

  it.skipIf(sockopt !== '')(
    `agrees with the kernel, and keeps the handshake (and session tickets) apart${sockopt ? ` - skipped: ${sockopt}` : ''}`,
    async () => {
      const native = await pair('native');
      const relay = await pair('relay');
      try {
        const c = native.conduit;
        const meter = new WireRecorder(c);
        // Submitted at once: OpenSSL may still hold the TLS 1.3 session tickets, which then leave
        // with this unit; they must still count as handshake, not data.
        await submit(c, UNITS[0]!, meter);
        const first = { kernel: accepted(getTcpInfo(c.fd!)), wire: c.stats.wireBytes };
        for (const u of UNITS.slice(1)) await submit(c, u, meter);
        await until(() => native.received() === PLAINTEXT, 'every byte at the client');
        expect(accepted(getTcpInfo(c.fd!)) - first.kernel).toBe(c.stats.wireBytes - first.wire);
        expect(meter.handshakeRecords).toBeUndefined();
        expect(meter.handshakeBytes).toBe(first.kernel - first.wire);
        expect(meter.flushWire).toEqual([c.stats.wireBytes]);
        // The relay counts the same handshake (certificate, signature, tickets) from its ciphertext.
        const relayMeter = new WireRecorder(relay.conduit);
        await sendUnits(relay, relayMeter);
        expect(relayMeter.handshakeRecords).toBeGreaterThan(2);
        expect(relayMeter.unitSizes).toEqual(UNITS.map((u) => u.reduce((n, b) => n + b.length, 0)));
        expect(Math.abs(meter.handshakeBytes! - relayMeter.handshakeBytes!)).toBeLessThan(16); // ECDSA signatures vary in length
      } finally {
        await native.close();
        await relay.close();
      }
    },
  );
});

describe.skipIf(sockopt !== '')(`TCP_CORK under native TLS${sockopt ? ` - skipped: ${sockopt}` : ''}`, () => {
  /** One flush of 40 small messages (120 SSL_writes with `none`): how many data segments did it take? */
  async function segmentsForOneFlush(
    policy: StreamPolicy,
    engine: TlsEngine = 'native',
  ): Promise<{ segments: number; wire: number; sslWrites: number }> {
    const p = await pair(engine);
    try {
      const stream = new SpiceStream(p.conduit, policy);
      const before = getTcpInfo(p.conduit.fd!)!;
      for (let i = 0; i < 40; i++) stream.writeMessage([bytes(6), bytes(20), bytes(100)]);
      stream.flush();
      await until(() => p.received() === 40 * 126 && stream.buffered === 0, 'the flush at the client');
      const after = getTcpInfo(p.conduit.fd!)!;
      return {
        segments: after.dataSegsOut - before.dataSegsOut,
        wire: stream.snapshot().wireBytes,
        sslWrites: stream.snapshot().sslWrites,
      };
    } finally {
      await p.close();
    }
  }

  it('cork on: a flush of 120 SSL_writes leaves in one segment (it is far below the MSS)', async () => {
    const r = await segmentsForOneFlush({ cork: 'on', coalesce: 'none' });
    expect(r.sslWrites).toBe(120);
    expect(r.wire).toBe(40 * 126 + 120 * 22);
    expect(r.segments).toBe(1);
  });

  it('the relay engine (the fallback without TCP_CORK) packs it the same with its user-space cork', async () => {
    const r = await segmentsForOneFlush({ cork: 'on', coalesce: 'none' }, 'relay');
    expect(r.sslWrites).toBe(120);
    expect(r.wire).toBe(40 * 126 + 120 * 22);
    expect(r.segments).toBe(1);
  });

  it('cork kernel: the same', async () => {
    const r = await segmentsForOneFlush({ cork: 'kernel', coalesce: 'none' });
    expect(r.segments).toBe(1);
  });

  it('flush coalescing with cork on: two SSL_writes (the flush, its last message), one segment', async () => {
    const r = await segmentsForOneFlush({ cork: 'on', coalesce: 'flush' });
    expect(r.sslWrites).toBe(2);
    expect(r.segments).toBe(1);
  });
});

describe('bounded flushes', () => {
  const server = { instance: undefined as SpiceServer | undefined };
  afterAll(() => server.instance?.stop());

  it('a flush stops at the high-water mark instead of draining the whole pipe into one SSL_write', async () => {
    const feed = new FeedSource();
    feed.push({ kind: 'surfaceCreate', surfaceId: 0, width: 1024, height: 768, primary: true });
    const meters = new Map<Conduit, WireRecorder>();
    const wireMeter = (c: Conduit): WireRecorder => meters.set(c, new WireRecorder(c)).get(c)!;
    const s = new SpiceServer({
      source: feed,
      port: null,
      tlsPort: 0,
      tls: material,
      wireMeter,
      display: { compression: 'off', imageCache: false },
      pingIntervalSeconds: 0,
    });
    server.instance = s;
    await s.start();
    const client = new SpiceClient({ port: s.tlsPort!, tls: { ca: material.ca }, channels: [2] });
    await client.connect();
    await client.waitFor(() => client.display.marks > 0, 5000, 'first frame');
    const display = [...s.display.clients][0]!;
    const flushesBefore = display.stream.counters.flushes;
    // 12 images of 1 MiB in one tick: before, one flush (and one 11 MiB SSL_write) took them all.
    for (let i = 0; i < 12; i++) {
      const image = allocImage(512, 512);
      randomFillSync(image.data);
      const x = i * 40; // overlapping, never covering each other (covered draws would be dropped unsent)
      feed.push({ kind: 'copy', surfaceId: 0, dest: { top: 0, left: x, bottom: 512, right: x + 512 }, image });
    }
    const imageMessage = 512 * 512 * 4;
    const reader = client.channels.get(2)!;
    await client.waitFor(
      () => display.idle && display.stream.counters.plaintextBytes === reader.stats.bytes,
      10_000,
      'every image at the client',
    );
    const units = meters.get(display.stream.conduit)!.unitSizes;
    expect(Math.max(...units)).toBeLessThanOrEqual(HIGH_WATER + imageMessage + 4096);
    expect(display.stream.counters.flushes - flushesBefore).toBeGreaterThanOrEqual(6);
    client.close();
  });
});
