import { constants, createPublicKey, publicEncrypt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import { capWords } from '../src/protocol/caps.js';
import { ChannelType, CommonCap, LinkErr, MouseMode } from '../src/protocol/constants.js';
import { encodeLinkMess, encodeU32, type LinkMess } from '../src/protocol/link.js';
import { LinkStage, type LinkAuthority, type LinkResult } from '../src/server/link-stage.js';
import { SpiceServer } from '../src/server/server.js';
import { Ticketing, TicketKey } from '../src/server/ticket.js';
import type { Conduit } from '../src/transport/conduit.js';
import { silentLogger } from '../src/util/log.js';
import { PatternSource } from './helpers/pattern-source.js';

const key = TicketKey.generateSync();

const publicKey = createPublicKey({ key: key.publicDer, format: 'der', type: 'spki' });

function ticket(password: string): Buffer {
  return publicEncrypt(
    { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
    Buffer.from(password + '\0'),
  );
}

describe('tickets', () => {
  it('decrypt to the password without its NUL', () => {
    expect(key.decrypt(ticket('secret'))).toBe('secret');
    expect(key.decrypt(ticket(''))).toBe('');
    expect(key.decrypt(Buffer.alloc(128, 7))).toBeUndefined();
  });

  it("tolerate spice-html5's shifted ticket (leading zero byte dropped, zero appended) on WebSocket links", () => {
    let ct = ticket('pw');
    for (let i = 0; i < 5000 && ct[0] !== 0; i++) ct = ticket('pw'); // OAEP is randomised: 1 in 256
    expect(ct[0]).toBe(0);
    const shifted = Buffer.concat([ct.subarray(1), Buffer.from([0])]);
    expect(key.decrypt(shifted, true)).toBe('pw');
    expect(key.decrypt(shifted, false)).toBeUndefined(); // spice-gtk never shifts
  });

  it('cost one decryption for garbage; a shift is tried only when the bytes it drops are zero', () => {
    const count = (t: Buffer, html5: boolean): number => {
      const before = key.decryptions;
      expect(key.decrypt(t, html5)).toBeUndefined();
      return key.decryptions - before;
    };
    const garbage = Buffer.alloc(128, 7);
    expect(count(garbage, true)).toBe(1);
    expect(count(garbage, false)).toBe(1);
    garbage[127] = 0;
    expect(count(garbage, true)).toBe(2);
    expect(count(garbage, false)).toBe(1);
    garbage[126] = 0;
    expect(count(garbage, true)).toBe(3);
  });

  it('expire after --ticket-expiry seconds, and compare passwords whatever their lengths', () => {
    const t = new Ticketing({ password: 'pw', disabled: false, expirySeconds: 60 }, 1_000_000);
    expect(t.verify('pw', 1_000_000 + 59_000)).toEqual({ ok: true, role: 'control' });
    expect(t.verify('pw', 1_000_000 + 61_000)).toEqual({ ok: false, reason: 'ticket expired' });
    expect(t.verify('p', 1_000_000)).toMatchObject({ ok: false, reason: 'wrong password' });
    expect(t.verify('pw-and-more', 1_000_000)).toMatchObject({ ok: false });
    expect(new Ticketing({ disabled: false }).verify('x')).toMatchObject({
      ok: false,
      reason: 'ticketing is enabled but no password is set',
    });
    expect(() => new Ticketing({ password: 'x'.repeat(61), disabled: false })).toThrow(/60 bytes/);
  });

  it('give the view-only role to the second password, and refuse it without a first one', () => {
    const t = new Ticketing({ password: 'teacher', viewPassword: 'class', disabled: false });
    expect(t.verify('teacher')).toEqual({ ok: true, role: 'control' });
    expect(t.verify('class')).toEqual({ ok: true, role: 'view' });
    expect(t.verify('clas')).toMatchObject({ ok: false, reason: 'wrong password' });
    expect(new Ticketing({ disabled: true }).verify(undefined)).toEqual({ ok: true, role: 'control' });
    expect(() => new Ticketing({ viewPassword: 'class', disabled: false })).toThrow(/needs a password/);
    expect(() => new Ticketing({ password: 'same', viewPassword: 'same', disabled: false })).toThrow(/must differ/);
  });
});

/** A conduit that records what the link stage writes and lets the test feed it bytes. */
function fakeConduit(): { conduit: Conduit; written: Buffer[]; feed(b: Buffer): void; ended: () => boolean } {
  let handler: ((b: Buffer) => void) | undefined;
  const written: Buffer[] = [];
  let ended = false;
  const conduit = {
    kind: 'tcp',
    secure: false,
    peer: 'test:1',
    busy: false,
    keepsUnitBoundaries: false,
    bufferedBytes: 0,
    fd: undefined,
    destroyed: false,
    stats: { sslWrites: 0, tlsRecords: 0, wireBytes: 0 },
    submit: (unit: Buffer[], done: (err?: Error | null) => void) => {
      written.push(Buffer.concat(unit));
      done();
    },
    cork: () => {},
    uncork: () => {},
    setKernelCork: () => false,
    onData: (cb: (b: Buffer) => void) => (handler = cb),
    unread: () => {},
    onClose: () => {},
    onDrain: () => {},
    onIdle: () => {},
    tcpInfo: () => undefined,
    end: () => (ended = true),
    destroy: () => (ended = true),
  } satisfies Conduit;
  return { conduit, written, feed: (b) => handler!(b), ended: () => ended };
}

describe('link stage', () => {
  const authority: LinkAuthority = {
    ticketFor: () => ({
      publicDer: key.publicDer,
      check: (t) => new Ticketing({ password: 'pw', disabled: false }).verify(key.decrypt(t)),
    }),
    commonCaps: capWords([CommonCap.ProtocolAuthSelection, CommonCap.AuthSpice, CommonCap.MiniHeader]),
    channelCaps: () => [],
    securityCheck: () => LinkErr.Ok,
    capacityCheck: () => ({ error: LinkErr.Ok, reason: '' }),
    admit: () => ({ error: LinkErr.Ok, reason: '' }),
  };
  const mess: LinkMess = {
    connectionId: 0,
    channelType: ChannelType.Main,
    channelId: 0,
    commonCaps: capWords([CommonCap.ProtocolAuthSelection, CommonCap.MiniHeader]),
    channelCaps: [],
  };
  const bytes = Buffer.concat([encodeLinkMess(mess), encodeU32(1), ticket('pw'), Buffer.from([0x68, 0, 0, 0, 0, 0])]);

  it("links the same whatever byte offset the client's bytes are split at", () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const f = fakeConduit();
      let linked: LinkResult | undefined;
      new LinkStage(f.conduit, authority, silentLogger, 10_000, (r) => (linked = r));
      f.feed(bytes.subarray(0, cut));
      f.feed(bytes.subarray(cut));
      expect(linked?.mess).toEqual(mess);
      expect(linked?.miniHeader).toBe(true);
      // Bytes after the ticket that arrived with it (a first data message) are handed on, not lost.
      const linkEnd = bytes.length - 6;
      expect(Buffer.concat(linked!.leftover), `cut ${cut}`).toEqual(
        cut < linkEnd ? bytes.subarray(linkEnd) : bytes.subarray(linkEnd, cut),
      );
      expect(f.written.at(-1)).toEqual(encodeU32(LinkErr.Ok));
    }
  });

  it('answers an unknown auth mechanism with INVALID_DATA as the link result', () => {
    const f = fakeConduit();
    new LinkStage(f.conduit, authority, silentLogger, 10_000, () => {});
    f.feed(Buffer.concat([encodeLinkMess(mess), encodeU32(2)]));
    expect(f.written.at(-1)).toEqual(encodeU32(LinkErr.InvalidData));
    expect(f.ended()).toBe(true);
  });
});

