import net from 'node:net';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dominantFrequency } from '../src/audio/analysis.js';
import { OpusDecoder, OpusEncoder } from '../src/audio/opus.js';
import { FRAME_SAMPLES, s16leToPcm } from '../src/audio/pcm.js';
import { sineTone } from '../src/audio/tones.js';
import { encodeWav, parseWav, WavWriter } from '../src/audio/wav.js';
import { ClientChannel } from '../src/client/channel.js';
import { SpiceClient } from '../src/client/client.js';
import { AudioDataMode, ChannelType, PlaybackCap, RecordMsg } from '../src/protocol/constants.js';
import { encodeRecordClientMessage, type PlaybackServerMessage } from '../src/protocol/playback.js';
import { monotonicMs, SpiceServer } from '../src/server/server.js';
import { WavAudio } from '../src/sources/audio/wav-source.js';
import { WithAudio } from '../src/sources/with-audio.js';
import { PatternSource } from './helpers/pattern-source.js';
import { stallFileIo } from './helpers/threadpool.js';
import { until } from './helpers/wait.js';
import { memoryLogger } from '../src/util/log.js';
import { lacking, skipNote, SYSTEM_PYTHON } from './helpers/probes.js';
import { run, tempDir } from './helpers/tools.js';

const dir = tempDir('spiced-sound-');

/** A server playing a 440 Hz WAV file (11 s) over a test desktop. */
async function toneServer(): Promise<SpiceServer> {
  const wav = join(dir, 'tone-440.wav');
  writeFileSync(wav, encodeWav(sineTone(440, 11_000, { amplitude: 0.5 }), { sampleRate: 48_000, channels: 2 }));
  const server = new SpiceServer({
    source: new WithAudio(new PatternSource(), new WavAudio(wav, true), 'tone'),
    port: 0,
  });
  await server.start();
  return server;
}

interface Arrival {
  at: number;
  /** Arrival on the server's multimedia clock (client and server share this process). */
  mm: number;
  m: PlaybackServerMessage;
}

function playbackClient(port: number, caps: number[]): { client: SpiceClient; messages: Arrival[] } {
  const client = new SpiceClient({ port, channels: [ChannelType.Playback], playbackCaps: caps });
  const messages: Arrival[] = [];
  client.on('playback', (m) => messages.push({ at: performance.now(), mm: monotonicMs(), m }));
  return { client, messages };
}

