import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { DisplaySink, SeamCommand } from '../src/seam/index.js';
import { Desktop } from '../src/display/desktop.js';
import { countRgbDifferences } from '../src/display/pixels.js';
import {
  detectRecordingFormat,
  readRecording,
  readSpicedRecording,
  recordingSink,
  RecordingSource,
  renderRecording,
  SessionRecorder,
  SpicedRecordingReader,
  type PlaybackClock,
  type RecorderOptions,
  type TimedSeamCommand,
} from '../src/sources/recording/index.js';
import { RecordingWriter } from '../src/sources/recording/spice-replay/index.js';
import { encodePreamble } from '../src/sources/recording/spiced-format/header.js';
import { decodePng } from '../src/display/png.js';
import { collectingSink, everyKind, image, normalize, readAll, sendAll } from './helpers/recordings.js';
import { until } from './helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'spiced-recfmt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
const tmp = (name: string): string => join(dir, `${fileNo++}-${name}`);

async function record(
  path: string,
  commands: readonly SeamCommand[],
  options: RecorderOptions = {},
  stepNs = 1000n,
): Promise<SessionRecorder> {
  const rec = await SessionRecorder.open(path, { source: 'test', width: 64, height: 48 }, options);
  commands.forEach((c, i) => rec.write(BigInt(i) * stepNs, c));
  await rec.close();
  return rec;
}

