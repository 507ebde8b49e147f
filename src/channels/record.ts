import { Channel } from '../channel-core/channel.js';
import { ChannelClient, type ChannelClientOptions, type ChannelConnection } from '../channel-core/channel-client.js';
import type { Session } from '../channel-core/session.js';
import { OpusDecoder } from '../audio/opus.js';
import { CHANNELS, s16leToPcm, SAMPLE_RATE } from '../audio/pcm.js';
import type { WavWriter } from '../audio/wav.js';
import { unknownMessage } from '../protocol/common.js';
import { AudioDataMode, AudioFormat, ChannelType, RecordCap } from '../protocol/constants.js';
import { decodeRecordClientMessage, encodeRecordStart } from '../protocol/playback.js';
import type { Logger } from '../util/log.js';

/**
 * Microphone bytes that may wait for the file (about 20 s of 48 kHz stereo). A viewer may send DATA
 * as fast as its link allows, and a slow or stalled disk would otherwise keep all of it in memory.
 */
const MAX_UNWRITTEN_BYTES = 4 << 20;

/**
 * The record channel: the viewer's microphone. Offered only when there is somewhere to put the
 * sound (`--mic-out FILE`): on link the server asks the viewer to START capturing 48 kHz stereo,
 * and every DATA packet (Opus or raw PCM, as the viewer's MODE says) is written to the WAV file.
 */
export class RecordChannel extends Channel<RecordChannelClient> {
  readonly type = ChannelType.Record;
  /** Samples (per channel) written so far. */
  frames = 0;

  constructor(
    log: Logger,
    clientOptions: ChannelClientOptions,
    readonly out: WavWriter,
  ) {
    super(log, clientOptions);
  }

  caps(): number[] {
    return [RecordCap.Opus, RecordCap.Volume];
  }

  protected createClient(conn: ChannelConnection, session: Session): RecordChannelClient {
    return new RecordChannelClient(conn, this.clientOptions, this, session.mayControl);
  }

  write(pcm: Int16Array): void {
    this.out.write(pcm);
    this.frames += pcm.length / CHANNELS;
  }
}

export class RecordChannelClient extends ChannelClient {
  private mode: number = AudioDataMode.Invalid;
  private opusDecoder: OpusDecoder | undefined;
  /** DATA packets received. */
  packets = 0;

  constructor(
    conn: ChannelConnection,
    options: ChannelClientOptions,
    private readonly channel: RecordChannel,
    /** False for a view-only viewer: its microphone is never started and its data is dropped. */
    private readonly mayRecord: boolean,
  ) {
    super(conn, options);
    this.onClose(() => this.opusDecoder?.close());
  }

  start(): void {
    if (this.mayRecord) this.pushMessage(encodeRecordStart(CHANNELS, AudioFormat.S16, SAMPLE_RATE));
  }

  protected handleMessage(type: number, body: Buffer): void {
    const m = decodeRecordClientMessage(type, body);
    if (!m) throw unknownMessage('record', type, body.length);
    switch (m.kind) {
      case 'mode':
        if (m.mode !== AudioDataMode.Opus && m.mode !== AudioDataMode.Raw)
          throw new Error(`unsupported record mode ${m.mode}`);
        this.mode = m.mode;
        return;
      case 'startMark':
        return;
      case 'data': {
        this.packets++;
        if (!this.mayRecord) return;
        const waiting = this.channel.out.pendingBytes;
        if (waiting > MAX_UNWRITTEN_BYTES) {
          return this.fail(
            `microphone data comes faster than the file takes it: ${Math.round(waiting / 1024)} KiB not yet written`,
          );
        }
        this.channel.write(this.decode(m.data));
        return;
      }
    }
  }

  private decode(data: Buffer): Int16Array {
    if (this.mode === AudioDataMode.Opus) {
      this.opusDecoder ??= new OpusDecoder();
      return this.opusDecoder.decode(data);
    }
    if (this.mode === AudioDataMode.Raw) return s16leToPcm(data);
    throw new Error('record DATA before MODE');
  }
}