describe('playback channel', () => {
  let server: SpiceServer;
  beforeAll(async () => {
    server = await toneServer();
  });
  afterAll(() => server.stop());

  // Two seconds hold 200 packets: enough for the frequency (0.5 Hz apart at this length) and the
  // timing rules. The test takes them as they come (a loaded machine only makes it wait longer).
  it('Opus: 2 s of a 440 Hz tone decode back to 440 Hz (within 2 Hz), with no gaps', async () => {
    const { client, messages } = playbackClient(server.port, [PlaybackCap.Opus, PlaybackCap.Volume]);
    await client.connect();
    const dataCount = (): number => messages.filter((x) => x.m.kind === 'data').length;
    await until('200 Opus packets', () => dataCount() >= 200);
    client.close();
    const kinds = messages.map((x) => x.m.kind);
    expect(kinds[0]).toBe('mode'); // MODE before START (spice-gtk needs it)
    expect(kinds.indexOf('start')).toBeGreaterThan(0);
    const mode = messages[0]!.m as Extract<PlaybackServerMessage, { kind: 'mode' }>;
    expect(mode.mode).toBe(AudioDataMode.Opus);
    const start = messages.find((x) => x.m.kind === 'start')!.m as Extract<PlaybackServerMessage, { kind: 'start' }>;
    expect(start).toMatchObject({ channels: 2, format: 1, frequency: 48000 });
    // Timestamps advance by exactly 10 ms. The one allowed exception is by design: when the
    // server's frames fall more than 100 ms behind its clock (this process stalled: a loaded CI
    // machine), it restarts the stream time from now instead of sending a late burst. Client and
    // server share this process and so the multimedia clock: a frame that restarted the time was
    // made, and so arrived, more than 100 ms after the time the previous frame's successor was
    // due. Judged on that clock, lateness that built up before the first frame arrived counts too.
    const data = messages.filter(
      (x): x is Arrival & { m: Extract<PlaybackServerMessage, { kind: 'data' }> } => x.m.kind === 'data',
    );
    expect(data.length).toBeGreaterThanOrEqual(200);
    const jumps: number[] = [];
    for (let i = 1; i < data.length; i++) {
      const step = (data[i]!.m.time - data[i - 1]!.m.time) >>> 0;
      if (step === 10) continue;
      jumps.push(step);
      expect(step, `frame ${i}`).toBeGreaterThan(100);
      const due = (data[i - 1]!.m.time + 10) >>> 0;
      expect((data[i]!.mm - due) << 0, `how far behind its due time frame ${i} arrived`).toBeGreaterThan(100);
    }
    expect(jumps.length, `time jumps ${jumps.join(', ')}`).toBeLessThanOrEqual(3);
    const gaps = data.slice(1).map((d, i) => d.at - data[i]!.at);
    expect(Math.max(...gaps)).toBeLessThan(1000);
    const decoder = new OpusDecoder();
    const pcm = new Int16Array(data.length * FRAME_SAMPLES);
    data.forEach((d, i) => pcm.set(decoder.decodeFrame(d.m.data), i * FRAME_SAMPLES));
    decoder.close();
    expect(Math.abs(dominantFrequency(pcm, { sampleRate: 48000, channels: 2 }) - 440)).toBeLessThan(2);
  }, 30_000);

  it('raw 16-bit PCM for a viewer without Opus', async () => {
    const { client, messages } = playbackClient(server.port, []);
    await client.connect();
    await until('50 raw packets', () => messages.filter((x) => x.m.kind === 'data').length >= 50);
    client.close();
    expect((messages[0]!.m as { mode: number }).mode).toBe(AudioDataMode.Raw);
    const data = messages.filter((x) => x.m.kind === 'data').map((x) => (x.m as { data: Buffer }).data);
    expect(data.length).toBeGreaterThanOrEqual(50);
    expect(data.every((d) => d.length === FRAME_SAMPLES * 2)).toBe(true);
    const pcm = s16leToPcm(Buffer.concat(data));
    expect(Math.abs(dominantFrequency(pcm, { sampleRate: 48000, channels: 2 }) - 440)).toBeLessThan(5);
  });

  it.skipIf(lacking('spice-glib') !== '')(
    `spice-gtk's PlaybackChannel gets START 48000 Hz stereo and a steady flow of data${skipNote(lacking('spice-glib'))}`,
    async () => {
      const probe = join(__dirname, 'helpers', 'playback-probe.py');
      const r = await run(SYSTEM_PYTHON, [probe, '127.0.0.1', String(server.port), '3'], { timeoutMs: 20_000 });
      const st = JSON.parse(r.stdout) as {
        start: { channels: number; rate: number } | null;
        data_packets: number;
        max_gap_s: number;
      };
      expect(st.start, r.stderr).toMatchObject({ channels: 2, rate: 48000 });
      expect(st.data_packets).toBeGreaterThan(150);
      expect(st.max_gap_s).toBeLessThan(0.3);
    },
  );
});