describe('spiced recording format', () => {
  for (const [images, compression] of [
    ['raw', 'brotli'],
    ['lz', 'brotli'],
    ['raw', 'gzip'],
    ['lz', 'gzip'],
  ] as const) {
    it(`round-trips every command kind byte for byte (images: ${images}, body: ${compression})`, async () => {
      const path = tmp(`every-${images}-${compression}.spicedrec`);
      const commands = everyKind();
      const rec = await record(path, commands, { images, compression });
      expect(rec.recordCount).toBe(commands.length);
      expect(rec.bytesWritten).toBe(statSync(path).size);
      const reader = new SpicedRecordingReader(path);
      const back = await readAll(reader.commands());
      expect(back.map((c) => normalize(c.command))).toEqual(commands.map(normalize));
      expect(back.map((c) => c.timeNs)).toEqual(commands.map((_, i) => BigInt(i) * 1000n));
      expect(reader.status).toEqual({ records: commands.length, complete: true, skipped: 0, trailingBytes: 0 });
      // A repeated shape comes back as the same object, a changed one under the same id does not.
      const sets = back.flatMap((c) => (c.command.kind === 'cursorSet' ? [c.command.shape] : []));
      expect(sets[0]).toBe(sets[1]);
      expect(sets[2]).not.toBe(sets[1]);
      expect(sets[2]?.hotX).toBe(5);
    });
  }

  it('stores timestamps to the microsecond and rejects time going backwards', async () => {
    const path = tmp('times.spicedrec');
    const rec = await SessionRecorder.open(path, { source: 'test' });
    rec.write(0n, { kind: 'cursorHide' });
    rec.write(1_499n, { kind: 'cursorShow' });
    rec.write(90_000_000_000n, { kind: 'cursorHide' });
    expect(() => rec.write(89_000_000_000n, { kind: 'cursorShow' })).toThrow(/before the previous record/);
    await rec.close();
    expect((await readAll(readSpicedRecording(path))).map((c) => c.timeNs)).toEqual([0n, 1_000n, 90_000_000_000n]);
  });

  it('reads a recording cut short up to its last complete record', async () => {
    const path = tmp('long.spicedrec');
    const commands: SeamCommand[] = [{ kind: 'surfaceCreate', surfaceId: 0, width: 200, height: 100, primary: true }];
    for (let i = 0; i < 400; i++) {
      commands.push({
        kind: 'copy',
        surfaceId: 0,
        dest: { top: i % 90, left: i % 180, bottom: (i % 90) + 10, right: (i % 180) + 20 },
        image: image(20, 10, i + 100),
      });
      commands.push({ kind: 'cursorMove', x: i, y: i % 100 });
    }
    await record(path, commands, { flushIntervalMs: 5 });
    const full = readFileSync(path);
    const want = commands.map(normalize);
    let previous = -1;
    for (const fraction of [0.1, 0.35, 0.5, 0.77, 0.999]) {
      const cut = tmp('cut.spicedrec');
      writeFileSync(cut, full.subarray(0, Math.floor(full.length * fraction)));
      const reader = new SpicedRecordingReader(cut);
      const got = (await readAll(reader.commands())).map((c) => normalize(c.command));
      expect(reader.status.complete).toBe(false);
      expect(got.length).toBeGreaterThan(previous);
      expect(got.length).toBeLessThan(commands.length + 1);
      expect(got).toEqual(want.slice(0, got.length));
      previous = got.length;
    }
    expect(previous).toBeGreaterThan(commands.length * 0.9);
  });

  it('reads a recording whose writer was killed before close (only periodic flushes)', async () => {
    const path = tmp('killed.spicedrec');
    const rec = await SessionRecorder.open(path, { source: 'test' }, { flushIntervalMs: 10 });
    rec.write(0n, { kind: 'surfaceCreate', surfaceId: 0, width: 32, height: 32, primary: true });
    for (let i = 0; i < 50; i++)
      rec.write(BigInt(i) * 1_000_000n, {
        kind: 'fill',
        surfaceId: 0,
        rect: { top: i % 32, left: 0, bottom: 32, right: 32 },
        color: i,
      });
    await rec.flush();
    await new Promise((r) => setTimeout(r, 100));
    // Snapshot the file as a crash would leave it: no end record, no gzip trailer.
    const snapshot = tmp('snapshot.spicedrec');
    writeFileSync(snapshot, readFileSync(path));
    await rec.close();
    const reader = new SpicedRecordingReader(snapshot);
    expect((await readAll(reader.commands())).length).toBe(51);
    expect(reader.status.complete).toBe(false);
  });

  it('rejects an unknown major version and skips records of a newer minor version', async () => {
    const path = tmp('v.spicedrec');
    await record(path, everyKind());
    const bytes = readFileSync(path);
    bytes[8] = 2;
    const v2 = tmp('v2.spicedrec');
    writeFileSync(v2, bytes);
    await expect(readAll(readSpicedRecording(v2))).rejects.toThrow(/format 2\.0 is not supported .*newer spiced/);

    // Minor 1 with an unknown record (tag 0x40, two payload bytes) between two known ones.
    const preamble = encodePreamble(
      { tool: 'test', version: '9', created: '', format: '1.1', source: 'handmade' },
      'gzip',
    );
    preamble[9] = 1;
    const body = Buffer.from([0x13, 0, 0, 0x40, 5, 2, 0xaa, 0xbb, 0x14, 1, 0, 0x7f, 0, 1, 2]);
    const minor = tmp('minor.spicedrec');
    writeFileSync(minor, Buffer.concat([preamble, gzipSync(body)]));
    const reader = new SpicedRecordingReader(minor);
    const got = await readAll(reader.commands());
    expect(got).toEqual([
      { timeNs: 0n, command: { kind: 'cursorHide' } },
      { timeNs: 6000n, command: { kind: 'cursorShow' } },
    ]);
    expect(reader.status).toMatchObject({ complete: true, skipped: 1 });
  });

  it('names the record when the data is corrupt', async () => {
    const path = tmp('bad.spicedrec');
    const preamble = encodePreamble(
      { tool: 'test', version: '9', created: '', format: '1.0', source: 'handmade' },
      'gzip',
    );
    // A fill record whose payload stops after the surface id.
    writeFileSync(path, Buffer.concat([preamble, gzipSync(Buffer.from([0x13, 0, 0, 0x03, 0, 1, 0]))]));
    await expect(readAll(readSpicedRecording(path))).rejects.toThrow(
      /record 1 \(tag 0x3\) at decompressed body offset 3: rect top runs past the end/,
    );
    // Damaged compressed bytes (not a truncation): an error, not a silently shorter recording.
    const good = tmp('good.spicedrec');
    await record(good, everyKind());
    const damaged = readFileSync(good);
    for (let i = damaged.length - 200; i < damaged.length - 100; i++) damaged[i] = (damaged[i] as number) ^ 0x5a;
    const bad = tmp('damaged.spicedrec');
    writeFileSync(bad, damaged);
    await expect(readAll(readSpicedRecording(bad))).rejects.toThrow(
      /brotli body is corrupt after record \d+|record \d+ \(tag/,
    );
    const notOurs = tmp('text.spicedrec');
    writeFileSync(notOurs, 'hello world, this is not a recording');
    await expect(readAll(readSpicedRecording(notOurs))).rejects.toThrow(/not a spiced recording/);
  });
});

describe('recordingSink (the tee)', () => {
  it('forwards every command and records it with the clock', async () => {
    const path = tmp('tee.spicedrec');
    const rec = await SessionRecorder.open(path, { source: 'tee test' });
    const inner = collectingSink();
    let t = 0n;
    const tee = recordingSink(inner, rec, () => (t += 2_000_000n));
    const commands = everyKind();
    sendAll(tee, commands);
    expect(inner.got).toEqual(commands);
    await rec.close();
    const back = await readAll(readSpicedRecording(path));
    expect(back.map((c) => normalize(c.command))).toEqual(commands.map(normalize));
    expect(back.map((c) => c.timeNs)).toEqual(commands.map((_, i) => BigInt(i + 1) * 2_000_000n));
  });

  it('survives a write error: reported once, recording stops, the session carries on', async () => {
    let writes = 0;
    const failing = new Writable({
      write(_chunk, _enc, cb): void {
        writes++;
        cb(writes >= 2 ? new Error('disk on fire') : null);
      },
    });
    const rec = SessionRecorder.create(failing, { source: 'tee test' }, { flushIntervalMs: 5 }, 'failing-stream');
    const errors: Error[] = [];
    const inner = collectingSink();
    const tee = recordingSink(inner, rec, undefined, (e) => errors.push(e));
    const commands = everyKind();
    for (let round = 0; round < 20; round++) {
      sendAll(tee, commands);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(inner.got.length).toBe(20 * commands.length);
    expect(errors.length).toBe(1);
    expect(errors[0]?.message).toMatch(/failing-stream: write failed: disk on fire/);
    expect(rec.recording).toBe(false);
    await rec.close();
  });

  it('reports a real I/O error (/dev/full) once', async (ctx) => {
    if (!existsSync('/dev/full')) ctx.skip('no /dev/full on this system');
    const errors: Error[] = [];
    const rec = await SessionRecorder.open('/dev/full', { source: 'full disk' }, { flushIntervalMs: 5 });
    const inner = collectingSink();
    const tee = recordingSink(inner, rec, undefined, (e) => errors.push(e));
    for (let i = 0; i < 10; i++) {
      sendAll(tee, everyKind());
      await new Promise((r) => setTimeout(r, 10));
    }
    // The kernel's ENOSPC comes back from the threadpool whenever it does; once, however many writes.
    await until('the write error', () => errors.length > 0);
    expect(errors.length).toBe(1);
    expect(errors[0]?.message).toMatch(/ENOSPC/);
    expect(inner.got.length).toBe(10 * everyKind().length);
  });

  it('a command the format cannot hold stops the recording, not the session', async () => {
    const path = tmp('bad-command.spicedrec');
    const rec = await SessionRecorder.open(path, { source: 'tee test' });
    const errors: Error[] = [];
    const inner = collectingSink();
    const tee = recordingSink(inner, rec, undefined, (e) => errors.push(e));
    tee.display({ kind: 'surfaceCreate', surfaceId: 0, width: 8, height: 8, primary: true });
    tee.display({ kind: 'fill', surfaceId: 0, rect: { top: 0.5, left: 0, bottom: 1, right: 1 }, color: 0 });
    tee.display({ kind: 'fill', surfaceId: 0, rect: { top: 0, left: 0, bottom: 1, right: 1 }, color: 0 });
    expect(inner.got.length).toBe(3);
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/cannot record a fill command \(record 1\): fill rect\.top: 0\.5/),
    ]);
    await rec.close();
    expect((await readAll(readSpicedRecording(path))).length).toBe(1);
  });

  it('stops with an error instead of buffering without bound when the disk stalls', async () => {
    const stalled = new Writable({ write: () => undefined });
    const errors: Error[] = [];
    const rec = SessionRecorder.create(
      stalled,
      { source: 'x' },
      { maxBacklogBytes: 1 << 20, onError: (e) => errors.push(e) },
      'stalled',
    );
    const frame = image(256, 256, 5);
    for (let i = 0; i < 200 && rec.recording; i++) {
      rec.write(BigInt(i), {
        kind: 'copy',
        surfaceId: 0,
        dest: { top: 0, left: 0, bottom: 256, right: 256 },
        image: frame,
      });
      await new Promise((r) => setImmediate(r));
    }
    expect(rec.recording).toBe(false);
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/stalled: \d+ MiB wait for the disk; recording stopped/),
    ]);
  });

  it('without an error handler, the failure is thrown by close()', async () => {
    const rec = SessionRecorder.create(
      new Writable({ write: (_c, _e, cb) => cb(new Error('nope')) }),
      { source: 'x' },
      {},
      'no-handler',
    );
    rec.write(0n, { kind: 'cursorHide' });
    await new Promise((r) => setTimeout(r, 20));
    await expect(rec.close()).rejects.toThrow(/no-handler: write failed: nope/);
  });
});

