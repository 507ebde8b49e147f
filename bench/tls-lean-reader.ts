/**
 * The TLS bench's lean SPICE reader: a display channel that does per byte what Node's discarding
 * reader does (take the TLS socket's chunks and drop them) plus what any SPICE viewer must do per
 * message (parse its header, answer SET_ACK and PING, ACK every `window` messages). Bodies are
 * skipped where they lie, never gathered: the project's SpiceClient copies every 1 MiB body into
 * a fresh buffer, which made it, not the server, the limit of the bench (see docs/performance.md).
 * The main channel is the project's SpiceClient (it only hands out the session id).
 */
import tls from 'node:tls';
import { SpiceClient } from '../src/client/client.js';
import { ClientLink } from '../src/client/link.js';
import { encodeAck, encodeAckSync, encodePong } from '../src/protocol/common.js';
import { ChannelType, CommonMsg, DisplayCap, DisplayMsg } from '../src/protocol/constants.js';
import { encodeDisplayInit } from '../src/protocol/display.js';
import { encodeDataHeader } from '../src/protocol/header.js';
import { messageSize, type OutMessage } from '../src/protocol/message.js';

const MINI_HEADER = 6;
const FULL_HEADER = 18;
/** Bodies of common messages (SET_ACK, PING, ...) are read; display messages start at 101. */
const FIRST_CHANNEL_MESSAGE = 101;

export interface LeanReaderOptions {
  port: number;
  ca: string;
  /** Called after each chunk with the SPICE bytes (headers and bodies) received so far. */
  onBytes: (total: number) => void;
}

/** Where the parser is: in a header, in a common message's body, or skipping a body. */
interface ParseState {
  header: Buffer;
  headerFill: number;
  type: number;
  /** Bytes of the current body still to come. */
  bodyLeft: number;
  /** A common message's body, gathered (small); undefined while skipping a display body. */
  body: Buffer | undefined;
  bodyFill: number;
}

export class LeanDisplayReader {
  /** SPICE bytes received after the link (headers included), like ClientChannel.stats.bytes. */
  bytes = 0;
  /** The first MARK arrived: the initial screen is complete. */
  marked = false;
  socket: tls.TLSSocket | undefined;
  private main: SpiceClient | undefined;
  private mini = true;
  private serial = 0n;
  private ackWindow = 0;
  private ackCountdown = 0;
  private readonly state: ParseState = {
    header: Buffer.alloc(FULL_HEADER),
    headerFill: 0,
    type: 0,
    bodyLeft: 0,
    body: undefined,
    bodyFill: 0,
  };

  constructor(private readonly options: LeanReaderOptions) {}

  /** Link main (SpiceClient) and display (this reader); resolves once the display link is done. */
  async connect(): Promise<void> {
    this.main = new SpiceClient({ port: this.options.port, tls: { ca: this.options.ca }, channels: [] });
    await this.main.connect();
    const sessionId = this.main.init!.sessionId;
    const socket = await this.open();
    this.socket = socket;
    const leftover = await this.link(socket, sessionId);
    this.send(
      encodeDisplayInit({ pixmapCacheId: 1, pixmapCacheSize: 20_971_520n, glzDictionaryId: 0, glzWindowSize: 0 }),
    );
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    for (const c of leftover) this.receive(c);
  }

  close(): void {
    this.socket?.destroy();
    this.main?.close();
  }

  private open(): Promise<tls.TLSSocket> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: this.options.port, ca: this.options.ca }, () => resolve(s));
      s.once('error', reject);
    });
  }

  private link(socket: tls.TLSSocket, sessionId: number): Promise<Buffer[]> {
    return new Promise((resolve, reject) => {
      const params = {
        connectionId: sessionId,
        channelType: ChannelType.Display,
        channelId: 0,
        channelCaps: [DisplayCap.MonitorsConfig],
        password: '',
      };
      const link = new ClientLink(params, (b) => socket.write(b));
      const onData = (chunk: Buffer): void => {
        try {
          const done = link.receive(chunk);
          if (!done) return;
          socket.off('data', onData);
          this.mini = done.miniHeader;
          resolve(done.leftover);
        } catch (err) {
          reject(err);
        }
      };
      socket.on('data', onData);
      link.begin();
    });
  }

  private send(m: OutMessage): void {
    this.socket!.cork();
    this.socket!.write(encodeDataHeader(this.mini, m.type, messageSize(m), ++this.serial));
    for (const p of m.parts) this.socket!.write(p);
    this.socket!.uncork();
  }

  private receive(chunk: Buffer): void {
    this.bytes += chunk.length;
    let i = 0;
    while (i < chunk.length) i = this.state.bodyLeft > 0 ? this.bodyBytes(chunk, i) : this.headerBytes(chunk, i);
    this.options.onBytes(this.bytes);
  }

  /** Consume header bytes from `chunk` at `i`; returns the new offset. */
  private headerBytes(chunk: Buffer, i: number): number {
    const s = this.state;
    const size = this.mini ? MINI_HEADER : FULL_HEADER;
    const k = Math.min(size - s.headerFill, chunk.length - i);
    chunk.copy(s.header, s.headerFill, i, i + k);
    s.headerFill += k;
    if (s.headerFill < size) return i + k;
    s.headerFill = 0;
    s.type = s.header.readUInt16LE(this.mini ? 0 : 8);
    s.bodyLeft = s.header.readUInt32LE(this.mini ? 2 : 10);
    s.body = s.type < FIRST_CHANNEL_MESSAGE ? Buffer.alloc(s.bodyLeft) : undefined;
    s.bodyFill = 0;
    if (s.bodyLeft === 0) this.messageDone();
    return i + k;
  }

  /** Skip (display) or gather (common) body bytes; returns the new offset. */
  private bodyBytes(chunk: Buffer, i: number): number {
    const s = this.state;
    const k = Math.min(s.bodyLeft, chunk.length - i);
    if (s.body) chunk.copy(s.body, s.bodyFill, i, i + k);
    s.bodyFill += k;
    s.bodyLeft -= k;
    if (s.bodyLeft === 0) this.messageDone();
    return i + k;
  }

  /** A whole message is in: answer what spice-gtk answers, count it for the ACK window. */
  private messageDone(): void {
    const s = this.state;
    const body = s.body;
    s.body = undefined;
    if (s.type === DisplayMsg.Mark) this.marked = true;
    this.countForAck();
    if (s.type === CommonMsg.SetAck && body) {
      this.send(encodeAckSync(body.readUInt32LE(0)));
      this.ackWindow = body.readUInt32LE(4);
      this.ackCountdown = this.ackWindow;
    } else if (s.type === CommonMsg.Ping && body) {
      this.send(encodePong(body.readUInt32LE(0), body.readBigUInt64LE(4)));
    }
  }

  private countForAck(): void {
    if (this.ackWindow === 0) return;
    if (--this.ackCountdown === 0) {
      this.send(encodeAck());
      this.ackCountdown = this.ackWindow;
    }
  }
}
