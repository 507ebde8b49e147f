import { open, readFile, type FileHandle } from 'node:fs/promises';
import { downmixWeights } from './layout.js';
import { CHANNELS, SAMPLE_RATE, clampInt16, pcmToS16le, resampleLinear, toStereo } from './pcm.js';

/*
 * WAV (RIFF/WAVE) reading and writing.
 *
 * Layout: "RIFF" u32 size "WAVE", then chunks (4-byte id, u32le size, data, pad byte if size odd).
 * "fmt ": u16 format (1 PCM, 3 IEEE float, 0xFFFE extensible), u16 channels, u32 rate,
 *         u32 byte rate, u16 block align, u16 bits per sample; extensible adds u16 cbSize,
 *         u16 valid bits, u32 channel mask, 16-byte sub-format GUID whose first u16 is 1 or 3.
 * "data": the interleaved samples. 8-bit PCM is unsigned, wider PCM is signed little-endian.
 */

export class WavFormatError extends Error {
  override name = 'WavFormatError';
}

export interface WavFormat {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  sampleFormat: 'int' | 'float';
  /** WAVEFORMATEXTENSIBLE dwChannelMask, when the file gives one. */
  channelMask?: number;
}

export interface WavAudio {
  format: WavFormat;
  /** Interleaved 16-bit samples, in the file's channel count and rate. */
  samples: Int16Array;
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;
const HEADER_BYTES = 44;
const MAX_RIFF_DATA = 0xffffffff - (HEADER_BYTES - 8);

/** Decodes a WAV file's samples to 16 bits, keeping its channel count and rate. */
export function parseWav(bytes: Uint8Array): WavAudio {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    const magic = buf.toString('latin1', 0, 4);
    throw new WavFormatError(magic === 'RF64' ? 'RF64 (>4 GiB) WAV files are not supported' : 'not a RIFF/WAVE file');
  }
  const { format, data } = findChunks(buf);
  return { format, samples: decodeSamples(data, format) };
}

/** Any WAV file as the playback format: 48 kHz stereo, 16-bit. */
function wavToPlayback(audio: WavAudio): Int16Array {
  const { channels, sampleRate, channelMask } = audio.format;
  const stereo =
    channels <= 2
      ? toStereo(audio.samples, channels)
      : toStereo(audio.samples, channels, downmixWeights(channels, channelMask));
  return sampleRate === SAMPLE_RATE ? stereo : resampleLinear(stereo, CHANNELS, sampleRate, SAMPLE_RATE);
}

export function decodeWavForPlayback(bytes: Uint8Array): Int16Array {
  return wavToPlayback(parseWav(bytes));
}

export async function readWavFile(path: string): Promise<Int16Array> {
  return decodeWavForPlayback(await readFile(path));
}