const HERE = fileURLToPath(new URL('.', import.meta.url));
const SAMPLES = join(HERE, '..', 'recordings');
const HAS_XZ = spawnSync('sh', ['-c', 'command -v xz'], { stdio: 'ignore' }).status === 0;

describe('unified reading', () => {
  /** A tiny SPICE_REPLAY recording: a 16x12 primary surface and one fill. */
  function replayBytes(): Buffer {
    return new RecordingWriter().createPrimary(16, 12).toBuffer();
  }

  it('detects both formats by content, plain, gzip and xz', async () => {
    const ours = tmp('ours.bin');
    await record(ours, everyKind());
    expect(await detectRecordingFormat(ours)).toBe('spiced');
    const plain = tmp('replay.bin');
    writeFileSync(plain, replayBytes());
    expect(await detectRecordingFormat(plain)).toBe('spice-replay');
    const gz = tmp('replay.spicerec.gz');
    writeFileSync(gz, gzipSync(replayBytes()));
    expect(await detectRecordingFormat(gz)).toBe('spice-replay');
    const want = (await readAll(readRecording(plain))).map((c) => normalize(c.command));
    expect(want.length).toBeGreaterThan(0);
    expect((await readAll(readRecording(gz))).map((c) => normalize(c.command))).toEqual(want);
    if (HAS_XZ) {
      const xz = tmp('replay-without-suffix');
      writeFileSync(xz, spawnSync('xz', ['-c'], { input: replayBytes() }).stdout);
      expect(await detectRecordingFormat(xz)).toBe('spice-replay');
      expect((await readAll(readRecording(xz))).map((c) => normalize(c.command))).toEqual(want);
    }
    const junk = tmp('junk');
    writeFileSync(junk, 'GIF89a not a recording');
    await expect(detectRecordingFormat(junk)).rejects.toThrow(/not a recording/);
  });

  it('renders our recordings through the Desktop', async () => {
    const path = tmp('render.spicedrec');
    const commands = everyKind();
    await record(path, commands);
    const frame = await renderRecording(path);
    const direct = new Desktop();
    sendAll(direct, commands);
    expect([frame.width, frame.height]).toEqual([64, 48]);
    expect(countRgbDifferences(frame, direct.primary!)).toBe(0); // the file holds what was sent
  });

  const samples = existsSync(SAMPLES) ? readdirSync(SAMPLES).filter((f) => /\.(spicedrec|spicerec\.xz)$/.test(f)) : [];
  it('has sample recordings', () => {
    expect(samples.length).toBeGreaterThanOrEqual(4);
  });
  for (const file of samples) {
    it.skipIf(file.endsWith('.xz') && !HAS_XZ)(
      `renders ${file} to its .png pixel for pixel${file.endsWith('.xz') && !HAS_XZ ? ' (skipped: xz not installed; apt-get install xz-utils)' : ''}`,
      async () => {
        const want = decodePng(readFileSync(join(SAMPLES, file.replace(/\.(spicedrec|spicerec\.xz)$/, '.png'))));
        const got = await renderRecording(join(SAMPLES, file));
        expect([got.width, got.height]).toEqual([want.width, want.height]);
        expect(countRgbDifferences(got, want)).toBe(0);
      },
    );
  }
});

