import { AudioDataMode } from '../protocol/constants.js';
import { encodeRecordClientMessage, type RecordClientMessage } from '../protocol/playback.js';
import type { OutMessage } from '../protocol/message.js';

/** Samples per packet sent (per channel): 20 ms at 48 kHz would be 960; ScriptProcessor wants a power of two. */
const BLOCK = 1024;

/**
 * The microphone to the record channel, on request: getUserMedia (the browser asks the person),
 * captured at the rate the server's RECORD_START names and sent as raw 16-bit stereo PCM.
 * ScriptProcessorNode rather than an AudioWorklet: it needs no module of its own to load.
 */
export class Microphone {
  private stream: MediaStream | undefined;
  private ctx: AudioContext | undefined;
  private started = performance.now();
  /** Packets sent, for the tests and the overlay. */
  packets = 0;

  constructor(private readonly send: (m: OutMessage) => void) {}

  get active(): boolean {
    return this.stream !== undefined;
  }

  /** RECORD_START: capture `channels` at `rate` and send it. */
  async start(channels: number, rate: number): Promise<void> {
    this.stop();
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: channels, echoCancellation: true },
    });
    const ctx = new AudioContext({ sampleRate: rate });
    const input = ctx.createMediaStreamSource(stream);
    const processor = ctx.createScriptProcessor(BLOCK, 2, 2);
    processor.onaudioprocess = (e) => this.block(e.inputBuffer, channels);
    input.connect(processor).connect(ctx.destination); // a processor runs only while connected
    this.stream = stream;
    this.ctx = ctx;
    this.started = performance.now();
    this.message({ kind: 'mode', time: this.time(), mode: AudioDataMode.Raw, data: Buffer.alloc(0) });
    this.message({ kind: 'startMark', time: this.time() });
  }

  stop(): void {
    for (const t of this.stream?.getTracks() ?? []) t.stop();
    void this.ctx?.close();
    this.stream = undefined;
    this.ctx = undefined;
  }

  private time(): number {
    return Math.floor(performance.now() - this.started) >>> 0;
  }

  private block(buffer: AudioBuffer, channels: number): void {
    const n = buffer.length;
    const planes = Array.from({ length: channels }, (_, c) =>
      buffer.getChannelData(Math.min(c, buffer.numberOfChannels - 1)),
    );
    const pcm = Buffer.allocUnsafe(n * channels * 2);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < channels; c++) {
        const v = Math.max(-1, Math.min(1, planes[c]![i]!));
        pcm.writeInt16LE(Math.round(v * 32767), 2 * (i * channels + c));
      }
    }
    this.message({ kind: 'data', time: this.time(), data: pcm });
    this.packets++;
  }

  private message(m: RecordClientMessage): void {
    this.send(encodeRecordClientMessage(m));
  }
}
