import {
  MAX_DECODED_SAMPLES_PER_CHANNEL,
  MAX_PACKET_BYTES,
  opusErrorText,
  opusRuntime,
  readExpandedPcm,
  writeExpandedPcm,
  type NativeOpusHandler,
  type OpusRuntime,
} from './opus-native.js';
import { CHANNELS, FRAME_SAMPLES, FRAME_SAMPLES_PER_CHANNEL, SAMPLE_RATE } from './pcm.js';

/*
 * Opus for the SPICE playback/record channels: 48 kHz, stereo, one raw 10 ms packet per DATA
 * message (docs/protocol.md; spice-gtk decodes into a 480-sample buffer, spice-html5 assumes
 * 10 ms per packet). Backed by libopus compiled to WASM (opusscript's build, see opus-native.ts).
 */

/** opus_defines.h application and CTL request numbers. */
const APPLICATION = { audio: 2049, voip: 2048, lowdelay: 2051 } as const;
const OPUS_SET_BITRATE = 4002;
const OPUS_SET_COMPLEXITY = 4010;

export type OpusApplication = keyof typeof APPLICATION;

export const DEFAULT_BITRATE = 64_000;
/**
 * libopus defaults to 10; in this WASM build 5 encodes markedly faster (docs/performance.md, Opus)
 * with little audible difference at 64 kbit/s, and the server may encode one stream per client.
 */
export const DEFAULT_COMPLEXITY = 5;

export interface OpusEncoderOptions {
  /** Bits per second, 6000..510000. Default 64000. */
  bitrate?: number;
  /** 0 (fastest) .. 10 (best). Default 5. */
  complexity?: number;
  /** Default 'audio' (music and UI sounds rather than speech). */
  application?: OpusApplication;
}

/** Native memory blocks of one handler; freed together. */
interface NativeBuffers {
  pcm: number;
  packet: number;
}

/**
 * Common lifetime handling: every codec owns one native handler (libopus encoder + decoder) and
 * two malloc'd buffers in a shared WASM instance, so close() must free them; a finalizer frees
 * them too if an owner forgets, so a leak cannot grow the WASM heap without bound.
 */
abstract class OpusCodec {
  protected readonly runtime: OpusRuntime;
  protected readonly handler: NativeOpusHandler;
  protected readonly buffers: NativeBuffers;
  private closed = false;

  protected constructor(application: OpusApplication, pcmBytes: number) {
    this.runtime = opusRuntime();
    const native = this.runtime.native;
    this.handler = new native.OpusScriptHandler(SAMPLE_RATE, CHANNELS, APPLICATION[application]);
    this.buffers = { pcm: native._malloc(pcmBytes), packet: native._malloc(MAX_PACKET_BYTES) };
    if (this.buffers.pcm === 0 || this.buffers.packet === 0) {
      releaseNative({ runtime: this.runtime, handler: this.handler, buffers: this.buffers });
      throw new Error('Opus: out of WASM memory');
    }
    finalizer.register(this, { runtime: this.runtime, handler: this.handler, buffers: this.buffers }, this);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Frees the native codec. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    finalizer.unregister(this);
    releaseNative({ runtime: this.runtime, handler: this.handler, buffers: this.buffers });
  }

  protected assertOpen(what: string): void {
    if (this.closed) throw new Error(`${what}: codec is closed`);
    this.runtime.assertUsable();
  }
}

interface NativeResources {
  runtime: OpusRuntime;
  handler: NativeOpusHandler;
  buffers: NativeBuffers;
}

function releaseNative(r: NativeResources): void {
  // A module that aborted may be in any state; leave its memory alone rather than call into it.
  if (r.runtime.aborted) return;
  const native = r.runtime.native;
  native.OpusScriptHandler.destroy_handler(r.handler);
  if (r.buffers.pcm !== 0) native._free(r.buffers.pcm);
  if (r.buffers.packet !== 0) native._free(r.buffers.packet);
}

const finalizer = new FinalizationRegistry<NativeResources>(releaseNative);

export class OpusEncoder extends OpusCodec {
  private bitrateBps: number;
  private complexityLevel: number;

