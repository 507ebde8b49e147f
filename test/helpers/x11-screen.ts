import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import type { CursorCommand, DisplayCommand, DisplaySink } from '../../src/seam/index.js';
import { Surface } from '../../src/display/surface.js';

/*
 * A sink that keeps the surfaces an X11 source draws, and a comparison of its primary surface with
 * the X screen as ImageMagick's `import -window root` captures it (an independent X client).
 */

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class SurfaceSink implements DisplaySink {
  readonly surfaces = new Map<number, Surface>();
  readonly creates: { width: number; height: number }[] = [];
  readonly counts: Record<string, number> = {};
  readonly moves: { x: number; y: number }[] = [];
  shapes = 0;
  primary = 0;

  get surface(): Surface {
    const s = this.surfaces.get(this.primary);
    if (!s) throw new Error('no primary surface yet');
    return s;
  }

  display(cmd: DisplayCommand): void {
    this.counts[cmd.kind] = (this.counts[cmd.kind] ?? 0) + 1;
    switch (cmd.kind) {
      case 'surfaceCreate':
        this.surfaces.set(cmd.surfaceId, new Surface(cmd.surfaceId, cmd.width, cmd.height));
        if (cmd.primary) this.primary = cmd.surfaceId;
        this.creates.push({ width: cmd.width, height: cmd.height });
        return;
      case 'surfaceDestroy':
        this.surfaces.delete(cmd.surfaceId);
        return;
      case 'fill':
        this.get(cmd.surfaceId).fill(cmd.rect, cmd.color);
        return;
      case 'copy':
        this.get(cmd.surfaceId).putImage(cmd.dest, cmd.image, cmd.src);
        return;
      case 'copyBits':
        this.get(cmd.surfaceId).copyBits(cmd.src, cmd.dest);
        return;
      case 'blitSurface':
        this.get(cmd.surfaceId).blitFrom(this.get(cmd.srcSurfaceId), cmd.src, cmd.dest);
        return;
    }
  }

  cursor(cmd: CursorCommand): void {
    if (cmd.kind === 'cursorSet') this.shapes++;
    if (cmd.kind === 'cursorMove') this.moves.push({ x: cmd.x, y: cmd.y });
  }

  private get(id: number): Surface {
    const s = this.surfaces.get(id);
    if (!s) throw new Error(`no surface ${id}`);
    return s;
  }
}

/** Parse a binary PPM (P6, maxval 255) into RGB bytes. */
function parsePpm(buf: Buffer): { width: number; height: number; rgb: Buffer } {
  let pos = 0;
  const token = (): string => {
    for (;;) {
      while (/\s/.test(String.fromCharCode(buf[pos]!))) pos++;
      if (buf[pos] !== 0x23) break; // '#' comment
      while (buf[pos] !== 0x0a) pos++;
    }
    const start = pos;
    while (!/\s/.test(String.fromCharCode(buf[pos]!))) pos++;
    return buf.toString('latin1', start, pos);
  };
  if (token() !== 'P6') throw new Error('not a P6 PPM');
  const width = Number(token());
  const height = Number(token());
  if (token() !== '255') throw new Error('PPM maxval is not 255');
  pos++; // the single whitespace after maxval
  return { width, height, rgb: buf.subarray(pos, pos + width * height * 3) };
}

export async function screenshot(
  display: string,
  xauthority?: string,
): Promise<{ width: number; height: number; rgb: Buffer }> {
  const env = { ...process.env, DISPLAY: display, ...(xauthority ? { XAUTHORITY: xauthority } : {}) };
  const { stdout } = await run('import', ['-display', display, '-window', 'root', '-depth', '8', 'ppm:-'], {
    env,
    encoding: 'buffer',
    maxBuffer: 64 << 20,
  });
  return parsePpm(stdout);
}

/** Number of pixels whose RGB differs between the surface and the screenshot (-1: size differs). */
function differences(surface: Surface, shot: { width: number; height: number; rgb: Buffer }): number {
  if (surface.width !== shot.width || surface.height !== shot.height) return -1;
  let n = 0;
  for (let i = 0; i < shot.width * shot.height; i++) {
    const s = i * 4;
    const p = i * 3;
    if (
      surface.data[s + 2] !== shot.rgb[p] ||
      surface.data[s + 1] !== shot.rgb[p + 1] ||
      surface.data[s] !== shot.rgb[p + 2]
    )
      n++;
  }
  return n;
}

/** Wait until the surface equals the X screen (the screen must also stay still between the two looks). */
export async function expectSurfaceMatches(sink: SurfaceSink, display: string, xauthority?: string): Promise<void> {
  let last = -2;
  await until(
    'surface to equal `import -window root`',
    async () => {
      const shot = await screenshot(display, xauthority);
      await sleep(150); // give a frame (33 ms) and its capture time to catch up
      last = differences(sink.surface, shot);
      return last === 0 ? true : undefined;
    },
    10_000,
    50,
  );
  expect(last).toBe(0);
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs: number,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
