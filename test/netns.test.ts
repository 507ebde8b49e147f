import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tools } from './helpers/probes.js';
import { collect, spawnInNetns } from '../replay/netns.js';
import type { MeasureConfig, MeasureResult } from '../replay/types.js';
import type { CoalescePolicy, CorkPolicy } from '../src/transport/policy.js';
import { sockoptUnavailableReason } from '../src/transport/sockopt.js';

/*
 * The stream layer on a real TCP stack: a fixed burst pattern through the server to the project's
 * client inside a private network namespace (lo at MTU 1500), counts read from TCP_INFO.
 * Runs the built worker (npm test builds first).
 */
const netns = tools().netns;
const sockopt = sockoptUnavailableReason();
const WORKER = join(__dirname, '..', 'dist', 'replay', 'worker.js');
const skip = netns !== '' || sockopt !== '';
const why = netns || sockopt;

async function burst(mode: 'plain' | 'tls', coalesce: CoalescePolicy, cork: CorkPolicy): Promise<MeasureResult> {
  const cfg: MeasureConfig = {
    source: { kind: 'burst', frames: 24 },
    mode,
    coalesce,
    cork,
    pace: 'asap',
    channels: ['display'],
    timeoutMs: 20_000,
  };
  const r = await collect(spawnInNetns(WORKER, [JSON.stringify(cfg)], 1500), 60_000);
  if (r.code !== 0) throw new Error(`worker failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as MeasureResult;
}

const records = (units: number[]): number => units.reduce((n, u) => n + Math.ceil(u / 16384), 0);
/** The link reply and the link result are two more TLS records on every channel. */
const LINK_RECORDS = 2;

describe.skipIf(skip)(`stream layer in a network namespace (MTU 1500)${skip ? ` - skipped: ${why}` : ''}`, () => {
  it('cork on: plain TCP sends the ideal minimum of data segments for its flushes (within 2%)', async () => {
    const r = await burst('plain', 'flush', 'on');
    const d = r.channels.display!;
    expect(r.frameMatch, r.frameDetail).toBe(true);
    expect(d.mss).toBe(1448);
    expect(d.dataPackets).toBeGreaterThanOrEqual(d.idealPackets);
    expect(d.dataPackets).toBeLessThanOrEqual(Math.ceil(d.idealPackets * 1.02));
  });

  it('TLS none: one record per iovec (more only for iovecs over 16 KiB)', async () => {
    const r = await burst('tls', 'none', 'on');
    const d = r.channels.display!;
    expect(r.frameMatch, r.frameDetail).toBe(true);
    expect(d.units).toBe(d.iovecs);
    expect(d.tlsRecords).toBe(records(r.displayUnits) + LINK_RECORDS);
    expect(d.dataPackets).toBeLessThanOrEqual(Math.ceil(d.idealPackets * 1.02));
  });

  it('TLS flush: one record per 16 KiB per flush (the flush and its last message), within 2% of the ideal segments', async () => {
    const r = await burst('tls', 'flush', 'on');
    const d = r.channels.display!;
    expect(r.frameMatch, r.frameDetail).toBe(true);
    expect(d.units).toBeLessThanOrEqual(2 * d.flushes);
    expect(d.tlsRecords).toBe(records(r.displayUnits) + LINK_RECORDS);
    expect(d.dataPackets).toBeLessThanOrEqual(Math.ceil(d.idealPackets * 1.02));
    expect(d.handshakeBytes).toBeGreaterThan(0);
    // Everything else on the wire is SPICE data in TLS 1.3 records (22 bytes each) plus the link
    // reply's plaintext (~184 B, written before the stream counts): the two session tickets
    // (~510 B) count as handshake, not as steady-state cost.
    const residue = d.payloadBytes - d.handshakeBytes - (d.plaintextBytes + 22 * d.tlsRecords);
    expect(residue).toBeGreaterThan(150);
    expect(residue).toBeLessThan(250);
  });

  it('cork off costs packets: more data segments than with cork on for the same burst', async () => {
    const off = (await burst('tls', 'none', 'off')).channels.display!;
    const on = (await burst('tls', 'none', 'on')).channels.display!;
    expect(off.dataPackets).toBeGreaterThan(on.dataPackets * 1.05);
    // Same SPICE bytes either way; only the handshake varies (ECDSA signatures differ in length).
    expect(off.payloadBytes - off.handshakeBytes).toBe(on.payloadBytes - on.handshakeBytes);
  });
});