function findChunks(buf: Buffer): { format: WavFormat; data: Buffer } {
  let format: WavFormat | null = null;
  let data: Buffer | null = null;
  let offset = 12;
  while (offset + 8 <= buf.length && (format === null || data === null)) {
    const id = buf.toString('latin1', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    // A writer that never patched its sizes (0xFFFFFFFF / 0) or a truncated file: take what is there.
    const available = Math.min(size, buf.length - body);
    if (id === 'fmt ') format = parseFmt(buf.subarray(body, body + available));
    if (id === 'data') data = buf.subarray(body, body + available);
    offset = body + size + (size & 1);
  }
  if (format === null) throw new WavFormatError('WAV file has no "fmt " chunk');
  if (data === null) throw new WavFormatError('WAV file has no "data" chunk');
  return { format, data };
}

function parseFmt(fmt: Buffer): WavFormat {
  if (fmt.length < 16) throw new WavFormatError(`"fmt " chunk is ${fmt.length} bytes, need at least 16`);
  let tag = fmt.readUInt16LE(0);
  const channels = fmt.readUInt16LE(2);
  const sampleRate = fmt.readUInt32LE(4);
  const blockAlign = fmt.readUInt16LE(12);
  const bitsPerSample = fmt.readUInt16LE(14);
  let channelMask: number | undefined;
  if (tag === FORMAT_EXTENSIBLE) {
    if (fmt.length < 40) throw new WavFormatError('WAVE_FORMAT_EXTENSIBLE "fmt " chunk is shorter than 40 bytes');
    channelMask = fmt.readUInt32LE(20);
    tag = fmt.readUInt16LE(24); // first two bytes of the sub-format GUID
  }
  const sampleFormat = tag === FORMAT_PCM ? 'int' : tag === FORMAT_FLOAT ? 'float' : null;
  if (sampleFormat === null)
    throw new WavFormatError(`unsupported WAV sample format 0x${tag.toString(16)} (only PCM and IEEE float)`);
  checkFormat(sampleFormat, bitsPerSample, channels, sampleRate, blockAlign);
  return channelMask === undefined
    ? { sampleRate, channels, bitsPerSample, sampleFormat }
    : { sampleRate, channels, bitsPerSample, sampleFormat, channelMask };
}

function checkFormat(kind: 'int' | 'float', bits: number, channels: number, rate: number, blockAlign: number): void {
  const ok = kind === 'int' ? [8, 16, 24, 32].includes(bits) : [32, 64].includes(bits);
  if (!ok) throw new WavFormatError(`unsupported WAV sample size: ${bits}-bit ${kind}`);
  if (channels === 0) throw new WavFormatError('WAV file declares 0 channels');
  if (rate === 0) throw new WavFormatError('WAV file declares a sample rate of 0');
  if (blockAlign !== (channels * bits) / 8) {
    throw new WavFormatError(`WAV block align ${blockAlign} does not match ${channels} channels of ${bits} bits`);
  }
}

function decodeSamples(data: Buffer, format: WavFormat): Int16Array {
  const bytesPerSample = format.bitsPerSample / 8;
  // Whole sample frames only: a truncated last frame would shift the channel order.
  const frameBytes = bytesPerSample * format.channels;
  const count = Math.floor(data.length / frameBytes) * format.channels;
  const read = sampleReader(format);
  const out = new Int16Array(count);
  for (let i = 0; i < count; i++) out[i] = read(data, i * bytesPerSample);
  return out;
}

/** Returns a function reading one sample at a byte offset and scaling it to 16 bits. */
function sampleReader(format: WavFormat): (data: Buffer, at: number) => number {
  if (format.sampleFormat === 'float') {
    return format.bitsPerSample === 32
      ? (d, at) => floatToInt16(d.readFloatLE(at))
      : (d, at) => floatToInt16(d.readDoubleLE(at));
  }
  switch (format.bitsPerSample) {
    case 8:
      return (d, at) => (d[at]! - 128) << 8;
    case 16:
      return (d, at) => d.readInt16LE(at);
    case 24:
      return (d, at) => clampInt16(d.readIntLE(at, 3) / 256);
    default:
      return (d, at) => clampInt16(d.readInt32LE(at) / 65536);
  }
}

function floatToInt16(x: number): number {
  // NaN (a corrupt file) becomes silence rather than poisoning the mix.
  return Number.isNaN(x) ? 0 : clampInt16(x * 32768);
}

export interface WavWriterOptions {
  sampleRate?: number;
  channels?: number;
}

function wavHeader(sampleRate: number, channels: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(Math.min(0xffffffff, dataBytes + HEADER_BYTES - 8), 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(FORMAT_PCM, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(Math.min(0xffffffff, dataBytes), 40);
  return h;
}

/** A whole 16-bit PCM WAV file in memory. */
export function encodeWav(pcm: Int16Array, options: WavWriterOptions = {}): Buffer {
  const { sampleRate, channels } = writerFormat(options);
  if (pcm.length % channels !== 0)
    throw new RangeError(`encodeWav: ${pcm.length} samples is not a multiple of ${channels} channels`);
  if (pcm.length * 2 > MAX_RIFF_DATA) throw new RangeError('encodeWav: more than 4 GiB of samples');
  return Buffer.concat([wavHeader(sampleRate, channels, pcm.length * 2), pcmToS16le(pcm)]);
}

function writerFormat(options: WavWriterOptions): { sampleRate: number; channels: number } {
  const sampleRate = options.sampleRate ?? SAMPLE_RATE;
  const channels = options.channels ?? CHANNELS;
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) {
    throw new RangeError(`WAV sample rate must be a positive integer, got ${sampleRate}`);
  }
  if (!Number.isInteger(channels) || channels <= 0 || channels > 0xffff) {
    throw new RangeError(`WAV channel count out of range: ${channels}`);
  }
  return { sampleRate, channels };
}

/**
 * Streams 16-bit PCM to a WAV file (the record channel's --mic-out). The header goes out first
 * with 0xFFFFFFFF sizes, which most readers take as "until end of file" should the process die,
 * and close() patches the real sizes in.
 *
 * write() only queues (the record channel calls it from socket callbacks); the first I/O error
 * is kept, exposed as `error`, thrown by every later write() and rejected by flush() and close().
 */
export class WavWriter {
  private queue: Promise<void> = Promise.resolve();
  private dataBytes = 0;
  private pending = 0;
  private closed = false;
  private failure: Error | null = null;

  private constructor(
    private readonly file: FileHandle,
    readonly sampleRate: number,
    readonly channels: number,
  ) {}

  static async open(path: string, options: WavWriterOptions = {}): Promise<WavWriter> {
    const { sampleRate, channels } = writerFormat(options);
    const file = await open(path, 'w');
    const writer = new WavWriter(file, sampleRate, channels);
    try {
      await writer.writeAt(wavHeader(sampleRate, channels, 0xffffffff), 0);
    } catch (err) {
      await file.close();
      throw err;
    }
    return writer;
  }

  /** Sample frames (per channel) accepted so far. */
  get frames(): number {
    return this.dataBytes / 2 / this.channels;
  }

  /** Bytes accepted by write() and not yet in the file (held in memory until they are). */
  get pendingBytes(): number {
    return this.pending;
  }

  /** The first write error, if any. */
  get error(): Error | null {
    return this.failure;
  }

  write(pcm: Int16Array): void {
    if (this.failure !== null) throw this.failure;
    if (this.closed) throw new Error('WavWriter.write: writer is closed');
    if (pcm.length % this.channels !== 0) {
      throw new RangeError(`WavWriter.write: ${pcm.length} samples is not a multiple of ${this.channels} channels`);
    }
    const bytes = pcmToS16le(pcm);
    if (this.dataBytes + bytes.length > MAX_RIFF_DATA) {
      throw new RangeError('WavWriter.write: a WAV file cannot hold more than 4 GiB of samples');
    }
    const at = HEADER_BYTES + this.dataBytes;
    this.dataBytes += bytes.length;
    this.pending += bytes.length;
    this.enqueue(() => this.writeAt(bytes, at), bytes.length);
  }

  /** Resolves once everything written so far is in the file. */
  async flush(): Promise<void> {
    await this.queue;
    if (this.failure !== null) throw this.failure;
  }

  /** Waits for queued writes, patches the RIFF and data sizes, closes the file. Idempotent. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.enqueue(() => this.patchSizes());
      this.queue = this.queue.finally(() => this.file.close());
    }
    await this.flush();
  }

  /** Chains a step; after a failure later steps are skipped (the file is already inconsistent). */
  private enqueue(step: () => Promise<void>, bytes = 0): void {
    this.queue = this.queue.then(async () => {
      try {
        if (this.failure === null) await step();
      } catch (err) {
        this.failure = err instanceof Error ? err : new Error(String(err));
      } finally {
        this.pending -= bytes;
      }
    });
  }

  private async patchSizes(): Promise<void> {
    const sizes = Buffer.alloc(4);
    sizes.writeUInt32LE(this.dataBytes + HEADER_BYTES - 8, 0);
    await this.writeAt(sizes, 4);
    sizes.writeUInt32LE(this.dataBytes, 0);
    await this.writeAt(sizes, 40);
  }

  private async writeAt(bytes: Buffer, position: number): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.file.write(bytes, done, bytes.length - done, position + done);
      done += bytesWritten;
    }
  }
}
