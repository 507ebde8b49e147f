import { AudioDataMode } from '../protocol/constants.js';
import type { PlaybackServerMessage } from '../protocol/playback.js';

/** How far ahead of the output the first packet is scheduled when the server names no latency. */
const DEFAULT_LATENCY_MS = 60;
/** Queued sound beyond the target latency plus this is dropped (the page was throttled, a clock drifted). */
const MAX_BACKLOG_MS = 250;

/** True when this browser decodes Opus itself (WebCodecs); otherwise the page asks for raw PCM. */
export async function opusDecodable(): Promise<boolean> {
  if (typeof AudioDecoder === 'undefined') return false;
  try {
    return (
      (await AudioDecoder.isConfigSupported({ codec: 'opus', sampleRate: 48_000, numberOfChannels: 2 })).supported ===
      true
    );
  } catch (err) {
    console.warn('spiced viewer: Opus support check failed, using PCM', err);
    return false;
  }
}

/**
 * The playback channel to the speakers: Opus decoded by WebCodecs' AudioDecoder (raw 16-bit PCM
 * where the browser has none), each packet scheduled on a WebAudio clock right after the previous
 * one, the first one the stream's latency ahead. Output passes a gain (mute, the server's volume)
 * and an analyser (the level shown, and what tests listen to).
 */
export class AudioPlayer {
  private ctx: AudioContext | undefined;
  private gain: GainNode | undefined;
  /** The last node before the speakers; tests read the played spectrum from it. */
  analyser: AnalyserNode | undefined;
  private decoder: AudioDecoder | undefined;
  private mode: number = AudioDataMode.Raw;
  private channels = 2;
  private rate = 48_000;
  private nextTime = 0;
  private latencyMs = DEFAULT_LATENCY_MS;
  private serverVolume = 1;
  private serverMuted = false;
  private userMuted = false;
  /** Packets played and dropped (late or over the backlog), for the overlay. */
  played = 0;
  dropped = 0;

  /** What the server sends: 'opus' or 'pcm'. */
  get codec(): 'opus' | 'pcm' {
    return this.mode === AudioDataMode.Opus ? 'opus' : 'pcm';
  }

  get muted(): boolean {
    return this.userMuted;
  }

  setMuted(muted: boolean): void {
    this.userMuted = muted;
    this.applyGain();
  }

  /** Browsers start audio only after a gesture: call from a click or key handler. */
  resume(): void {
    if (this.ctx?.state === 'suspended') void this.ctx.resume();
  }

  get suspended(): boolean {
    return this.ctx?.state === 'suspended';
  }

  handle(m: PlaybackServerMessage): void {
    switch (m.kind) {
      case 'mode':
        this.mode = m.mode;
        return;
      case 'start':
        return this.start(m.channels, m.frequency);
      case 'data':
        return this.data(m.time, m.data);
      case 'stop':
        this.nextTime = 0;
        return;
      case 'volume':
        this.serverVolume = m.volumes.length ? m.volumes.reduce((a, b) => a + b, 0) / m.volumes.length / 65535 : 1;
        return this.applyGain();
      case 'mute':
        this.serverMuted = m.mute;
        return this.applyGain();
      case 'latency':
        this.latencyMs = Math.min(Math.max(m.latencyMs, 10), 1000);
        return;
    }
  }

  close(): void {
    if (this.decoder?.state === 'configured') this.decoder.close();
    this.decoder = undefined;
    void this.ctx?.close();
    this.ctx = undefined;
  }

  private start(channels: number, rate: number): void {
    this.channels = channels;
    this.rate = rate;
    this.nextTime = 0;
    if (!this.ctx || this.ctx.sampleRate !== rate) this.openOutput(rate);
    if (this.mode === AudioDataMode.Opus) this.openDecoder();
  }

  private openOutput(rate: number): void {
    void this.ctx?.close();
    const ctx = new AudioContext({ sampleRate: rate, latencyHint: 'interactive' });
    this.gain = ctx.createGain();
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = 8192;
    this.gain.connect(this.analyser).connect(ctx.destination);
    this.ctx = ctx;
    this.applyGain();
  }

  private openDecoder(): void {
    if (this.decoder?.state === 'configured') this.decoder.close();
    const decoder = new AudioDecoder({
      output: (data) => this.decoded(data),
      error: (err) => console.error('spiced viewer: Opus decoder', err),
    });
    decoder.configure({ codec: 'opus', sampleRate: this.rate, numberOfChannels: this.channels });
    this.decoder = decoder;
  }

  private data(time: number, data: Buffer): void {
    if (this.mode === AudioDataMode.Opus) {
      if (this.decoder?.state !== 'configured') return;
      this.decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp: time * 1000, data }));
      return;
    }
    // Raw: interleaved signed 16-bit little-endian.
    const frames = Math.floor(data.length / (2 * this.channels));
    const planes = Array.from({ length: this.channels }, () => new Float32Array(frames));
    for (let i = 0; i < frames; i++) {
      for (let c = 0; c < this.channels; c++) planes[c]![i] = data.readInt16LE(2 * (i * this.channels + c)) / 32768;
    }
    this.play(planes);
  }

  private decoded(data: AudioData): void {
    const planes = Array.from({ length: data.numberOfChannels }, (_, c) => {
      const plane = new Float32Array(data.numberOfFrames);
      data.copyTo(plane, { planeIndex: c, format: 'f32-planar' });
      return plane;
    });
    data.close();
    this.play(planes);
  }

  private play(planes: Float32Array[]): void {
    const ctx = this.ctx;
    if (!ctx || planes.length === 0 || planes[0]!.length === 0) return;
    const now = ctx.currentTime;
    const latency = this.latencyMs / 1000;
    // Late (an underrun) or first: start again the latency ahead. Too far ahead: drop.
    if (this.nextTime < now + 0.005) this.nextTime = now + latency;
    else if (this.nextTime > now + latency + MAX_BACKLOG_MS / 1000) {
      this.dropped++;
      return;
    }
    const buffer = ctx.createBuffer(planes.length, planes[0]!.length, ctx.sampleRate);
    planes.forEach((p, c) => buffer.copyToChannel(p as Float32Array<ArrayBuffer>, c));
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.gain!);
    source.start(this.nextTime);
    this.nextTime += buffer.duration;
    this.played++;
  }

  private applyGain(): void {
    if (!this.gain) return;
    this.gain.gain.value = this.userMuted || this.serverMuted ? 0 : this.serverVolume;
  }
}