describe('record channel (--mic-out)', () => {
  it("writes what a viewer's microphone sends (Opus) to a WAV file", async () => {
    const out = join(dir, 'mic.wav');
    const writer = await WavWriter.open(out, { sampleRate: 48000, channels: 2 });
    const server = new SpiceServer({ source: new PatternSource(), port: 0, micOut: writer });
    await server.start();
    const main = new SpiceClient({ port: server.port, channels: [] });
    await main.connect();
    expect(main.channelList.map((c) => c.type)).toContain(ChannelType.Record);
    const sock = net.connect(server.port, '127.0.0.1');
    const rec = new ClientChannel(sock, {
      connectionId: main.init!.sessionId,
      channelType: ChannelType.Record,
      channelId: 0,
      channelCaps: [2],
      password: '',
    });
    const starts: number[] = [];
    rec.on('message', (t) => starts.push(t));
    await rec.linked;
    await until('RECORD_START', () => starts.includes(RecordMsg.Start));
    rec.send(encodeRecordClientMessage({ kind: 'mode', time: 0, mode: AudioDataMode.Opus, data: Buffer.alloc(0) }));
    const tone = sineTone(1000, 2000, { amplitude: 0.5 });
    const enc = new OpusEncoder();
    let sent = 0;
    for (let i = 0; i + FRAME_SAMPLES <= tone.length; i += FRAME_SAMPLES, sent++) {
      rec.send(
        encodeRecordClientMessage({
          kind: 'data',
          time: i / 96,
          data: enc.encode(tone.subarray(i, i + FRAME_SAMPLES)),
        }),
      );
    }
    enc.close();
    // Every frame sent is decoded and in the writer (FRAME_SAMPLES interleaved samples = half as many frames).
    await until('the microphone data in the WAV writer', () => writer.frames >= (sent * FRAME_SAMPLES) / 2);
    rec.close();
    main.close();
    await server.stop();
    await writer.close();
    const wav = parseWav(readFileSync(out));
    expect(wav.format.sampleRate).toBe(48000);
    expect(wav.samples.length).toBeGreaterThan(1.8 * 48000 * 2);
    expect(Math.abs(dominantFrequency(wav.samples, { sampleRate: 48000, channels: 2 }) - 1000)).toBeLessThan(2);
  });
});

describe('record channel bounds', () => {
  it('closes a viewer whose microphone data comes faster than the file takes it, and keeps serving', async () => {
    const writer = await WavWriter.open(join(dir, 'flood.wav'), { sampleRate: 48000, channels: 2 });
    const { logger, records } = memoryLogger('debug');
    const server = new SpiceServer({ source: new PatternSource(), port: 0, micOut: writer, log: logger });
    await server.start();
    const main = new SpiceClient({ port: server.port, channels: [] });
    await main.connect();
    const rec = new ClientChannel(net.connect(server.port, '127.0.0.1'), {
      connectionId: main.init!.sessionId,
      channelType: ChannelType.Record,
      channelId: 0,
      channelCaps: [],
      password: '',
    });
    await rec.linked;
    const stall = stallFileIo(dir); // the disk stops taking bytes
    try {
      rec.send(encodeRecordClientMessage({ kind: 'mode', time: 0, mode: AudioDataMode.Raw, data: Buffer.alloc(0) }));
      // 6 MiB of raw PCM in 48 messages (a microphone sends 192 KB a second).
      for (let i = 0; i < 48; i++)
        rec.send(encodeRecordClientMessage({ kind: 'data', time: i, data: Buffer.alloc(128 << 10, i) }));
      const refused = (): boolean =>
        records.some((r) =>
          /closing record connection from 127\.0\.0\.1:\d+: microphone data comes faster than the file takes it/.test(
            r.message,
          ),
        );
      await until('the flooding viewer closed', refused, 5_000);
      expect(writer.pendingBytes).toBeLessThanOrEqual((4 << 20) + (128 << 10));
      expect(server.sessions.size).toBe(1); // the viewer's other channels stay
    } finally {
      await stall.release();
    }
    await writer.flush();
    expect(writer.pendingBytes).toBe(0);
    main.close();
    await server.stop();
    await writer.close();
  });
});

describe('spiced serve --pulse', () => {
  it('says clearly when parec is not installed', async () => {
    const empty = tempDir('spiced-nopath-');
    const r = await run(process.execPath, ['dist/src/cli/main.js', 'serve', '--port', '0', '--pulse'], {
      env: { PATH: empty },
      timeoutMs: 20_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--pulse needs parec, which is not installed (apt-get install pulseaudio-utils)');
  });
});
