/**
 * A lightweight viewer for benches with hundreds of viewers: it links main, display and cursor,
 * answers SET_ACK, ACK windows and PINGs exactly as spice-gtk does (ClientChannel), and reads every
 * message without decoding images, so one process can hold a hundred of them. It counts MARKs
 * (a whole frame has arrived) and hands display messages of interest to a callback.
 */
import net from 'node:net';
import { ClientChannel } from '../src/client/channel.js';
import { ChannelType, DisplayCap, DisplayMsg, MainCap } from '../src/protocol/constants.js';
import { encodeDisplayInit } from '../src/protocol/display.js';
import { decodeMainServerMessage, encodeAttachChannels, type ChannelId } from '../src/protocol/main.js';

export class LightViewer {
  marks = 0;
  displayBytes = 0;
  private readonly channels: ClientChannel[] = [];
  /** Called with every display message that is not MARK (e.g. to watch for a marker draw). */
  onDisplay: ((type: number, body: Buffer) => void) | undefined;

  constructor(
    readonly port: number,
    readonly host = '127.0.0.1',
  ) {}

  get displayChannel(): ClientChannel | undefined {
    return this.channels.find((c) => c.params.channelType === ChannelType.Display);
  }

  private async open(
    channelType: number,
    connectionId: number,
    channelCaps: number[],
    onMessage: (ch: ClientChannel, type: number, body: Buffer) => void,
  ): Promise<ClientChannel> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: this.host, port: this.port, noDelay: true }, () => resolve(s));
      s.once('error', reject);
    });
    const ch = new ClientChannel(socket, { connectionId, channelType, channelId: 0, channelCaps, password: '' });
    ch.on('message', (type, body) => onMessage(ch, type, body));
    this.channels.push(ch);
    await ch.linked;
    return ch;
  }

  /** Link main, then display and cursor; resolves once they are linked (the first frame comes after). */
  async connect(): Promise<void> {
    let listed!: (c: { sessionId: number; channels: ChannelId[] }) => void;
    const ready = new Promise<{ sessionId: number; channels: ChannelId[] }>((resolve) => (listed = resolve));
    let sessionId = 0;
    await this.open(ChannelType.Main, 0, [MainCap.NameAndUuid], (main, type, body) => {
      const m = decodeMainServerMessage(type, body);
      if (m?.kind === 'init') {
        sessionId = m.sessionId;
        main.send(encodeAttachChannels());
      } else if (m?.kind === 'channelsList') {
        listed({ sessionId, channels: m.channels });
      }
    });
    const { channels } = await ready;
    const has = (t: number): boolean => channels.some((c) => c.type === t && c.id === 0);
    const display = has(ChannelType.Display)
      ? this.open(ChannelType.Display, sessionId, [DisplayCap.MonitorsConfig], (_c, type, body) =>
          this.display(type, body),
        )
      : undefined;
    const cursor = has(ChannelType.Cursor) ? this.open(ChannelType.Cursor, sessionId, [], () => {}) : undefined;
    const d = await display;
    d?.send(
      encodeDisplayInit({ pixmapCacheId: 1, pixmapCacheSize: 20_971_520n, glzDictionaryId: 0, glzWindowSize: 0 }),
    );
    await cursor;
  }

  private display(type: number, body: Buffer): void {
    this.displayBytes += body.length;
    if (type === DisplayMsg.Mark) this.marks++;
    else this.onDisplay?.(type, body);
  }

  /** Resolves once a whole frame has arrived (polls: hundreds of viewers wait at once). */
  async firstFrame(timeoutMs = 30_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.marks === 0) {
      if (performance.now() > deadline) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  close(): void {
    for (const ch of this.channels) ch.close();
  }
}
