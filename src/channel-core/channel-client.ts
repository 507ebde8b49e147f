import {
  encodeDisconnecting,
  encodeSetAck,
  decodeCommonClientMessage,
  type CommonClientMessage,
} from '../protocol/common.js';
import { channelName, LinkErr } from '../protocol/constants.js';
import { hasCap } from '../protocol/caps.js';
import { ProtocolError } from '../protocol/errors.js';
import { encodeDataHeader, FrameDecoder, headerSize, MINI_HEADER_SIZE } from '../protocol/header.js';
import type { LinkMess } from '../protocol/link.js';
import { messageSize, type OutMessage } from '../protocol/message.js';
import { HIGH_WATER, type SpiceStream } from '../transport/stream.js';
import { endThenDestroy } from '../util/close-gracefully.js';
import { errorMessage, type Logger } from '../util/log.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { AckWindow } from './ack-window.js';
import { LinkEstimate } from './link-estimate.js';
import { messageItem, Pipe, type PipeItem } from './pipe.js';
import { DEFAULT_WRITES_PER_SECOND, type SendRounds } from './send-rounds.js';
import type { SharedFlushes } from './shared-flush.js';

/** What the link stage hands to a channel client once the ticket has been accepted. */
export interface ChannelConnection {
  stream: SpiceStream;
  link: LinkMess;
  miniHeader: boolean;
  /** Bytes received after the ticket (a client may send its first messages at once). */
  leftover: Buffer[];
  log: Logger;
}

export interface ChannelClientOptions {
  /** Largest client message accepted; anything larger is a protocol error. */
  maxMessageSize: number;
  /**
   * Close a client whose socket has had unsent data and not drained any of it for this long,
   * whatever else it sends; or that has left the ACK window full this long.
   */
  stallTimeoutMs: number;
  /**
   * Close a client whose pipe holds this many items (it sends requests but does not read the
   * replies). The display channel has its own bound (lagging draws collapse into damage).
   */
  maxQueuedItems: number;
  /**
   * Channels that send the same to every viewer (display, cursor) push their clients in rounds
   * spaced so that they make at most about this many writes a second (send-rounds.ts); 0: no spacing.
   */
  writesPerSecond: number;
  /** Time and timers of the deadlines here and in the channels (stall, PING); tests move it themselves. */
  clock: Clock;
}

export const DEFAULT_CLIENT_OPTIONS: ChannelClientOptions = {
  maxMessageSize: 1 << 20,
  stallTimeoutMs: 30_000,
  maxQueuedItems: 1 << 16,
  writesPerSecond: DEFAULT_WRITES_PER_SECOND,
  clock: systemClock,
};

/**
 * One client's connection to one channel (spice-server's RedChannelClient): a pipe of items, the
 * ACK window, and a send loop that drains the pipe and flushes the stream when the pipe is empty
 * or blocked. Subclasses decode and handle their channel's messages and fill the pipe.
 */
export abstract class ChannelClient {
  readonly stream: SpiceStream;
  readonly link: LinkMess;
  readonly miniHeader: boolean;
  readonly log: Logger;
  readonly pipe = new Pipe();
  protected readonly ack = new AckWindow();
  /** This connection's bandwidth and latency, from ACK timing and the kernel's counters. */
  readonly linkEstimate = new LinkEstimate();
  private readonly decoder: FrameDecoder;
  private serial = 0n;
  private pushScheduled = false;
  /** The flush being gathered (pushNow) and its bytes with mini headers. */
  private flushMessages: OutMessage[] = [];
  private flushBytes = 0;
  /** Sizes on the wire of the gathered messages the link estimate has not been told of yet (one array, reused). */
  private readonly unreported: number[] = [];
  /** The channel's flushes shared among its viewers, if it shares them (shareFlushes). */
  private sharedFlushes: SharedFlushes | undefined;
  /** The channel's send rounds, if it pushes its clients together (sendWith). */
  private rounds: SendRounds | undefined;
  private awaitingWritable = false;
  private awaitingItem: Promise<void> | undefined;
  /** The timer that pushes again once the link has carried what a send allowance held back. */
  private linkWait: NodeJS.Timeout | undefined;
  /** Bytes handed to the stream so far, and the last reading of what waited to leave (waitingBytes). */
  private written = 0;
  private lastReading = { waiting: 0, written: 0, at: 0 };
  /** Kernel readings (TCP_INFO) made for the link estimate (stats and benches). */
  kernelReadings = 0;
  private closeHandlers: ((reason: string) => void)[] = [];
  /** Why the client closed, once it has. */
  private closeReason: string | undefined;

