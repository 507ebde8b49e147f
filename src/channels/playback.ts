import { Channel } from '../channel-core/channel.js';
import { ChannelClient, type ChannelClientOptions, type ChannelConnection } from '../channel-core/channel-client.js';
import type { PipeItem } from '../channel-core/pipe.js';
import type { Session } from '../channel-core/session.js';
import { OpusEncoder } from '../audio/opus.js';
import { CHANNELS, pcmToS16le, SAMPLE_RATE } from '../audio/pcm.js';
import type { AudioCommand } from '../seam/index.js';
import { unknownMessage } from '../protocol/common.js';
import { AudioDataMode, AudioFormat, ChannelType, PlaybackCap } from '../protocol/constants.js';
import {
  encodePlaybackData,
  encodePlaybackMode,
  encodePlaybackMute,
  encodePlaybackStart,
  encodePlaybackStop,
  encodePlaybackVolume,
} from '../protocol/playback.js';
import type { Logger } from '../util/log.js';

export interface PlaybackContext {
  /** The multimedia clock (ms) the main channel gave viewers: audio is stamped with it. */
  mmTime(): number;
}

/** Frames a lagging viewer may have queued before the oldest are dropped (audio must not lag). */
const MAX_QUEUED_FRAMES = 20;

/**
 * One 10 ms frame as it travels: the Opus packet is encoded once, when the first Opus viewer
 * needs it (all Opus viewers share it); raw viewers get the PCM.
 */
class AudioFrame {
  private opus: Buffer | undefined;

  constructor(
    readonly pcm: Int16Array,
    readonly time: number,
    private readonly encoder: () => OpusEncoder,
  ) {}

  opusPacket(): Buffer {
    this.opus ??= this.encoder().encode(this.pcm);
    return this.opus;
  }
}

/**
 * The playback channel: the desktop's sound for every viewer, Opus (48 kHz stereo, 10 ms packets:
 * the one mode spice-gtk and spice-html5 both play) where the viewer announced OPUS, raw 16-bit
 * PCM otherwise. MODE always precedes START (spice-gtk cannot decode otherwise).
 */
export class PlaybackChannel extends Channel<PlaybackChannelClient> {
  readonly type = ChannelType.Playback;
  private encoder: OpusEncoder | undefined;
  private playing = false;
  private streamStart = 0;
  private frames = 0;
  /** Called when a stream starts (the server re-sends MULTI_MEDIA_TIME to every viewer then). */
  onStreamStart: (() => void) | undefined;
  /** Per-channel volume (0..65535) and mute, sent to viewers that announced VOLUME. */
  volume: number[] = [65535, 65535];
  muted = false;

  constructor(
    log: Logger,
    clientOptions: ChannelClientOptions,
    readonly context: PlaybackContext,
  ) {
    super(log, clientOptions);
  }

  caps(): number[] {
    return [PlaybackCap.Volume, PlaybackCap.Opus];
  }

  protected createClient(conn: ChannelConnection, _session: Session): PlaybackChannelClient {
    return new PlaybackChannelClient(conn, this.clientOptions, this);
  }

  get isPlaying(): boolean {
    return this.playing;
  }

  /**
   * The time of the stream's next frame: frame times advance by exactly 10 ms. When the source
   * stalled (its frames fell more than 100 ms behind the multimedia clock) the count restarts from
   * now; it never moves back, because spice-gtk warns about and spice-html5 mistimes frames whose
   * time goes backwards. START carries this time too.
   */
  nextFrameTime(): number {
    const t = (this.streamStart + 10 * this.frames) >>> 0;
    const now = this.context.mmTime();
    if ((now - t) << 0 > 100) {
      this.streamStart = now;
      this.frames = 0;
      return now >>> 0;
    }
    return t;
  }

  private opusEncoder = (): OpusEncoder => {
    this.encoder ??= new OpusEncoder();
    return this.encoder;
  };

  audio(cmd: AudioCommand): void {
    switch (cmd.kind) {
      case 'audioStart':
        if (this.playing) return;
        this.playing = true;
        this.streamStart = this.context.mmTime();
        this.frames = 0;
        for (const c of this.clients) c.startStream();
        this.onStreamStart?.();
        return;
      case 'audioFrame': {
        if (!this.playing) this.audio({ kind: 'audioStart' });
        const frame = new AudioFrame(cmd.pcm, this.nextFrameTime(), this.opusEncoder);
        this.frames++;
        for (const c of this.clients) c.frame(frame);
        return;
      }
      case 'audioStop':
        if (!this.playing) return;
        this.playing = false;
        for (const c of this.clients) c.stop();
        return;
    }
  }

  setVolume(volume: number[], muted: boolean): void {
    this.volume = volume;
    this.muted = muted;
    for (const c of this.clients) c.sendVolume();
  }

  close(): void {
    this.encoder?.close();
    this.encoder = undefined;
  }
}

export class PlaybackChannelClient extends ChannelClient {
  private readonly opus: boolean;
  private dataItems = 0;
  /** Frames dropped because this viewer fell behind. */
  droppedFrames = 0;

  constructor(
    conn: ChannelConnection,
    options: ChannelClientOptions,
    private readonly channel: PlaybackChannel,
  ) {
    super(conn, options);
    this.opus = this.hasChannelCap(PlaybackCap.Opus);
  }

  get mode(): 'opus' | 'raw' {
    return this.opus ? 'opus' : 'raw';
  }

  /** A new viewer: MODE first, then START if sound is playing now. */
  override start(): void {
    this.pushMessage(
      encodePlaybackMode(this.channel.context.mmTime(), this.opus ? AudioDataMode.Opus : AudioDataMode.Raw),
    );
    this.sendVolume();
    if (this.channel.isPlaying) this.begin();
  }

  private begin(): void {
    this.pushMessage(encodePlaybackStart(CHANNELS, AudioFormat.S16, SAMPLE_RATE, this.channel.nextFrameTime()));
  }

  /** Called by the channel when a stream starts (the viewer already had MODE). */
  startStream(): void {
    this.begin();
  }

  sendVolume(): void {
    if (!this.hasChannelCap(PlaybackCap.Volume)) return;
    this.pushMessage(encodePlaybackVolume(this.channel.volume));
    this.pushMessage(encodePlaybackMute(this.channel.muted));
  }

  frame(f: { pcm: Int16Array; time: number; opusPacket(): Buffer }): void {
    const item: AudioItem = {
      audio: true,
      weight: f.pcm.length * 2,
      marshal: () => encodePlaybackData(f.time, this.opus ? f.opusPacket() : pcmToS16le(f.pcm)),
      sent: () => this.dataItems--,
    };
    this.dataItems++;
    this.push(item);
  }

  /**
   * The push loop stopped with frames still queued beyond the limit: the viewer does not keep up
   * (its stream is congested or it does not acknowledge). Audio that arrives late is worse than a
   * gap, so the oldest frames go. Judged here, after a send attempt, not when frames arrive: a
   * source catching up after a stalled event loop hands over many frames at once, and they leave.
   */
  protected override onPipeDrained(): void {
    while (this.dataItems > MAX_QUEUED_FRAMES && this.pipe.extractFirst((it) => (it as AudioItem).audio === true)) {
      this.dataItems--;
      this.droppedFrames++;
    }
  }

  stop(): void {
    this.pushMessage(encodePlaybackStop());
  }

  protected handleMessage(type: number, body: Buffer): void {
    // Playback has no client messages beyond the common ones.
    throw unknownMessage('playback', type, body.length);
  }
}

interface AudioItem extends PipeItem {
  readonly audio: true;
}
