import type { Conduit } from './conduit.js';
import { newCounters, type StreamCounters } from './counters.js';
import { DEFAULT_POLICY, type StreamPolicy } from './policy.js';
import type { TcpInfo } from './sockopt.js';
import { UnitBuilder, unitSize, type WriteUnit } from './units.js';
import { NO_WIRE_METER, type WireMeter } from './wire-meter.js';

/** Above this many bytes held in user space the stream reports congestion; below LOW it drains. */
export const HIGH_WATER = 1 << 20;
const LOW_WATER = 256 << 10;

interface QueuedUnit {
  unit: WriteUnit;
  size: number;
  /** The pipe flush (batch) the unit belongs to, for the meter's per-flush accounting. */
  batch: number;
}

/**
 * The stream a channel client writes to (spice-server's RedStream, made policy-driven). Messages
 * arrive as iovecs; `flush()` marks the end of a pipe batch. The stream groups iovecs into write
 * units (TLS coalescing policy), submits them to the conduit one at a time where unit boundaries
 * matter, and corks the transport around a batch (cork policy). It never concatenates except
 * where the `small` policy asks for it (the WebSocket conduit joins iovecs under 512 B).
 */
export class SpiceStream {
  readonly counters: StreamCounters = newCounters();
  readonly policy: StreamPolicy;
  private readonly builder: UnitBuilder;
  private readonly queue: QueuedUnit[] = [];
  private queuedBytes = 0;
  private inFlight = 0;
  private batchOpen = false;
  private batch = 0;
  private corked: 'no' | 'user' | 'kernel' = 'no';
  private autoFlush: boolean;
  private writableWaiters: (() => void)[] = [];
  private failed: Error | undefined;
  private delivered = 0;

  constructor(
    readonly conduit: Conduit,
    policy: StreamPolicy = DEFAULT_POLICY,
    private readonly meter: WireMeter = NO_WIRE_METER,
  ) {
    this.policy = policy;
    // Without TLS there are no records: a batch (or, with cork off, a message) is one writev.
    this.builder = conduit.kind === 'tls' ? new UnitBuilder(policy.coalesce, true) : new UnitBuilder('flush', false);
    this.autoFlush = policy.cork === 'off';
    conduit.onDrain(() => this.checkWritable());
    conduit.onIdle(() => this.pump());
    conduit.onClose(() => this.releaseCork());
  }

  /** Plaintext bytes the transport has taken so far (grows while the peer reads). */
  get deliveredBytes(): number {
    return this.delivered;
  }

  get peer(): string {
    return this.conduit.peer;
  }

  get secure(): boolean {
    return this.conduit.secure;
  }

  /** spice-server's red_stream_set_auto_flush: with auto flush every message leaves at once. */
  setAutoFlush(enabled: boolean): void {
    this.autoFlush = enabled || this.policy.cork === 'off';
    if (this.autoFlush) this.enqueue(this.builder.endFlush());
    this.pump();
  }

  /**
   * Bytes held in user space: the open `flush` unit, queued units and the conduit's. Counting the
   * open unit bounds a flush: the channel client stops draining its pipe at HIGH_WATER and flushes,
   * instead of gathering the whole pipe into one multi-megabyte SSL_write.
   */
  get buffered(): number {
    return this.builder.openBytes + this.queuedBytes + this.conduit.bufferedBytes;
  }

  /** True when the peer does not keep up: producers should stop until `whenWritable` fires. */
  get congested(): boolean {
    return this.buffered > HIGH_WATER;
  }

  whenWritable(cb: () => void): void {
    if (!this.congested) cb();
    else this.writableWaiters.push(cb);
  }

  /** Queue one message: its data header and body iovecs, in order. */
  writeMessage(iovecs: readonly Buffer[]): void {
    if (this.failed || this.conduit.destroyed) return;
    const c = this.counters;
    c.messages++;
    c.iovecs += iovecs.length;
    c.plaintextBytes += unitSize(iovecs);
    if (!this.batchOpen) this.beginBatch();
    this.builder.addMessage(iovecs);
    this.enqueue(this.autoFlush ? this.builder.endFlush() : this.builder.takeReady());
    this.pump();
  }

  /**
   * Whether a flush may be handed over as one buffer of messages (writeLaidOut): everywhere a flush
   * is one write unit anyway. Not over TLS, where the flush's last message must start a record of
   * its own, nor with cork off, where every message is its own write.
   */
  get takesLaidOutFlushes(): boolean {
    return this.conduit.kind !== 'tls' && !this.autoFlush;
  }