  private get closed(): boolean {
    return this.closeReason !== undefined;
  }
  private stallTimer: Timer | undefined;
  /** Bytes the client has taken so far (see drainMark), and since when that has not changed (clock ms). */
  private lastDrainMark = -1;
  private lastDrain: number;
  private lastAck: number;
  /** Messages received from the client. */
  received = 0;

  constructor(
    conn: ChannelConnection,
    protected readonly options: ChannelClientOptions = DEFAULT_CLIENT_OPTIONS,
  ) {
    this.stream = conn.stream;
    this.link = conn.link;
    this.miniHeader = conn.miniHeader;
    this.log = conn.log;
    this.decoder = new FrameDecoder(conn.miniHeader, options.maxMessageSize);
    this.stream.onData((chunk) => this.onData(chunk));
    this.stream.onClose((err) => this.onTransportClosed(err));
    this.lastDrain = this.lastAck = options.clock.now();
    const stallCheckMs = Math.max(1000, options.stallTimeoutMs / 4);
    this.stallTimer = options.clock.interval(() => this.checkStall(), stallCheckMs).unref();
    for (const chunk of conn.leftover) this.onData(chunk);
  }

  get channelType(): number {
    return this.link.channelType;
  }

  get channelId(): number {
    return this.link.channelId;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  hasChannelCap(cap: number): boolean {
    return hasCap(this.link.channelCaps, cap);
  }

  /**
   * Send as one of the channel's many viewers: push in the channel's send rounds instead of on
   * this client's own (`rounds`), and write flushes that are the same messages as another viewer's
   * from the bytes laid out for that one (`flushes`).
   */
  sendWith(shared: { flushes?: SharedFlushes | undefined; rounds?: SendRounds | undefined }): void {
    this.sharedFlushes = shared.flushes;
    this.rounds = shared.rounds;
  }

  /** Called once the client is registered with its channel: send the initial messages. */
  abstract start(): void;

  /** Decode and handle one channel-specific message; throw ProtocolError for unknown types. */
  protected abstract handleMessage(type: number, body: Buffer): void;

  /** Hook for PONG (main channel measures round trips). */
  protected onPong(_id: number, _timestamp: bigint): void {}

  /**
   * `handler` once the client has closed. A client can close before everyone has subscribed: the
   * bytes that came with its link are handled in its constructor, and a malformed one closes it
   * there. A late handler is called at once with the reason, or the channel would keep the client
   * and the session would never end (the fuzzer found hundreds of such sessions a minute).
   */
  onClose(handler: (reason: string) => void): void {
    if (this.closeReason !== undefined) handler(this.closeReason);
    else this.closeHandlers.push(handler);
  }

  /** Queue an item and make sure the pipe is pushed soon (items added in one tick go together). */
  push(item: PipeItem): void {
    if (this.closed || this.overQueueLimit()) return;
    this.pipe.push(item);
    this.schedulePush();
  }

  pushMessage(m: OutMessage): void {
    this.push(messageItem(m));
  }

  /** Queue behind everything else (see Pipe): the item leaves when nothing else waits. */
  pushBackground(item: PipeItem): void {
    if (this.closed || this.overQueueLimit()) return;
    this.pipe.pushBackground(item);
    this.schedulePush();
  }

  pushUrgent(item: PipeItem): void {
    if (this.closed || this.overQueueLimit()) return;
    this.pipe.pushUrgent(item);
    this.schedulePush();
  }

  /** Items this client's pipe may hold (subclasses with a bound of their own lift it). */
  protected get queueLimit(): number {
    return this.options.maxQueuedItems;
  }

  /**
   * A peer that keeps asking (each ATTACH_CHANNELS, each fourth motion gets an answer) but never
   * reads would grow the pipe for as long as the stall timeout lets it, at the speed it can send.
   */
  private overQueueLimit(): boolean {
    if (this.pipe.length < this.queueLimit) return false;
    this.fail(`client does not read: ${this.pipe.length} messages queued`);
    return true;
  }

  /** Turn on ACK-window flow control (display and cursor channels, like spice-server). */
  protected startAckWindow(window: number): void {
    const { generation } = this.ack.reset(window);
    // The client counts messages from the SET_ACK on, and so does the estimate.
    const item = messageItem(encodeSetAck(generation, window));
    this.pushUrgent({ ...item, sent: () => this.linkEstimate.ackReset(window) });
  }

  protected schedulePush(): void {
    if (this.pushScheduled || this.closed) return;
    this.pushScheduled = true;
    if (this.rounds) this.rounds.schedule(this);
    else setImmediate(() => this.runRound());
  }

  /** The scheduled push (a send round, or this client's own turn of the event loop). */
  runRound(): void {
    this.pushScheduled = false;
    this.pushNow();
  }

  /**
   * Drain the pipe while the client keeps up, then flush. The messages of one drain are gathered
   * first and written together (commitFlush), so that a flush that is the same messages as another
   * viewer's goes out as the bytes laid out for that one. An item that fails to marshal ends this
   * client only (the fatal path), never the process.
   */
  private pushNow(): void {
    if (this.closed) return;
    try {
      let congested = false;
      const allowance = this.pipe.length > 0 ? this.sendAllowance() : undefined;
      let held = false;
      while (this.pipe.length > 0) {
        if (this.ack.blocked) break; // resumes on ACK
        if (this.stream.buffered + this.flushBytes > HIGH_WATER) {
          congested = true;
          break;
        }
        if (allowance && this.flushBytes >= allowance.bytes) {
          held = true;
          break;
        }
        const pending = this.pipe.peek()?.pending;
        if (pending) {
          this.resumeWhenReady(pending);
          break;
        }
        const item = this.pipe.shift();
        if (item) this.gather(item);
        // Large messages leave as they are made, so that the viewer has them while the next are encoded.
        if (this.flushBytes >= this.flushSplitBytes) {
          this.commitFlush();
          this.stream.flush();
        }
      }
      this.commitFlush();
      if (congested) this.resumeWhenWritable();
      if (held) this.resumeAfter(allowance!.retryMs);
      this.stream.flush();
      this.onPipeDrained();
    } catch (err) {
      this.flushMessages = [];
      this.flushBytes = 0;
      this.unreported.length = 0;
      this.fail(`error sending to the client: ${errorMessage(err)}`);
    }
  }

  /** One waiter at a time: pushes that find the stream congested again add none. */
  private resumeWhenWritable(): void {
    if (this.awaitingWritable) return;
    this.awaitingWritable = true;
    this.stream.whenWritable(() => {
      this.awaitingWritable = false;
      this.schedulePush();
    });
  }

  /**
   * Hook: how many bytes this push may hand to the stream (at least one item goes while it is
   * positive), and in how many ms to push again when it held items back; undefined: no bound but
   * the stream's own. The display channel bounds what waits in the kernel on a slow link.
   */
  protected sendAllowance(): { bytes: number; retryMs: number } | undefined {
    return undefined;
  }

  /**
   * Hook: a flush this big is handed to the stream before the next item is marshalled (each is then
   * its own write unit: one WebSocket message, one writev). The display channel splits after each
   * band of a large image; by default a push is one flush.
   */
  protected get flushSplitBytes(): number {
    return Infinity;
  }

  /** Push again in `ms` (one timer; a push that comes sooner for another reason finds it set). */
  private resumeAfter(ms: number): void {
    if (this.linkWait) return;
    this.linkWait = setTimeout(() => {
      this.linkWait = undefined;
      this.schedulePush();
    }, ms);
    this.linkWait.unref();
  }

  /**
   * What probably still waits to leave, without asking the kernel: the last reading, plus what was
   * written since, less what the link carried meanwhile at its estimated bandwidth. A guess that
   * says "little" saves a TCP_INFO read per push (viewers on fast links are almost always there).
   */
  protected guessWaitingBytes(): number {
    const r = this.lastReading;
    const carried = ((performance.now() - r.at) * this.linkEstimate.bandwidth) / 1000;
    return Math.max(0, r.waiting + this.written - r.written - carried);
  }

  /**
   * Whether a kernel reading could find bytes waiting now: the guess says some may, or the last
   * reading is `staleMs` old (the guess drains at the estimated bandwidth, which only readings
   * correct, so a link slower than its estimate is still looked at that often).
   */
  protected worthReading(staleMs: number): boolean {
    return this.guessWaitingBytes() > 0 || performance.now() - this.lastReading.at >= staleMs;
  }

  /** The item at the head of the pipe is being made: push again once it is (one waiter per item). */
  private resumeWhenReady(pending: Promise<void>): void {
    if (this.awaitingItem === pending) return;
    this.awaitingItem = pending;
    const resume = (): void => {
      if (this.awaitingItem === pending) this.awaitingItem = undefined;
      this.schedulePush();
    };
    pending.then(resume, resume);
  }

  /** Hook: the pipe push loop has stopped (empty, blocked or congested). */
  protected onPipeDrained(): void {}

  /**
   * An item's messages join the flush being gathered; the ACK window counts them now, the link
   * estimate when the flush is written (or before an item's `sent`, which may restart its count).
   */
  private gather(item: PipeItem): void {
    const out = item.marshal();
    if (Array.isArray(out)) for (const m of out as readonly OutMessage[]) this.gatherMessage(m);
    else this.gatherMessage(out as OutMessage);
    if (item.sent) {
      this.reportSent();
      item.sent();
    }
  }

  private gatherMessage(m: OutMessage): void {
    const body = messageSize(m);
    this.flushMessages.push(m);
    this.flushBytes += MINI_HEADER_SIZE + body;
    this.ack.onSent();
    this.unreported.push(headerSize(this.miniHeader) + body);
  }

  /** Tell the link estimate of the messages gathered since it was last told. */
  private reportSent(): void {
    if (this.unreported.length === 0) return;
    this.linkEstimate.messagesSent(this.unreported);
    this.unreported.length = 0;
  }

  /**
   * Hand the gathered messages to the stream: as the bytes another viewer's identical flush was
   * laid out in, where the channel shares flushes, the link has mini headers (no serial: the same
   * messages are the same bytes) and the stream takes a flush as one unit; otherwise one by one.
   */
  private commitFlush(): void {
    this.reportSent();
    const messages = this.flushMessages;
    if (messages.length === 0) return;
    const bytes = this.flushBytes;
    this.written += bytes;
    this.flushMessages = [];
    this.flushBytes = 0;
    const shared =
      this.sharedFlushes && this.miniHeader && this.stream.takesLaidOutFlushes
        ? this.sharedFlushes.lookup(messages, bytes)
        : undefined;
    if (shared) {
      this.serial += BigInt(messages.length);
      this.stream.writeLaidOut(shared.bytes, messages.length, shared.iovecs);
    } else {
      for (const m of messages) this.writeMessage(m);
    }
  }

  private writeMessage(m: OutMessage): void {
    this.serial++;
    const header = encodeDataHeader(this.miniHeader, m.type, messageSize(m), this.serial);
    this.stream.writeMessage([header, ...m.parts]);
  }

  /**
   * Bytes written for this client that still wait to leave (ours, and the kernel's beyond what the
   * path holds), reading the kernel's counters now and feeding them to the estimate.
   */
  waitingBytes(): number {
    const tcp = this.stream.tcpInfo();
    this.kernelReadings++;
    const view = tcp && {
      acked: tcp.bytesAcked,
      unsent: tcp.notsentBytes,
      // The kernel's own count: byte counters (sent - retransmitted - acknowledged) kept a constant
      // residue after loss recovery on a shaped link (350 kB that never drained). Segments times the
      // MSS is only a bound: on loopback (MSS 64 KiB) one small segment in flight counted as 64 KiB
      // waiting and held fast viewers' draws back; the bytes sent and not acknowledged bound it too.
      inFlight: Math.min(tcp.packetsInFlight * tcp.sndMss, Math.max(0, tcp.bytesSent - tcp.bytesAcked)),
      inFlightSegments: tcp.packetsInFlight,
      retransmitted: tcp.bytesRetrans,
      rttMs: tcp.rttUs / 1000,
      minRttMs: tcp.minRttUs / 1000,
    };
    if (view) this.linkEstimate.kernel(view);
    const waiting = this.linkEstimate.waitingBytes(this.stream.buffered, view);
    this.lastReading = { waiting, written: this.written, at: performance.now() };
    return waiting;
  }

  /** True when nothing is waiting to be sent to this client (pipe and stream both empty). */
  get idle(): boolean {
    return this.pipe.length === 0 && this.stream.buffered === 0;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.decoder.push(chunk);
    try {
      for (let frame = this.decoder.next(); frame; frame = this.decoder.next()) {
        this.received++;
        this.dispatch(frame.type, frame.body);
        if (this.closed) return;
      }
    } catch (err) {
      this.fail(
        err instanceof ProtocolError ? `${err.code}: ${err.message}` : `error handling message: ${errorMessage(err)}`,
      );
    }
  }

  private dispatch(type: number, body: Buffer): void {
    const common = decodeCommonClientMessage(type, body);
    if (common) this.handleCommon(common);
    else this.handleMessage(type, body);
  }

  private handleCommon(m: CommonClientMessage): void {
    switch (m.kind) {
      case 'ackSync':
        this.ack.onAckSync(m.generation);
        return;
      case 'ack':
        // Progress for the ACK window only: a client can send ACKs without reading, so they do
        // not count as its socket draining.
        this.lastAck = this.options.clock.now();
        if (this.ack.synced) this.linkEstimate.acked();
        if (this.ack.onAck()) this.schedulePush();
        return;
      case 'pong':
        this.onPong(m.id, m.timestamp);
        return;
      case 'disconnecting':
        this.close(`client is disconnecting (reason ${m.reason})`);
        return;
      case 'migrateFlushMark':
      case 'migrateData':
        this.log.debug(`ignoring ${m.kind}: spiced does not migrate`);
        return;
    }
  }

  /**
   * Two ways a client stops taking what it is sent, each closed after `stallTimeoutMs`:
   * its socket holds unsent bytes (ours or the kernel's) and none of them drain, whatever it sends;
   * or nothing is unsent but the pipe waits on an ACK that does not come.
   */
  private checkStall(): void {
    if (this.closed) return;
    const now = this.options.clock.now();
    const tcp = this.stream.tcpInfo();
    // Bytes the peer has not taken: ours, the kernel's unsent ones, and those sent but not
    // acknowledged beyond the one segment a delayed ACK may hold. Without the last, a pipe held
    // back by the send allowance (bytes in flight to a peer that stopped reading, none unsent)
    // looked drained at every check.
    const unacked = tcp && tcp.packetsInFlight > 1 ? Math.max(0, tcp.bytesSent - tcp.bytesAcked) : 0;
    const unsent = this.stream.buffered + (tcp?.notsentBytes ?? 0) + unacked;
    // Bytes the peer acknowledged at TCP level move when it reads; without the kernel's counters,
    // bytes handed to the kernel (it takes more once the peer has read). Not both: a client that
    // holds its draws back while the link is slow (sendAllowance) hands the kernel bytes it had
    // room for all along, which says nothing about the peer.
    const mark = tcp ? tcp.bytesAcked : this.stream.deliveredBytes;
    if (unsent === 0 || mark !== this.lastDrainMark) this.lastDrain = now;
    this.lastDrainMark = mark;
    const ackWait = unsent === 0 && this.pipe.length > 0 && this.ack.blocked;
    if (!ackWait) this.lastAck = now; // the ACK clock runs only while the pipe waits on one
    const limit = this.options.stallTimeoutMs;
    const seconds = (since: number): number => Math.round((now - since) / 1000);
    if (unsent > 0 && now - this.lastDrain > limit) {
      const quiet = seconds(this.lastDrain);
      this.fail(`client stalled: socket not drained, ${unsent} bytes unsent and none taken for ${quiet} s`);
    } else if (ackWait && now - this.lastAck > limit) {
      const quiet = seconds(this.lastAck);
      this.fail(`client stalled: ${this.pipe.length} messages wait for an ACK that has not come for ${quiet} s`);
    }
  }

  /**
   * The one fatal path: log the reason with the peer, tell the client (DISCONNECTING) if it still
   * listens, and tear the connection down. The server and every other client carry on.
   */
  fail(reason: string): void {
    if (this.closed) return;
    this.log.warn(`closing ${channelName(this.channelType)} connection from ${this.stream.peer}: ${reason}`);
    this.pipe.clear();
    this.writeMessage(encodeDisconnecting(BigInt(Date.now()), LinkErr.Error));
    endThenDestroy(this.stream);
    this.finish(reason);
  }

  /** Orderly close (server shutting down, session ending). */
  close(reason: string): void {
    if (this.closed) return;
    this.log.debug(`closing ${channelName(this.channelType)}: ${reason}`);
    this.pipe.clear();
    endThenDestroy(this.stream);
    this.finish(reason);
  }

  private onTransportClosed(err?: Error): void {
    if (this.closed) return;
    const reason = err ? `connection error: ${err.message}` : 'client closed the connection';
    this.log.info(`${channelName(this.channelType)} ${this.stream.peer}: ${reason}`);
    this.pipe.clear();
    this.stream.destroy();
    this.finish(reason);
  }

  private finish(reason: string): void {
    this.closeReason = reason;
    this.stallTimer?.cancel();
    clearTimeout(this.linkWait);
    const handlers = this.closeHandlers;
    this.closeHandlers = [];
    for (const h of handlers) h(reason);
  }
}
