import { describe, expect, it } from 'vitest';
import type { Conduit } from '../src/transport/conduit.js';
import { SpiceStream } from '../src/transport/stream.js';
import type { CoalescePolicy, CorkPolicy } from '../src/transport/policy.js';
import type { WriteUnit } from '../src/transport/units.js';
import type { WireMeter } from '../src/transport/wire-meter.js';

type Event = { op: 'submit'; sizes: number[] } | { op: 'cork' } | { op: 'uncork' } | { op: 'kernel'; on: boolean };

/**
 * An in-memory conduit that behaves like the TLS one: a unit completes asynchronously, and a
 * second submit while one is in flight would be merged by Node (we assert it never happens).
 */
class FakeConduit implements Conduit {
  readonly kind: 'tcp' | 'tls';
  readonly secure = false;
  readonly peer = 'fake:1';
  readonly fd = undefined;
  readonly keepsUnitBoundaries: boolean;
  readonly events: Event[] = [];
  readonly units: WriteUnit[] = [];
  inFlight = 0;
  maxInFlight = 0;
  destroyed = false;
  failNext = false;
  private closeCbs: ((err?: Error) => void)[] = [];
  private idleCbs: (() => void)[] = [];

  constructor(
    tlsLike: boolean,
    private readonly kernelCork = true,
  ) {
    this.kind = tlsLike ? 'tls' : 'tcp';
    this.keepsUnitBoundaries = tlsLike;
  }

  get busy(): boolean {
    return this.keepsUnitBoundaries && this.inFlight > 0;
  }
  get bufferedBytes(): number {
    return 0;
  }
  get stats() {
    return { sslWrites: 0, tlsRecords: 0, wireBytes: 0 };
  }
  submit(unit: WriteUnit, done: (err?: Error | null) => void): void {
    this.units.push(unit);
    this.events.push({ op: 'submit', sizes: unit.map((b) => b.length) });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const err = this.failNext ? new Error('EPIPE') : null;
    this.failNext = false;
    setImmediate(() => {
      this.inFlight--;
      done(err);
      if (this.inFlight === 0) for (const cb of this.idleCbs) cb();
    });
  }
  cork(): void {
    this.events.push({ op: 'cork' });
  }
  uncork(): void {
    this.events.push({ op: 'uncork' });
  }
  setKernelCork(on: boolean): boolean {
    if (!this.kernelCork) return false;
    this.events.push({ op: 'kernel', on });
    return true;
  }
  onData(): void {}
  unread(): void {}
  onClose(cb: (err?: Error) => void): void {
    this.closeCbs.push(cb);
  }
  onDrain(): void {}
  onIdle(cb: () => void): void {
    this.idleCbs.push(cb);
  }
  tcpInfo(): undefined {
    return undefined;
  }
  end(): void {
    this.close();
  }
  destroy(): void {
    this.close();
  }
  close(err?: Error): void {
    this.destroyed = true;
    for (const cb of this.closeCbs) cb(err);
  }
}

/**
 * Let the fake conduit finish: it completes each unit on the next turn of the event loop
 * (setImmediate), and the stream submits the next when one completes. Fifty turns cover every chain
 * here, whatever the wall clock does (a 20 ms timer could fire between two turns of a slow loop).
 */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
}

/** A message as the channel client hands it over: 6-byte header, fixed part, payload. */
function message(fixed: number, payload: number): Buffer[] {
  return [Buffer.alloc(6, 1), Buffer.alloc(fixed, 2), Buffer.alloc(payload, 3)].filter((b) => b.length > 0);
}

function make(coalesce: CoalescePolicy, cork: CorkPolicy, tlsLike = true, kernelCork = true) {
  const conduit = new FakeConduit(tlsLike, kernelCork);
  return { conduit, stream: new SpiceStream(conduit, { coalesce, cork }) };
}

const submits = (c: FakeConduit) =>
  c.events.filter((e): e is Extract<Event, { op: 'submit' }> => e.op === 'submit').map((e) => e.sizes);

describe('TLS coalescing policies', () => {
  it('none: every iovec is its own unit (SSL_write), submitted one at a time', async () => {
    const { conduit, stream } = make('none', 'on');
    stream.writeMessage(message(41, 0));
    stream.writeMessage(message(57, 3000));
    stream.flush();
    await settle();
    expect(submits(conduit)).toEqual([[6], [41], [6], [57], [3000]]);
    expect(conduit.maxInFlight).toBe(1);
  });

  it('small: messages of at most 1024 bytes are gathered into one unit; larger ones go iovec by iovec', async () => {
    const { conduit, stream } = make('small', 'on');
    stream.writeMessage(message(41, 0)); // 47 B
    stream.writeMessage(message(57, 961)); // exactly 1024 B
    stream.writeMessage(message(57, 962)); // 1025 B
    stream.flush();
    await settle();
    expect(submits(conduit)).toEqual([[47], [1024], [6], [57], [962]]);
    expect(stream.snapshot().gatheredBytes).toBe(47 + 1024);
    expect(conduit.maxInFlight).toBe(1);
  });

  it('flush: the flush is one unit plus its last message alone, handed over only at the flush', async () => {
    const { conduit, stream } = make('flush', 'on');
    for (let i = 0; i < 5; i++) stream.writeMessage(message(20, 100));
    await settle();
    expect(submits(conduit)).toEqual([]);
    stream.flush();
    await settle();
    // The last message gets its own SSL_write so the flush's final record holds one message only.
    expect(submits(conduit)).toEqual([Array(4).fill([6, 20, 100]).flat(), [6, 20, 100]]);
    expect(stream.snapshot()).toMatchObject({ messages: 5, iovecs: 15, flushes: 1, units: 2, plaintextBytes: 630 });
    expect(conduit.maxInFlight).toBe(1);
  });

  it('flush: the open unit counts as buffered, so a producer sees congestion before it flushes', async () => {
    const { conduit, stream } = make('flush', 'on');
    stream.writeMessage(message(20, 600_000));
    expect(stream.buffered).toBe(600_026);
    expect(stream.congested).toBe(false);
    stream.writeMessage(message(20, 600_000));
    expect(stream.congested).toBe(true);
    stream.flush();
    await settle();
    expect(submits(conduit)).toEqual([
      [6, 20, 600_000],
      [6, 20, 600_000],
    ]);
    expect(stream.buffered).toBe(0);
  });

  it('flush: a flush of one message is one unit', async () => {
    const { conduit, stream } = make('flush', 'on');
    stream.writeMessage(message(20, 5000));
    stream.flush();
    await settle();
    expect(submits(conduit)).toEqual([[6, 20, 5000]]);
  });

  it('flush with cork off: each message is its own flush and its own unit', async () => {
    const { conduit, stream } = make('flush', 'off');
    stream.writeMessage(message(20, 100));
    stream.writeMessage(message(20, 0));
    await settle();
    expect(submits(conduit)).toEqual([
      [6, 20, 100],
      [6, 20],
    ]);
    expect(conduit.events.some((e) => e.op === 'cork')).toBe(false);
  });
});

