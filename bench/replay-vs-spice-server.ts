/**
 * `asap` replay over TLS, spiced against spice-server, side by side in one run: each server runs
 * as its own process, plays the same recording as fast as it can from the moment the viewer's
 * display is up, and the same client (the project's, over TLS, display + cursor) waits for the
 * recording's final frame. Reported: wall time from connect to the final frame, and the server
 * process's CPU seconds over that span (from /proc/PID/stat).
 *
 *   node dist/bench/replay-vs-spice-server.js --spice-replay /tmp/anchor/build/spice-replay-anchor \
 *       [--runs 3] [--sides spiced,spice-server] FILE.spicerec.xz...
 *
 * spice-server's side is its `spice-replay` tool, patched and built as docs/replay.md describes, with
 * `-c auto_lz` (QUIC for photos, LZ otherwise: what this
 * client decodes; GLZ is spice-gtk only). Both read the same uncompressed copy of the recording
 * and listen on 127.0.0.1 only.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SpiceClient } from '../src/client/client.js';
import { sameRgb, type PixelImage } from '../src/display/pixels.js';
import { ChannelType } from '../src/protocol/constants.js';
import { makeCertificates, writeCertificates } from '../src/server/certs.js';
import { decodePng } from '../src/display/png.js';
import { freePort, median, procCpuMs } from './common.js';
import { tmpdir } from 'node:os';

export interface SideResult {
  /**
   * spiced decoding the recording before the viewer comes; the same without warming its display
   * paths or rehearsing at start (the first frames then run in V8's interpreter); spiced reading the recording
   * as it plays (as spice-replay does); or spice-server.
   */
  server: Side;
  file: string;
  run: number;
  wallMs: number;
  cpuMs: number;
  bytes: number;
}

const SIDES = ['spiced', 'spiced (no warm-up)', 'spiced (streaming)', 'spice-server'] as const;
type Side = (typeof SIDES)[number];

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/**
 * spiced decodes the whole recording before it listens (--preload-mb): a 25 MB recording took more
 * than 15 s on a machine loaded ten times over, so the wait is generous.
 */
function waitForPort(port: number, child: ChildProcess, timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const attempt = (): void => {
      if (child.exitCode !== null) return reject(new Error(`server exited with ${child.exitCode}`));
      const s = spawnSync('sh', ['-c', `ss -ltnH "( sport = :${port} )" | grep -q .`]);
      if (s.status === 0) return resolve();
      if (Date.now() > deadline) return reject(new Error(`port ${port} never opened`));
      setTimeout(attempt, 50);
    };
    attempt();
  });
}

/** A plain copy of an .xz recording (spice-replay reads uncompressed files only). */
function plainRecording(file: string, dir: string): string {
  if (!file.endsWith('.xz')) return file;
  const out = join(dir, file.split('/').pop()!.replace(/\.xz$/, ''));
  if (!existsSync(out)) writeFileSync(out, spawnSync('xz', ['-dc', file], { maxBuffer: 1 << 30 }).stdout);
  return out;
}

/** One side once; a server that exits before it listens (a port taken meanwhile) is started again, twice at most. */
async function oneRun(
  side: Side,
  file: string,
  run: number,
  expected: PixelImage,
  certDir: string,
  ca: string,
  spiceReplay: string,
  tmp: string,
  attempt = 1,
): Promise<SideResult> {
  const port = await freePort();
  const tls = await freePort();
  const args =
    side !== 'spice-server'
      ? ([
          process.execPath,
          [
            CLI,
            'serve',
            '--play',
            plainRecording(file, tmp),
            '--pace',
            'asap',
            '--wait-for-viewer',
            '--preload-mb',
            side === 'spiced (streaming)' ? '0' : '256',
            ...(side === 'spiced (no warm-up)' ? ['--no-warm-up', '--no-rehearsal'] : []),
            '--port',
            String(port),
            '--tls-port',
            String(tls),
            '--tls-dir',
            certDir,
            '--no-sound',
            '--no-web',
            '--log-level',
            'warn',
          ],
        ] as const)
      : ([
          spiceReplay,
          [
            '-p',
            String(port),
            '-t',
            String(tls),
            '-x',
            certDir,
            '-c',
            'auto_lz',
            '--slow',
            '0',
            '--linger',
            '-1',
            plainRecording(file, tmp),
          ],
        ] as const);
  const child = spawn(args[0], args[1], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    try {
      await waitForPort(tls, child);
    } catch (err) {
      if (child.exitCode === null || attempt >= 3)
        throw new Error(`${side} on ${file}: ${err instanceof Error ? err.message : String(err)}: ${stderr.trim()}`);
      process.stderr.write(`${side} exited before listening (${stderr.trim()}); starting it again\n`);
      return await oneRun(side, file, run, expected, certDir, ca, spiceReplay, tmp, attempt + 1);
    }
    const cpu0 = procCpuMs(child.pid!);
    const t0 = performance.now();
    const client = new SpiceClient({ port: tls, tls: { ca }, channels: [ChannelType.Display, ChannelType.Cursor] });
    await client.connect();
    await client.waitFor(
      () => !!client.display.primary && sameRgb(client.display.primary, expected),
      120_000,
      `the final frame of ${file}`,
    );
    const wallMs = performance.now() - t0;
    const cpuMs = procCpuMs(child.pid!) - cpu0;
    const bytes = [...client.channels.values()].reduce((n, c) => n + c.stats.bytes, 0);
    client.close();
    return { server: side, file: file.split('/').pop()!, run, wallMs, cpuMs, bytes };
  } finally {
    child.kill('SIGKILL');
  }
}

