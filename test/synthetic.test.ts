import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deliverCommand, type SeamCommand } from '../src/seam/index.js';
import { Desktop } from '../src/display/desktop.js';
import { packedImage, type PixelImage } from '../src/display/pixels.js';
import { rectContains, rectIsEmpty, type Rect } from '../src/protocol/geometry.js';
import { readSpicedRecording, renderRecording, writeRecording } from '../src/sources/recording/index.js';
import { generateOfficeSession, type TimedCommand } from '../src/sources/synthetic/index.js';
import { recordSynthetic } from '../src/cli/record.js';

const dir = mkdtempSync(join(tmpdir(), 'spiced-synth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A compact fingerprint of one command (images by a hash of their pixels). */
function fingerprint({ timeNs, command }: TimedCommand): string {
  const hash = (img: PixelImage): string => {
    const d = packedImage(img).data;
    let h = 2166136261;
    for (let i = 0; i < d.length; i++) h = Math.imul(h ^ (d[i] as number), 16777619);
    return `${img.width}x${img.height}:${(h >>> 0).toString(16)}`;
  };
  const body =
    command.kind === 'copy'
      ? { ...command, image: hash(command.image) }
      : command.kind === 'cursorSet'
        ? { kind: command.kind, id: command.shape.id, image: hash(command.shape.image) }
        : command;
  return `${timeNs} ${JSON.stringify(body)}`;
}

function rectOf(c: SeamCommand): Rect | undefined {
  switch (c.kind) {
    case 'fill':
      return c.rect;
    case 'copy':
    case 'copyBits':
    case 'blitSurface':
      return c.dest;
    default:
      return undefined;
  }
}

describe('generateOfficeSession', () => {
  it('is deterministic: same seed, same commands; another seed, another session', () => {
    const a = [...generateOfficeSession({ seconds: 45, seed: 7 })].map(fingerprint);
    const b = [...generateOfficeSession({ seconds: 45, seed: 7 })].map(fingerprint);
    const c = [...generateOfficeSession({ seconds: 45, seed: 8 })].map(fingerprint);
    expect(a.length).toBeGreaterThan(100);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('starts with the primary surface and a full picture, keeps time moving forward and inside the screen', () => {
    const commands = [...generateOfficeSession({ seconds: 30, width: 800, height: 600, seed: 3 })];
    expect(commands[0]?.command).toEqual({
      kind: 'surfaceCreate',
      surfaceId: 0,
      width: 800,
      height: 600,
      primary: true,
    });
    const screen: Rect = { top: 0, left: 0, bottom: 600, right: 800 };
    let last = 0n;
    let firstFramePixels = 0;
    for (const { timeNs, command } of commands) {
      expect(timeNs).toBeGreaterThanOrEqual(last);
      last = timeNs;
      const r = rectOf(command);
      if (r) {
        expect(rectIsEmpty(r)).toBe(false);
        expect(rectContains(screen, r), JSON.stringify(command.kind === 'copy' ? command.dest : command)).toBe(true);
      }
      if (timeNs === 0n && command.kind === 'copy') firstFramePixels += command.image.width * command.image.height;
    }
    expect(firstFramePixels).toBeGreaterThanOrEqual(800 * 600 * 0.9);
    expect(Number(last)).toBeLessThanOrEqual(30e9);
    expect(Number(last)).toBeGreaterThan(25e9);
  });

  it('rejects screens it cannot lay out', () => {
    expect(() => generateOfficeSession({ seconds: 1, width: 320, height: 200 }).next()).toThrow(/640x480/);
    expect(() => generateOfficeSession({ seconds: -1 }).next()).toThrow(/seconds/);
  });

  it('a 60 s session has realistic, small damage', async () => {
    const commands = [...generateOfficeSession({ seconds: 60, seed: 1 })];
    const screen = 1024 * 768;
    const later = commands.filter((c) => c.timeNs > 0n).map((c) => c.command);
    const copies = later.flatMap((c) => (c.kind === 'copy' ? [c.image.width * c.image.height] : []));
    const copyPixels = copies.reduce((a, b) => a + b, 0);
    const kinds = new Set(later.map((c) => c.kind));
    const path = join(dir, 'sixty.spicedrec');
    const { bytes } = await writeRecording(path, { source: 'test' }, commands);
    const firstFrame = await writeRecording(
      join(dir, 'first.spicedrec'),
      { source: 'test' },
      commands.filter((c) => c.timeNs === 0n),
    );
    console.log(
      `synthetic 60 s (seed 1): ${commands.length} commands, ${copies.length} copies after the first frame carrying ${copyPixels} pixels ` +
        `(${((100 * copyPixels) / screen).toFixed(1)}% of a screen), recording ${bytes} bytes/min (${firstFrame.bytes} of them the first frame)`,
    );
    // Office work touches a fraction of the screen per minute, in small pieces.
    expect(copyPixels).toBeLessThan(screen);
    expect(Math.max(...copies)).toBeLessThan(screen / 8);
    expect(copies.filter((p) => p <= 16 * 16).length).toBeGreaterThan(copies.length / 3);
    expect(kinds).toContain('cursorMove');
    expect(kinds).toContain('fill');
    expect(bytes).toBeLessThan(150_000);
    // Typing pace: pauses of a second or more happen (thinking), and commands are spread over the minute.
    const times = commands.map((c) => Number(c.timeNs) / 1e6);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(gaps.filter((g) => g >= 1000).length).toBeGreaterThan(0);
    expect(new Set(times.map((t) => Math.floor(t / 10_000))).size).toBeGreaterThanOrEqual(5);
  });

  it('ten minutes: generated in seconds, every kind of activity shows up, and it replays to the same frame', async () => {
    const t0 = performance.now();
    const desktop = new Desktop();
    const shapes = new Set<number>();
    const kinds = new Map<string, number>();
    let n = 0;
    for (const { command } of generateOfficeSession({ seconds: 600, seed: 1 })) {
      n++;
      kinds.set(command.kind, (kinds.get(command.kind) ?? 0) + 1);
      if (command.kind === 'cursorSet') shapes.add(command.shape.id);
      deliverCommand(desktop, command);
    }
    const ms = performance.now() - t0;
    console.log(
      `synthetic 10 min (seed 1): ${n} commands generated and applied in ${Math.round(ms)} ms; ${JSON.stringify(Object.fromEntries(kinds))}`,
    );
    expect(ms).toBeLessThan(20_000);
    expect(kinds.get('copyBits') ?? 0).toBeGreaterThan(0);
    expect(kinds.get('cursorHide') ?? 0).toBeGreaterThan(0);
    expect(shapes.size).toBeGreaterThanOrEqual(3);

    const path = join(dir, 'ten.spicedrec');
    const { commands, bytes } = await recordSynthetic({
      output: path,
      seconds: 600,
      seed: 1,
      width: 1024,
      height: 768,
    });
    console.log(`synthetic 10 min recording: ${bytes} bytes, ${Math.round(bytes / 10)} bytes/min`);
    expect(commands).toBe(n);
    const frame = await renderRecording(path);
    const live = desktop.primary;
    expect(live).toBeDefined();
    expect(Buffer.compare(packedImage(frame).data, packedImage(live as PixelImage).data)).toBe(0);
    let read = 0;
    for await (const _ of readSpicedRecording(path)) read++;
    expect(read).toBe(n);
  });
});