describe('cork policies', () => {
  it('on: corks at the first message of a flush and uncorks once its units are done, balanced over many flushes', async () => {
    const { conduit, stream } = make('none', 'on');
    for (let f = 0; f < 10; f++) {
      stream.writeMessage(message(30, 200));
      stream.writeMessage(message(30, 0));
      stream.flush();
      if (f % 3 === 0) await settle();
    }
    await settle();
    const corks = conduit.events.filter((e) => e.op === 'cork').length;
    const uncorks = conduit.events.filter((e) => e.op === 'uncork').length;
    expect(corks).toBeGreaterThan(0);
    expect(corks).toBe(uncorks);
    expect(conduit.events.at(-1)).toEqual({ op: 'uncork' });
    // Never uncorked while a unit of the flush was still queued.
    const firstUncork = conduit.events.findIndex((e) => e.op === 'uncork');
    expect(conduit.events.slice(0, firstUncork).filter((e) => e.op === 'submit').length).toBe(5);
  });

  it('plain TCP with cork on: all messages of a flush go while corked, then one uncork', async () => {
    const { conduit, stream } = make('flush', 'on', false);
    stream.writeMessage(message(30, 200));
    stream.writeMessage(message(30, 10));
    stream.flush();
    expect(conduit.events.map((e) => e.op)).toEqual(['cork', 'submit', 'uncork']);
  });

  it('kernel: TCP_CORK set for the flush and cleared after it', async () => {
    const { conduit, stream } = make('none', 'kernel');
    stream.writeMessage(message(30, 200));
    stream.flush();
    await settle();
    expect(conduit.events[0]).toEqual({ op: 'kernel', on: true });
    expect(conduit.events.at(-1)).toEqual({ op: 'kernel', on: false });
    expect(conduit.events.some((e) => e.op === 'cork')).toBe(false);
  });

  it('kernel falls back to a user-space cork where TCP_CORK is unavailable', async () => {
    const { conduit, stream } = make('flush', 'kernel', true, false);
    stream.writeMessage(message(30, 200));
    stream.flush();
    await settle();
    expect(conduit.events.map((e) => e.op)).toEqual(['cork', 'submit', 'uncork']);
  });

  it('releases the cork when the connection closes mid-flush', () => {
    const { conduit, stream } = make('flush', 'on');
    stream.writeMessage(message(30, 200));
    expect(conduit.events).toEqual([{ op: 'cork' }]);
    conduit.close(new Error('reset'));
    expect(conduit.events).toEqual([{ op: 'cork' }, { op: 'uncork' }]);
  });

  it('releases the cork after a failed write and stops writing', async () => {
    const { conduit, stream } = make('none', 'kernel');
    conduit.failNext = true;
    stream.writeMessage(message(30, 200));
    stream.flush();
    await settle();
    expect(conduit.events.at(-1)).toEqual({ op: 'kernel', on: false });
    const before = submits(conduit).length;
    stream.writeMessage(message(30, 200));
    stream.flush();
    await settle();
    expect(submits(conduit).length).toBe(before);
  });
});

describe('the wire meter', () => {
  it('sees every unit as it is submitted and as it completes, with the flush it was queued in', async () => {
    const conduit = new FakeConduit(true);
    const seen: string[] = [];
    const meter: WireMeter = {
      unitSubmitted: (bytes, flush) => seen.push(`submit ${bytes}@${flush} inFlight=${conduit.inFlight}`),
      unitDone: (bytes, flush) => seen.push(`done ${bytes}@${flush}`),
    };
    const stream = new SpiceStream(conduit, { coalesce: 'none', cork: 'on' }, meter);
    stream.writeMessage(message(41, 0));
    stream.flush();
    // Queued behind the first unit (TLS units go one at a time): they belong to flush 0 and 1.
    stream.writeMessage(message(10, 0));
    stream.flush();
    await settle();
    expect(seen).toEqual([
      'submit 6@0 inFlight=0',
      'done 6@0',
      'submit 41@0 inFlight=0',
      'done 41@0',
      'submit 6@1 inFlight=0',
      'done 6@1',
      'submit 10@1 inFlight=0',
      'done 10@1',
    ]);
  });
});