  /**
   * Queue `messages` messages already laid out one after the other, headers included, in `bytes`
   * (a flush shared by several viewers, see SharedFlushes); `iovecs` is how many they would have
   * been, so the counters read the same either way. Only where takesLaidOutFlushes.
   */
  writeLaidOut(bytes: Buffer, messages: number, iovecs: number): void {
    if (this.failed || this.conduit.destroyed) return;
    const c = this.counters;
    c.messages += messages;
    c.iovecs += iovecs;
    c.plaintextBytes += bytes.length;
    if (!this.batchOpen) this.beginBatch();
    this.builder.addMessage([bytes]);
    this.enqueue(this.builder.takeReady());
    this.pump();
  }

  /** End of a pipe batch: everything queued leaves, and the transport is uncorked once it has. */
  flush(): void {
    if (!this.batchOpen) return;
    this.batchOpen = false;
    this.counters.flushes++;
    this.enqueue(this.builder.endFlush());
    this.counters.gatheredBytes = this.builder.gatheredBytes;
    this.batch++;
    this.pump();
    this.maybeReleaseCork();
  }

  private beginBatch(): void {
    this.batchOpen = true;
    if (this.corked !== 'no' || this.policy.cork === 'off') return;
    if (this.policy.cork === 'kernel' && this.conduit.setKernelCork(true)) {
      this.corked = 'kernel';
    } else {
      this.conduit.cork();
      this.corked = 'user';
    }
    this.counters.corks++;
  }

  private enqueue(units: WriteUnit[]): void {
    for (const unit of units) {
      const size = unitSize(unit);
      this.queue.push({ unit, size, batch: this.batch });
      this.queuedBytes += size;
    }
  }

  private pump(): void {
    const gated = this.conduit.keepsUnitBoundaries;
    while (this.queue.length > 0 && !(gated && this.conduit.busy)) {
      const q = this.queue.shift()!;
      this.queuedBytes -= q.size;
      this.inFlight++;
      this.counters.units++;
      this.meter.unitSubmitted(q.size, q.batch);
      this.conduit.submit(q.unit, (err) => this.onUnitDone(q, err));
    }
  }

  private onUnitDone(q: QueuedUnit, err?: Error | null): void {
    this.inFlight--;
    this.delivered += q.size;
    this.meter.unitDone(q.size, q.batch);
    if (err && !this.failed) this.failed = err;
    this.pump();
    this.maybeReleaseCork();
    this.checkWritable();
  }

  /**
   * Uncork once the batch is over and every unit has been submitted. Over TLS a unit's SSL_write
   * must also have completed (units go one at a time); over plain TCP Node defers write
   * callbacks while corked, so waiting for them would never end. A kernel cork waits for the
   * last write to reach the kernel.
   */
  private maybeReleaseCork(): void {
    if (this.corked === 'no' || this.batchOpen || this.queue.length > 0) return;
    if ((this.conduit.keepsUnitBoundaries || this.corked === 'kernel') && this.inFlight > 0) return;
    this.releaseCork();
  }

  /** Always safe to call: a cork is released on batch end, on error and on close. */
  private releaseCork(): void {
    const was = this.corked;
    this.corked = 'no';
    if (was === 'user') this.conduit.uncork();
    else if (was === 'kernel') this.conduit.setKernelCork(false);
  }

  private checkWritable(): void {
    if (this.writableWaiters.length === 0 || this.buffered > LOW_WATER) return;
    const waiters = this.writableWaiters;
    this.writableWaiters = [];
    for (const w of waiters) w();
  }

  /** Counters including what the conduit measured underneath. */
  snapshot(): StreamCounters {
    const s = this.conduit.stats;
    return { ...this.counters, sslWrites: s.sslWrites, tlsRecords: s.tlsRecords, wireBytes: s.wireBytes };
  }

  /** The kernel's view of this connection (Linux with koffi), or undefined. */
  tcpInfo(): TcpInfo | undefined {
    return this.conduit.tcpInfo();
  }

  onData(cb: (chunk: Buffer) => void): void {
    this.conduit.onData(cb);
  }

  onClose(cb: (err?: Error) => void): void {
    this.conduit.onClose(cb);
  }

  /** Send what is queued, then close. */
  end(): void {
    this.flush();
    this.releaseCork();
    this.conduit.end();
  }

  destroy(err?: Error): void {
    this.releaseCork();
    this.conduit.destroy(err);
  }

  get destroyed(): boolean {
    return this.conduit.destroyed;
  }
}