describe('main channel', () => {
  it('server mouse mode: relative motion moves the shared pointer and the cursor follows; round trips are measured', async () => {
    const source = new PatternSource();
    const server = new SpiceServer({ source, port: 0 });
    await server.start();
    const c = new SpiceClient({
      port: server.port,
      mouseMode: MouseMode.Server,
      channels: [ChannelType.Inputs, ChannelType.Cursor],
    });
    await c.connect();
    await c.waitFor(() => c.mouseMode === MouseMode.Server, 3000, 'server mouse mode');
    c.sendInput({ kind: 'mouseMotion', dx: 30, dy: 20, buttons: 0 });
    c.sendInput({ kind: 'mouseMotion', dx: -5, dy: 5, buttons: 0 });
    await c.waitFor(() => c.cursor.x === 25 && c.cursor.y === 25, 3000, 'the cursor to move');
    expect(source.inputs.filter((e) => e.kind === 'pointer').at(-1)).toMatchObject({ x: 25, y: 25 });
    const main = [...server.main.clients][0]!;
    await c.waitFor(() => main.rttMs !== undefined, 3000, 'a round trip');
    expect(main.rttMs).toBeGreaterThanOrEqual(0);
    source.stop();
    server.desktop.cursor({ kind: 'cursorHide' });
    await c.waitFor(() => !c.cursor.visible, 3000, 'HIDE');
    c.close();
    await server.stop();
  });
});