export async function runReplayComparison(
  files: string[],
  spiceReplay: string,
  runs: number,
  sides: readonly Side[] = SIDES,
): Promise<SideResult[]> {
  const tmp = mkdtempSync(join(tmpdir(), 'spiced-vs-'));
  const certDir = join(tmp, 'certs');
  const material = await makeCertificates(['127.0.0.1']);
  await writeCertificates(certDir, material);
  const out: SideResult[] = [];
  try {
    for (const file of files) {
      const png = file.replace(/\.(spicerec|spicedrec)(\.xz)?$/, '.png');
      const expected = decodePng(readFileSync(png));
      for (let run = 1; run <= runs; run++) {
        // Alternate the order so neither side always runs on a warmer machine.
        const order = run % 2 ? [...sides] : [...sides].reverse();
        for (const side of order)
          out.push(await oneRun(side, file, run, expected, certDir, material.ca, spiceReplay, tmp));
      }
    }
    return out;
  } finally {
    // The uncompressed copies of the recordings are tens of MB.
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function formatComparison(results: SideResult[]): string {
  const lines = [
    "asap over TLS to the final frame (medians; client: spiced's own, display + cursor)",
    'recording                server               wall ms   server CPU ms   bytes',
  ];
  for (const file of [...new Set(results.map((r) => r.file))]) {
    for (const server of SIDES) {
      const rs = results.filter((r) => r.file === file && r.server === server);
      if (rs.length === 0) continue;
      lines.push(
        `${file.padEnd(24)} ${server.padEnd(19)} ${median(rs.map((r) => r.wallMs))
          .toFixed(0)
          .padStart(7)}   ${median(rs.map((r) => r.cpuMs))
          .toFixed(0)
          .padStart(13)}   ${median(rs.map((r) => r.bytes))}`,
      );
    }
  }
  return lines.join('\n');
}

/** `--sides spiced,spice-server`: the sides to run (all four by default). */
function parseSides(list: string | undefined): readonly Side[] {
  if (list === undefined) return SIDES;
  const sides = list.split(',').map((s) => s.trim());
  for (const s of sides)
    if (!(SIDES as readonly string[]).includes(s)) throw new Error(`unknown side ${s}: one of ${SIDES.join(', ')}`);
  return sides as Side[];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const v = args[i + 1];
    args.splice(i, 2);
    return v;
  };
  const bin = flag('--spice-replay') ?? '/tmp/anchor/build/spice-replay-anchor';
  const runs = Number(flag('--runs') ?? 3);
  const sides = parseSides(flag('--sides'));
  if (!existsSync(bin))
    throw new Error(`no spice-replay at ${bin}: build it as docs/replay.md describes or give --spice-replay PATH`);
  const files =
    args.length > 0
      ? args
      : ['image', 'xterm-type', 'xterm-scroll', 'xclock-xeyes'].map((n) =>
          join(fileURLToPath(new URL('../../recordings/', import.meta.url)), `${n}.spicerec.xz`),
        );
  process.stdout.write(formatComparison(await runReplayComparison(files, bin, runs, sides)) + '\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
