import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { netnsSupport } from '../replay/netns.js';
import type { RunRecord, SummaryRow } from '../replay/report.js';
import { sockoptUnavailableReason } from '../src/transport/sockopt.js';
import { decodePng } from '../src/util/png.js';
import { sameRgb } from '../src/display/pixels.js';
import { run, tempDir } from './helpers/tools.js';

const dir = tempDir('spiced-replay-');
const SHARED = join(__dirname, '..', '..', 'shared', 'recordings');
const CLI = join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
const ns = netnsSupport();
const why = !ns.ok ? ns.reason : sockoptUnavailableReason();

describe('spiced render', () => {
  for (const name of ['xterm-type', 'image']) {
    it(`writes ${name}.spicerec.xz's final frame equal to its .png`, async () => {
      const out = join(dir, `${name}.png`);
      const r = await run(process.execPath, [CLI, 'render', join(SHARED, `${name}.spicerec.xz`), '-o', out], { timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(sameRgb(decodePng(readFileSync(out)), decodePng(readFileSync(join(SHARED, `${name}.png`))))).toBe(true);
    });
  }
});

describe.skipIf(why !== '')(`spiced replay end to end in a network namespace${why ? ` - skipped: ${why}` : ''}`, () => {
  it('replays a recording: final frames match, TLS costs packets, cork saves them', async () => {
    const json = join(dir, 'replay.json');
    const svg = join(dir, 'replay.svg');
    const args = [CLI, 'replay', join(SHARED, 'xterm-type.spicerec.xz'), '--mode', 'plain,tls', '--tls-coalesce', 'none,flush', '--cork', 'off,on', '--runs', '1', '--pace', 'lockstep', '--json', json, '--chart', svg];
    const r = await run(process.execPath, args, { timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/xterm-type\.spicerec\.xz tls\/flush\/cork-on: \d+ packets \d+ bytes/);
    const out = JSON.parse(readFileSync(json, 'utf8')) as { runs: RunRecord[]; summary: SummaryRow[] };
    expect(out.runs).toHaveLength(6);
    expect(out.runs.every((x) => x.frameMatch)).toBe(true);
    for (const x of out.runs) {
      expect(x).toMatchObject({ file: 'xterm-type.spicerec.xz', run: 1 });
      expect(x.channels.display!.packets).toBeGreaterThan(0);
      expect(x.wireBytes).toBe(x.payloadBytes + 66 * x.packets);
    }
    const pick = (mode: string, coalesce: string, cork: string): RunRecord => out.runs.find((x) => x.mode === mode && (mode === 'plain' || x.coalesce === coalesce) && x.cork === cork)!;
    // Lockstep pacing gives every mode the same flushes: TLS can only add to them.
    expect(pick('tls', 'flush', 'on').packets).toBeGreaterThanOrEqual(pick('plain', '', 'on').packets);
    expect(pick('tls', 'flush', 'on').wireBytes).toBeGreaterThan(pick('plain', '', 'on').wireBytes);
    // spice-server's way (a record per iovec) needs the cork to keep records in few packets.
    expect(pick('tls', 'none', 'on').packets).toBeLessThan(pick('tls', 'none', 'off').packets);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg/);
  }, 200_000);
});
