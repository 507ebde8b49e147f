import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunRecord, SummaryRow } from '../replay/report.js';
import { sockoptUnavailableReason } from '../src/transport/sockopt.js';
import { decodePng } from '../src/display/png.js';
import { sameRgb } from '../src/display/pixels.js';
import { tools } from './helpers/probes.js';
import { run, tempDir } from './helpers/tools.js';
import { sineTone } from '../src/audio/tones.js';
import { FRAME_SAMPLES } from '../src/audio/pcm.js';
import type { SeamCommand } from '../src/seam/index.js';
import { writeRecording } from '../src/sources/recording/index.js';

const dir = tempDir('spiced-replay-');
const SHARED = join(__dirname, '..', 'recordings');
const CLI = join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
const why = tools().netns || sockoptUnavailableReason();

describe('spiced render', () => {
  for (const name of ['xterm-type', 'image']) {
    it(`writes ${name}.spicerec.xz's final frame equal to its .png`, async () => {
      const out = join(dir, `${name}.png`);
      const r = await run(process.execPath, [CLI, 'render', join(SHARED, `${name}.spicerec.xz`), '-o', out], {
        timeoutMs: 60_000,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(sameRgb(decodePng(readFileSync(out)), decodePng(readFileSync(join(SHARED, `${name}.png`))))).toBe(true);
    });
  }
});

describe.skipIf(why !== '')(`spiced replay end to end in a network namespace${why ? ` - skipped: ${why}` : ''}`, () => {
  it('replays a recording: final frames match, TLS costs packets, cork saves them', async () => {
    const json = join(dir, 'replay.json');
    const svg = join(dir, 'replay.svg');
    const args = [
      CLI,
      'replay',
      join(SHARED, 'xterm-type.spicerec.xz'),
      '--mode',
      'plain,tls',
      '--tls-coalesce',
      'none,flush',
      '--cork',
      'off,on',
      '--runs',
      '1',
      '--pace',
      'lockstep',
      '--json',
      json,
      '--chart',
      svg,
    ];
    const r = await run(process.execPath, args, { timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/xterm-type\.spicerec\.xz tls\/flush\/cork-on: \d+ packets \d+ bytes/);
    const out = JSON.parse(readFileSync(json, 'utf8')) as { runs: RunRecord[]; summary: SummaryRow[] };
    expect(out.runs).toHaveLength(6);
    expect(out.runs.every((x) => x.frameMatch)).toBe(true);
    for (const x of out.runs) {
      expect(x).toMatchObject({ file: 'xterm-type.spicerec.xz', run: 1 });
      expect(x.channels.display!.packets).toBeGreaterThan(0);
      // The kernel's data packets against the fewest the flushes could have taken: never fewer,
      // and with cork on within 2 % of them (the stream layer wastes no packets).
      expect(x.dataPackets).toBeGreaterThanOrEqual(x.idealPackets);
      if (x.cork === 'on')
        expect(x.dataPackets, `${x.mode}/${x.coalesce}`).toBeLessThanOrEqual(Math.ceil(x.idealPackets * 1.02));
    }
    const pick = (mode: string, coalesce: string, cork: string): RunRecord =>
      out.runs.find((x) => x.mode === mode && (mode === 'plain' || x.coalesce === coalesce) && x.cork === cork)!;
    // Lockstep pacing gives every mode the same flushes: TLS can only add to them.
    expect(pick('tls', 'flush', 'on').packets).toBeGreaterThanOrEqual(pick('plain', '', 'on').packets);
    expect(pick('tls', 'flush', 'on').wireBytes).toBeGreaterThan(pick('plain', '', 'on').wireBytes);
    // spice-server's way (a record per iovec) needs the cork to keep records in few packets.
    expect(pick('tls', 'none', 'on').packets).toBeLessThan(pick('tls', 'none', 'off').packets);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg/);
  }, 200_000);

  it('counts the playback channel of a recording with sound on its own line', async () => {
    const file = join(dir, 'with-sound.spicedrec');
    const tone = sineTone(440, 1000, { amplitude: 0.4 });
    const commands: { timeNs: bigint; command: SeamCommand }[] = [
      { timeNs: 0n, command: { kind: 'surfaceCreate', surfaceId: 0, width: 320, height: 200, primary: true } },
      {
        timeNs: 0n,
        command: { kind: 'fill', surfaceId: 0, rect: { top: 0, left: 0, bottom: 200, right: 320 }, color: 0x204060 },
      },
      { timeNs: 0n, command: { kind: 'audioStart' } },
    ];
    for (let i = 0; i < 100; i++)
      commands.push({
        timeNs: BigInt(i * 10_000_000),
        command: { kind: 'audioFrame', pcm: tone.slice(i * FRAME_SAMPLES, (i + 1) * FRAME_SAMPLES) },
      });
    commands.push({ timeNs: 1_000_000_000n, command: { kind: 'audioStop' } });
    commands.push({
      timeNs: 1_000_000_000n,
      command: { kind: 'fill', surfaceId: 0, rect: { top: 10, left: 10, bottom: 50, right: 50 }, color: 0xff8000 },
    });
    await writeRecording(file, { source: 'test: a fill and a second of tone' }, commands);
    const json = join(dir, 'sound.json');
    const r = await run(
      process.execPath,
      [
        CLI,
        'replay',
        file,
        '--mode',
        'plain',
        '--runs',
        '1',
        '--pace',
        'realtime',
        '--channels',
        'display,cursor,playback',
        '--json',
        json,
      ],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/with-sound\.spicedrec plain\/cork-on \| playback \| \d+/);
    const out = JSON.parse(readFileSync(json, 'utf8')) as { runs: RunRecord[] };
    const playback = out.runs[0]!.channels.playback!;
    expect(playback.messages).toBeGreaterThanOrEqual(100); // MODE, START, 100 DATA, STOP
    expect(playback.payloadBytes).toBeGreaterThan(100 * 10);
    expect(out.runs[0]!.frameMatch).toBe(true);
  }, 90_000);
});