  constructor(options: OpusEncoderOptions = {}) {
    // Expanded layout: two 16-bit slots per sample (see opus-native.ts).
    super(options.application ?? 'audio', FRAME_SAMPLES * 4);
    this.bitrateBps = DEFAULT_BITRATE;
    this.complexityLevel = DEFAULT_COMPLEXITY;
    try {
      this.setBitrate(options.bitrate ?? DEFAULT_BITRATE);
      this.setComplexity(options.complexity ?? DEFAULT_COMPLEXITY);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  get bitrate(): number {
    return this.bitrateBps;
  }

  get complexity(): number {
    return this.complexityLevel;
  }

  setBitrate(bps: number): void {
    if (!Number.isInteger(bps) || bps < 6000 || bps > 510_000) {
      throw new RangeError(`OpusEncoder: bitrate must be an integer in 6000..510000 bit/s, got ${bps}`);
    }
    this.ctl('bitrate', OPUS_SET_BITRATE, bps);
    this.bitrateBps = bps;
  }

  setComplexity(level: number): void {
    if (!Number.isInteger(level) || level < 0 || level > 10) {
      throw new RangeError(`OpusEncoder: complexity must be an integer in 0..10, got ${level}`);
    }
    this.ctl('complexity', OPUS_SET_COMPLEXITY, level);
    this.complexityLevel = level;
  }

  /**
   * Encodes one 10 ms frame: 960 interleaved samples (480 per channel, L R L R ...). Returns a
   * fresh Buffer holding one raw Opus packet (copied out of WASM memory).
   */
  encode(frame: Int16Array): Buffer {
    this.assertOpen('OpusEncoder.encode');
    if (frame.length !== FRAME_SAMPLES) {
      throw new RangeError(
        `OpusEncoder.encode: expected ${FRAME_SAMPLES} interleaved samples ` +
          `(${FRAME_SAMPLES_PER_CHANNEL} per channel = 10 ms of 48 kHz stereo), got ${frame.length}`,
      );
    }
    const native = this.runtime.native;
    writeExpandedPcm(native, this.buffers.pcm, frame);
    const len = this.handler._encode(this.buffers.pcm, FRAME_SAMPLES, this.buffers.packet, FRAME_SAMPLES_PER_CHANNEL);
    if (len < 0) throw new Error(`OpusEncoder.encode: libopus error ${opusErrorText(len)}`);
    return Buffer.from(native.HEAPU8.subarray(this.buffers.packet, this.buffers.packet + len));
  }

  private ctl(name: string, request: number, value: number): void {
    this.assertOpen(`OpusEncoder ${name}`);
    const rc = this.handler._encoder_ctl(request, value);
    if (rc < 0) throw new Error(`OpusEncoder: setting ${name} to ${value} failed: ${opusErrorText(rc)}`);
  }
}

export class OpusDecoder extends OpusCodec {
  constructor() {
    // Room for the longest packet libopus accepts (120 ms), expanded: 4 bytes per sample.
    super('audio', MAX_DECODED_SAMPLES_PER_CHANNEL * CHANNELS * 4);
  }

  /**
   * Decodes one raw Opus packet to interleaved stereo samples: 960 for the 10 ms packets SPICE
   * playback uses; a client's record stream may legitimately use longer packets, so the length
   * follows the packet (use `decodeFrame` to insist on exactly 10 ms).
   */
  decode(packet: Uint8Array): Int16Array {
    this.assertOpen('OpusDecoder.decode');
    if (packet.length === 0) throw new RangeError('OpusDecoder.decode: empty packet');
    if (packet.length > MAX_PACKET_BYTES) {
      throw new RangeError(
        `OpusDecoder.decode: packet of ${packet.length} bytes exceeds the ${MAX_PACKET_BYTES}-byte maximum`,
      );
    }
    const native = this.runtime.native;
    native.HEAPU8.set(packet, this.buffers.packet);
    const perChannel = this.handler._decode(this.buffers.packet, packet.length, this.buffers.pcm);
    if (perChannel < 0) throw new Error(`OpusDecoder.decode: libopus error ${opusErrorText(perChannel)}`);
    return readExpandedPcm(native, this.buffers.pcm, perChannel * CHANNELS);
  }

  /** Like decode, but the packet must hold exactly one 10 ms frame (960 interleaved samples). */
  decodeFrame(packet: Uint8Array): Int16Array {
    const pcm = this.decode(packet);
    if (pcm.length !== FRAME_SAMPLES) {
      throw new RangeError(
        `OpusDecoder.decodeFrame: packet decoded to ${pcm.length / CHANNELS} samples per channel, ` +
          `expected ${FRAME_SAMPLES_PER_CHANNEL} (10 ms)`,
      );
    }
    return pcm;
  }
}
