import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dominantFrequency, findPacketGaps, findSilence, peakLevel, rms, rmsDbfs } from '../src/audio/analysis.js';
import { downmixWeights } from '../src/audio/layout.js';
import { OpusDecoder, OpusEncoder } from '../src/audio/opus.js';
import {
  FRAME_SAMPLES,
  FrameChunker,
  applyGain,
  mix,
  monoToStereo,
  pcmToS16le,
  resampleLinear,
  s16leToPcm,
  stereoToMono,
  toStereo,
} from '../src/audio/pcm.js';
import { AudioTimeline, FramePacer, keyBlip, sineTone, tick } from '../src/audio/tones.js';
import { WavFormatError, WavWriter, decodeWavForPlayback, encodeWav, parseWav } from '../src/audio/wav.js';

/** Interleaved samples 0, 1, 2, ... n-1 (wrapping at 16 bits), to follow order through chunking. */
function ramp(n: number, from = 0): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => ((from + i) << 16) >> 16);
}

function concat(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function framesOf(pcm: Int16Array): Int16Array[] {
  const chunker = new FrameChunker();
  const frames = chunker.push(pcm);
  const tail = chunker.flush();
  return tail === null ? frames : [...frames, tail];
}

/** Encodes `pcm` frame by frame and decodes it again; returns packets and decoded audio. */
function opusRoundTrip(
  pcm: Int16Array,
  enc: OpusEncoder,
  dec: OpusDecoder,
): { packets: Buffer[]; decoded: Int16Array } {
  const packets = framesOf(pcm).map((f) => enc.encode(f));
  const decoded = concat(packets.map((p) => dec.decodeFrame(p)));
  return { packets, decoded };
}

describe('Opus', () => {
  for (const freq of [440, 1000]) {
    it(`round-trips 10 s of a ${freq} Hz tone in 1000 packets`, () => {
      const src = sineTone(freq, 10_000, { amplitude: 0.5 });
      const enc = new OpusEncoder();
      const dec = new OpusDecoder();
      try {
        const { packets, decoded } = opusRoundTrip(src, enc, dec);
        expect(packets).toHaveLength(1000);
        expect(decoded).toHaveLength(src.length);
        const f = dominantFrequency(decoded);
        expect(Math.abs(f - freq)).toBeLessThan(2);
        expect(Math.abs(rmsDbfs(decoded) - rmsDbfs(src))).toBeLessThan(1);
        // No dropouts: besides the codec's start-up delay and the fades, no digital silence.
        const body = decoded.subarray(2 * 480, decoded.length - 2 * 480);
        expect(findSilence(body, { minMs: 1 })).toEqual([]);
        expect(findPacketGaps(packets.map((_, i) => i * 10))).toEqual([]);
        // ~64 kbit/s: 8000 bytes per second of audio, within VBR wander.
        const bytesPerSecond = packets.reduce((s, p) => s + p.length, 0) / 10;
        expect(bytesPerSecond).toBeGreaterThan(6000);
        expect(bytesPerSecond).toBeLessThan(10_000);
      } finally {
        enc.close();
        dec.close();
      }
    });
  }

  it('keeps many live codecs independent (opusscript 0.1.1 corrupts its heap here)', () => {
    const src = sineTone(440, 500);
    const refEnc = new OpusEncoder();
    const reference = framesOf(src).map((f) => refEnc.encode(f).toString('hex'));
    refEnc.close();
    const encoders = Array.from({ length: 24 }, () => new OpusEncoder());
    const decoders = Array.from({ length: 24 }, () => new OpusDecoder());
    const frames = framesOf(src);
    frames.forEach((frame, k) => {
      encoders.forEach((enc, i) => {
        const packet = enc.encode(frame);
        expect(packet.toString('hex')).toBe(reference[k]);
        expect(decoders[i]!.decodeFrame(packet)).toHaveLength(FRAME_SAMPLES);
      });
    });
    for (const c of [...encoders, ...decoders]) c.close();
  });

  it('survives WASM memory growth (opusscript 0.1.1 keeps stale heap views)', () => {
    const first = new OpusEncoder();
    const frame = sineTone(440, 10);
    const expected = first.encode(frame);
    first.close();
    const survivor = new OpusEncoder();
    // ~170 KB per codec: 150 of them outgrow the 16 MB initial heap.
    const crowd = Array.from({ length: 150 }, () => new OpusDecoder());
    expect(survivor.encode(frame)).toEqual(expected);
    for (const c of [survivor, ...crowd]) c.close();
  });

  it('rejects wrong frame sizes, bad settings and use after close', () => {
    const enc = new OpusEncoder({ bitrate: 32_000, complexity: 2 });
    expect(enc.bitrate).toBe(32_000);
    expect(() => enc.encode(new Int16Array(959))).toThrow(/expected 960 interleaved samples.*got 959/);
    expect(() => enc.encode(new Int16Array(1920))).toThrow(RangeError);
    expect(() => enc.setBitrate(1000)).toThrow(/6000\.\.510000/);
    expect(() => enc.setComplexity(11)).toThrow(/0\.\.10/);
    const packet = enc.encode(new Int16Array(FRAME_SAMPLES));
    enc.close();
    enc.close();
    expect(() => enc.encode(new Int16Array(FRAME_SAMPLES))).toThrow(/closed/);
    const dec = new OpusDecoder();
    expect(dec.decode(packet)).toHaveLength(FRAME_SAMPLES);
    expect(() => dec.decode(Buffer.alloc(0))).toThrow(/empty/);
    expect(() => dec.decode(Buffer.alloc(5000))).toThrow(/exceeds/);
    dec.close();
  });
});

/** A WAV file built by hand (not with encodeWav), so the reader is checked independently. */
function handMadeWav(
  format: number,
  bits: number,
  channels: number,
  rate: number,
  data: Buffer,
  extra: [string, Buffer][] = [],
): Buffer {
  const fmt = Buffer.alloc(16);
  fmt.writeUInt16LE(format, 0);
  fmt.writeUInt16LE(channels, 2);
  fmt.writeUInt32LE(rate, 4);
  fmt.writeUInt32LE((rate * channels * bits) / 8, 8);
  fmt.writeUInt16LE((channels * bits) / 8, 12);
  fmt.writeUInt16LE(bits, 14);
  const chunk = (id: string, body: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.write(id, 0, 'latin1');
    head.writeUInt32LE(body.length, 4);
    return Buffer.concat([head, body, Buffer.alloc(body.length & 1)]);
  };
  const body = Buffer.concat([
    Buffer.from('WAVE'),
    chunk('fmt ', fmt),
    ...extra.map(([id, b]) => chunk(id, b)),
    chunk('data', data),
  ]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

function sineValues(freq: number, rate: number, seconds: number): number[] {
  return Array.from({ length: rate * seconds }, (_, i) => 0.5 * Math.sin((2 * Math.PI * freq * i) / rate));
}

describe('WAV', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spiced-audio-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('streams a 16-bit file and reads it back exactly', async () => {
    const path = join(dir, 'mic.wav');
    const src = sineTone(440, 1000);
    const writer = await WavWriter.open(path);
    for (const frame of framesOf(src)) writer.write(frame);
    expect(writer.frames).toBe(48_000);
    await writer.close();
    const bytes = await readFile(path);
    expect(bytes.readUInt32LE(4)).toBe(bytes.length - 8);
    expect(bytes.readUInt32LE(40)).toBe(src.length * 2);
    const audio = parseWav(bytes);
    expect(audio.format).toEqual({ sampleRate: 48_000, channels: 2, bitsPerSample: 16, sampleFormat: 'int' });
    expect(audio.samples).toEqual(src);
    expect(() => writer.write(src)).toThrow(/closed/);
  });

  it('reads a file whose sizes were never patched', () => {
    const bytes = encodeWav(ramp(200));
    bytes.writeUInt32LE(0xffffffff, 4);
    bytes.writeUInt32LE(0xffffffff, 40);
    expect(parseWav(bytes.subarray(0, bytes.length - 3)).samples).toEqual(ramp(198));
  });

  it('resamples hand-made 8-bit and float 44.1 kHz mono files to 48 kHz stereo', () => {
    const values = sineValues(1000, 44_100, 1);
    const u8 = Buffer.from(values.map((v) => Math.round(128 + 127 * v)));
    const f32 = Buffer.alloc(values.length * 4);
    values.forEach((v, i) => f32.writeFloatLE(v, 4 * i));
    const oddChunk: [string, Buffer] = ['LIST', Buffer.from('odd')]; // exercises the RIFF pad byte
    for (const file of [handMadeWav(1, 8, 1, 44_100, u8, [oddChunk]), handMadeWav(3, 32, 1, 44_100, f32)]) {
      const pcm = decodeWavForPlayback(file);
      expect(pcm).toHaveLength(48_000 * 2);
      expect(Math.abs(dominantFrequency(pcm) - 1000)).toBeLessThan(0.5);
      expect(rms(pcm)).toBeCloseTo(0.5 / Math.SQRT2, 2);
      expect(dominantFrequency(pcm, { channel: 1 })).toBeCloseTo(dominantFrequency(pcm), 6);
    }
  });

  it('reads 24-bit stereo and downmixes 5.1', () => {
    const values = sineValues(440, 48_000, 1);
    const s24 = Buffer.alloc(values.length * 6);
    values.forEach((v, i) => {
      s24.writeIntLE(Math.round(v * 8_388_607), 6 * i, 3);
      s24.writeIntLE(0, 6 * i + 3, 3);
    });
    const stereo = decodeWavForPlayback(handMadeWav(1, 24, 2, 48_000, s24));
    expect(Math.abs(dominantFrequency(stereo) - 440)).toBeLessThan(0.1);
    expect(peakLevel(stereo.filter((_, i) => i % 2 === 1))).toBe(0);
    const six = Buffer.alloc(values.length * 12);
    values.forEach((v, i) => six.writeInt16LE(Math.round(v * 32767), 12 * i + 4)); // centre channel only
    const down = decodeWavForPlayback(handMadeWav(1, 16, 6, 48_000, six));
    expect(Math.abs(dominantFrequency(down, { channel: 1 }) - 440)).toBeLessThan(0.1);
    expect(rms(down)).toBeGreaterThan(0.05);
  });

  it('explains what it cannot read', () => {
    expect(() => parseWav(Buffer.from('not a wav file at all'))).toThrow(WavFormatError);
    expect(() => parseWav(handMadeWav(2, 4, 1, 8000, Buffer.alloc(10)))).toThrow(/sample format 0x2/);
    expect(() => parseWav(handMadeWav(1, 12, 1, 8000, Buffer.alloc(10)))).toThrow(/12-bit int/);
  });
});

describe('PCM helpers', () => {
  it('chunks arbitrary lengths into exact frames, keeping order and remainder', () => {
    const c = new FrameChunker();
    expect(c.push(new Int16Array(0))).toEqual([]);
    expect(c.flush()).toBeNull();
    const input = ramp(3 * FRAME_SAMPLES + 7);
    const frames: Int16Array[] = [];
    for (const size of [1, 959, 960, 961, 3, 1000, 3]) {
      const start = frames.length * FRAME_SAMPLES + c.buffered;
      frames.push(...c.push(input.subarray(start, start + size)));
    }
    expect(frames).toHaveLength(3);
    expect(c.buffered).toBe(7);
    for (const f of frames) expect(f).toHaveLength(FRAME_SAMPLES);
    expect(concat(frames)).toEqual(input.subarray(0, 3 * FRAME_SAMPLES));
    const tail = c.flush();
    expect(tail?.subarray(0, 7)).toEqual(input.subarray(3 * FRAME_SAMPLES));
    expect(tail?.subarray(7).every((v) => v === 0)).toBe(true);
    expect(c.buffered).toBe(0);
    expect(c.push(ramp(FRAME_SAMPLES))).toHaveLength(1);
    expect(() => new FrameChunker(0)).toThrow(RangeError);
  });

  it('mixes with clipping, applies gain, converts channels and bytes', () => {
    const a = Int16Array.from([30_000, -30_000, 100, 5]);
    const b = Int16Array.from([10_000, -10_000, 100]);
    expect(mix([a, b])).toEqual(Int16Array.from([32767, -32768, 200, 5]));
    expect(applyGain(a, 0.5)).toEqual(Int16Array.from([15_000, -15_000, 50, 3]));
    expect(monoToStereo(Int16Array.from([1, -2]))).toEqual(Int16Array.from([1, 1, -2, -2]));
    expect(stereoToMono(Int16Array.from([32767, 32767, -3, 1]))).toEqual(Int16Array.from([32767, -1]));
    expect(() => toStereo(new Int16Array(6), 3)).toThrow(/downmix weights/);
    expect(toStereo(Int16Array.from([100, 200, 300]), 3, downmixWeights(3)).length).toBe(2);
    const bytes = pcmToS16le(Int16Array.from([1, -1, 256]));
    expect([...bytes]).toEqual([1, 0, 0xff, 0xff, 0, 1]);
    expect(s16leToPcm(Buffer.concat([Buffer.alloc(1), bytes]).subarray(1))).toEqual(Int16Array.from([1, -1, 256]));
  });

  it('resamples linearly without drift', () => {
    const mono = Int16Array.from({ length: 44_100 }, (_, i) => i % 100);
    const up = resampleLinear(mono, 1, 44_100, 48_000);
    expect(up).toHaveLength(48_000);
    expect(up[0]).toBe(0);
    expect(resampleLinear(Int16Array.from([0, 0, 100, 100]), 2, 1, 2)).toEqual(
      Int16Array.from([0, 0, 50, 50, 100, 100, 100, 100]),
    );
    expect(() => resampleLinear(new Int16Array(3), 2, 44_100, 48_000)).toThrow(/whole number/);
  });
});

describe('tones and timeline', () => {
  it('generates deterministic, click-free clips', () => {
    const a = sineTone(440, 1000);
    expect(a).toEqual(sineTone(440, 1000));
    expect(a).toHaveLength(96_000);
    expect([a[0], a[1], a[a.length - 2], a[a.length - 1]]).toEqual([0, 0, 0, 0]);
    expect(peakLevel(a)).toBeCloseTo(0.5, 2);
    expect(Math.abs(dominantFrequency(a) - 440)).toBeLessThan(0.01);
    for (const clip of [tick(), keyBlip()]) {
      const half = clip.length / 2;
      expect(rms(clip.subarray(0, half))).toBeGreaterThan(4 * rms(clip.subarray(half)));
      expect(clip[clip.length - 1]).toBe(0);
    }
    expect(tick()).toEqual(tick());
    expect(keyBlip()).toEqual(keyBlip());
    expect(Math.abs(dominantFrequency(keyBlip()) - 660)).toBeLessThan(5);
    expect(() => sineTone(-1, 10)).toThrow(RangeError);
  });

  it('mixes a tick and a tone frame by frame, with silence when idle', () => {
    const t = new AudioTimeline();
    expect(t.nextFrame()).toEqual(new Int16Array(FRAME_SAMPLES));
    const tone = sineTone(1000, 50, { amplitude: 0.3 });
    const click = tick();
    t.play(tone);
    t.play(click, { delayMs: 15 });
    expect(t.activeVoices).toBe(2);
    const out = concat(Array.from({ length: 8 }, () => t.nextFrame()));
    const expected = new Int16Array(out.length);
    expected.set(tone);
    const mixed = mix([expected.subarray(15 * 96), click]);
    expected.set(mixed.subarray(0, expected.length - 15 * 96), 15 * 96);
    expect(out).toEqual(expected);
    expect(t.idle).toBe(true);
    expect(t.timeMs).toBe(90);
    expect(t.nextFrame()).toEqual(new Int16Array(FRAME_SAMPLES));
  });

  it('pumps frames from a virtual clock', () => {
    const t = new AudioTimeline({ maxBurstFrames: 5 });
    const counts = [0, 9, 10, 25, 26, 49.9, 50].map((now) => t.pump(now).length);
    expect(counts).toEqual([1, 0, 1, 1, 0, 2, 1]);
    expect(t.timeMs).toBe(60);
    const id = t.play(sineTone(500, 1000));
    const late = t.pump(1050); // a 1 s stall: 100 frames due, 5 sent, the rest skipped
    expect(late.map((f) => f.timeMs)).toEqual([1010, 1020, 1030, 1040, 1050]);
    expect(t.skippedFrames).toBe(95);
    expect(t.timeMs).toBe(1060);
    expect(t.cancel(id)).toBe(false); // the clip has ended
    const p = new FramePacer();
    expect([0, 10, 20, 30].map((now) => p.due(now))).toEqual([1, 1, 1, 1]);
  });
});

describe('analysis', () => {
  it('finds packet gaps and overlaps', () => {
    expect(findPacketGaps([0, 10, 20, 50, 60, 60, 70])).toEqual([
      { kind: 'gap', index: 3, fromMs: 20, toMs: 50, packets: 2 },
      { kind: 'overlap', index: 5, fromMs: 60, toMs: 60, packets: 1 },
    ]);
  });

  it('finds stretches of digital silence', () => {
    const pcm = sineTone(440, 100);
    pcm.fill(0, 2 * 480, 2 * 960);
    const gaps = findSilence(pcm, { minMs: 2 });
    expect(gaps).toHaveLength(1);
    expect(gaps[0]!.startMs).toBeCloseTo(10, 0);
    expect(gaps[0]!.durationMs).toBeCloseTo(10, 0);
    expect(dominantFrequency(new Int16Array(4800))).toBeNaN();
  });
});