/** A fake clock: sleeping advances time at once. */
function fakeClock(): PlaybackClock & { t: number } {
  const clock = {
    t: 0,
    now: (): number => clock.t,
    sleep: async (ms: number): Promise<void> => {
      clock.t += ms;
    },
  };
  return clock;
}

function timed(n: number, stepNs = 4_000_000n): TimedSeamCommand[] {
  return Array.from({ length: n }, (_, i) => ({
    timeNs: BigInt(i) * stepNs + (i % 3 === 0 ? 0n : 1_000_000n),
    command: { kind: 'cursorMove', x: i, y: 0 },
  }));
}

async function* stream(items: readonly TimedSeamCommand[]): AsyncGenerator<TimedSeamCommand> {
  yield* items;
}

describe('RecordingSource pacing', () => {
  it('asap plays every command in order and ends', async () => {
    const path = tmp('play.spicedrec');
    const commands = everyKind();
    await record(path, commands);
    const inner = collectingSink();
    let ended = 0;
    const source = new RecordingSource(path, { pace: 'asap', onEnd: () => ended++ });
    source.start(inner);
    await source.done;
    expect(inner.got.map(normalize)).toEqual(commands.map(normalize));
    expect(source.played).toBe(commands.length);
    expect(ended).toBe(1);
  });

  it('asap yields to the event loop while it plays', async () => {
    const inner = collectingSink();
    const source = new RecordingSource('mem', { pace: 'asap', yieldEvery: 10 }, () => stream(timed(1000)));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    source.start(inner);
    await source.done;
    clearInterval(timer);
    expect(inner.got.length).toBe(1000);
    expect(ticks).toBeGreaterThan(0);
  });

  it('n ms spacing on a fake clock', async () => {
    const clock = fakeClock();
    const at: number[] = [];
    const sink: DisplaySink = { display: () => undefined, cursor: () => at.push(clock.t) };
    const source = new RecordingSource('mem', { pace: 25, clock }, () => stream(timed(12)));
    source.start(sink);
    await source.done;
    expect(at).toEqual(Array.from({ length: 12 }, (_, i) => i * 25));
  });

  it('realtime follows the timestamps on a fake clock', async () => {
    const clock = fakeClock();
    const at: number[] = [];
    const items = timed(9);
    const sink: DisplaySink = { display: () => undefined, cursor: () => at.push(clock.t) };
    const source = new RecordingSource('mem', { pace: 'realtime', clock }, () => stream(items));
    source.start(sink);
    await source.done;
    expect(at).toEqual(items.map((c) => Number(c.timeNs) / 1e6));
  });

  it('n ms spacing on the real clock (coarse bounds)', async () => {
    const inner = collectingSink();
    const source = new RecordingSource('mem', { pace: 10 }, () => stream(timed(11)));
    const t0 = performance.now();
    source.start(inner);
    await source.done;
    const elapsed = performance.now() - t0;
    expect(inner.got.length).toBe(11);
    expect(elapsed).toBeGreaterThanOrEqual(90);
    expect(elapsed).toBeLessThan(5000);
  });

  it('loops until stopped, and stop() ends a long wait at once', async () => {
    const inner = collectingSink();
    let ended = 0;
    const source = new RecordingSource('mem', { pace: 'asap', loop: true, onEnd: () => ended++ }, () =>
      stream(timed(5)),
    );
    source.start(inner);
    while (source.loops < 3) await new Promise((r) => setImmediate(r));
    await source.stop();
    expect(inner.got.length).toBeGreaterThanOrEqual(10);
    expect(ended).toBe(0);

    const slow = new RecordingSource('mem', { pace: 60_000 }, () => stream(timed(3)));
    const t0 = performance.now();
    slow.start(collectingSink());
    await new Promise((r) => setTimeout(r, 20));
    await slow.stop();
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('preload decodes once and loops from memory; over budget it streams from the file', async () => {
    let reads = 0;
    const counted = (): AsyncGenerator<TimedSeamCommand> => {
      reads++;
      return stream(timed(7));
    };
    const loaded = new RecordingSource('mem', { pace: 'asap', loop: true }, counted);
    expect(await loaded.preload(1 << 20)).toBe(true);
    const inner = collectingSink();
    loaded.start(inner);
    while (loaded.loops < 3) await new Promise((r) => setImmediate(r));
    await loaded.stop();
    expect(reads).toBe(1);
    expect(inner.got.slice(0, 14).map(normalize)).toEqual([...timed(7), ...timed(7)].map((c) => normalize(c.command)));

    reads = 0;
    const big = new RecordingSource('mem', { pace: 'asap' }, counted);
    expect(await big.preload(3 * 128)).toBe(false); // 7 commands of ~128 bytes each do not fit
    const out = collectingSink();
    big.start(out);
    await big.done;
    expect(out.got.length).toBe(7);
    expect(reads).toBe(2);
  });

  it('a one-command loop in memory at a fixed pace still lets timers and I/O run', async () => {
    // Every pass starts at n = 0, due at once: nothing ever waits, so playback must yield by itself.
    const source = new RecordingSource('mem', { pace: 10, loop: true }, () => stream(timed(1)));
    expect(await source.preload(1 << 20)).toBe(true);
    source.start(collectingSink());
    // until() polls on a timer: it returns only if timers run while the loop plays.
    await until('a second pass', () => source.loops > 1);
    await source.stop();
  });

  it('an empty recording ends with an error instead of spinning', async () => {
    const errors: (Error | undefined)[] = [];
    const source = new RecordingSource('mem', { pace: 'asap', loop: true, onEnd: (e) => errors.push(e) }, () =>
      stream([]),
    );
    source.start(collectingSink());
    await source.done;
    expect(errors.map((e) => e?.message)).toEqual(['mem holds no commands']);
  });
});
