import { copyFile, mkdir, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Desktop } from '../../display/desktop.js';
import { encodePng } from '../../display/png.js';
import { DemoSource } from '../demo/index.js';
import { generateOfficeSession } from '../synthetic/index.js';
import { deliverCommand } from '../../seam/index.js';
import { usKeyFor } from '../../protocol/us-keys.js';
import { recordingSink, SessionRecorder } from './spiced-format/index.js';

/*
 * The project's sample recordings (recordings/README.md says how each was made):
 *   xterm-scroll, xclock-xeyes  SPICE_REPLAY files recorded from Xspice by a colleague (copied)
 *   demo-10s                    the demo desktop, 10 simulated seconds at 30 frames/s, with typing
 *   office-10min                a synthetic office session, seed 1, 1024x768
 * Each comes with its final frame as PNG. Our recordings are made through recordingSink over a
 * Desktop, exactly as `spiced serve --record` tees a live session; the PNG is that live Desktop's
 * primary surface, so rendering the file must reproduce it.
 */

export interface SampleReport {
  file: string;
  bytes: number;
  /** Command records (our recordings only). */
  commands?: number;
  note?: string;
}

const PEER_SAMPLES = ['xterm-scroll', 'xclock-xeyes'];
/** A fixed wall-clock start for the demo (its clock and `date` show local time: run with TZ=UTC to reproduce). */
const DEMO_START_MS = Date.UTC(2025, 2, 14, 9, 30, 0);
const DEMO_FPS = 30;

/**
 * Make (or refresh) every sample in `dir`; peers' recordings are copied from `peersDir` when it has
 * them. Run by the command in recordings/README.md.
 * @public
 */
export async function makeSampleRecordings(dir: string, peersDir: string): Promise<SampleReport[]> {
  await mkdir(dir, { recursive: true });
  const out: SampleReport[] = [];
  for (const name of PEER_SAMPLES) out.push(await copyPeerSample(dir, peersDir, name));
  out.push(await recordDemoSample(join(dir, 'demo-10s.spicedrec'), 10));
  out.push(await recordOfficeSample(join(dir, 'office-10min.spicedrec'), 600, 1));
  return out;
}

async function copyPeerSample(dir: string, peersDir: string, name: string): Promise<SampleReport> {
  const file = join(dir, `${name}.spicerec.xz`);
  const from = join(peersDir, `${name}.spicerec.xz`);
  if (!existsSync(from)) {
    if (!existsSync(file)) throw new Error(`sample ${name}: neither ${from} nor ${file} exists`);
    return { file, bytes: (await stat(file)).size, note: `kept (no ${from} here)` };
  }
  await copyFile(from, file);
  await copyFile(join(peersDir, `${name}.png`), join(dir, `${name}.png`));
  return { file, bytes: (await stat(file)).size, note: `copied from ${peersDir}` };
}

/** What happens in the demo session, by frame: keys typed into the terminal, a click, a paint stroke. */
function demoScript(demo: DemoSource, frame: number): void {
  const typed = 'fortune\necho recorded by spiced\nls\n';
  const at = frame - 20;
  // One key every 4 frames (~7.5 keys/s), down and up in the same frame.
  if (at >= 0 && at % 4 === 0 && at / 4 < typed.length) {
    const code = usKeyFor(typed[at / 4]!)?.scancode;
    if (code === undefined) throw new Error(`demo script: no scancode for ${JSON.stringify(typed[at / 4])}`);
    demo.input({ kind: 'key', scancode: code, down: true });
    demo.input({ kind: 'key', scancode: code, down: false });
  }
  const w = demo.windowRect;
  if (frame === 200)
    demo.input({ kind: 'button', button: 1, down: true, x: w.left + 40, y: w.bottom - 30, buttons: 1 });
  if (frame === 203)
    demo.input({ kind: 'button', button: 1, down: false, x: w.left + 40, y: w.bottom - 30, buttons: 0 });
  // A short brush stroke on the wallpaper, right of the terminal, below the photo.
  const { width, desktop } = demo.layout;
  const sx = Math.round(width * 0.8);
  const sy = Math.round(desktop.h * 0.72);
  if (frame === 230) demo.input({ kind: 'button', button: 1, down: true, x: sx, y: sy, buttons: 1 });
  if (frame > 230 && frame < 260)
    demo.input({
      kind: 'pointer',
      x: sx + (frame - 230) * 3,
      y: sy + Math.round(12 * Math.sin((frame - 230) / 5)),
      buttons: 1,
    });
  if (frame === 260) demo.input({ kind: 'button', button: 1, down: false, x: sx + 90, y: sy, buttons: 0 });
}

/** The demo desktop driven by a fake clock, recorded through the tee over a Desktop. */
export async function recordDemoSample(path: string, seconds: number): Promise<SampleReport> {
  let now = DEMO_START_MS;
  const demo = new DemoSource({ width: 1024, height: 768, fps: 0, now: () => now });
  const desktop = new Desktop();
  const recorder = await SessionRecorder.open(path, {
    source: 'demo',
    width: 1024,
    height: 768,
    description:
      `DemoSource({ fps: 0 }) driven by a fake clock from ${new Date(DEMO_START_MS).toISOString()}, ` +
      `${DEMO_FPS} frames per simulated second for ${seconds} s, typing into the terminal, a click and a brush stroke`,
  });
  const sink = recordingSink(desktop, recorder, () => BigInt(now - DEMO_START_MS) * 1_000_000n);
  demo.start(sink);
  for (let frame = 1; frame <= seconds * DEMO_FPS; frame++) {
    now = DEMO_START_MS + Math.round((frame * 1000) / DEMO_FPS);
    demoScript(demo, frame);
    demo.renderFrame();
  }
  demo.stop();
  await recorder.close();
  return finishSample(path, desktop, recorder);
}

/** A synthetic office session, recorded through the tee over a Desktop like a live one. */
async function recordOfficeSample(path: string, seconds: number, seed: number): Promise<SampleReport> {
  const desktop = new Desktop();
  const recorder = await SessionRecorder.open(path, {
    source: `synthetic office (seed ${seed})`,
    width: 1024,
    height: 768,
    description: `generateOfficeSession({ seconds: ${seconds}, width: 1024, height: 768, seed: ${seed} })`,
  });
  let timeNs = 0n;
  const sink = recordingSink(desktop, recorder, () => timeNs);
  for (const c of generateOfficeSession({ seconds, width: 1024, height: 768, seed })) {
    timeNs = c.timeNs;
    deliverCommand(sink, c.command);
  }
  await recorder.close();
  return finishSample(path, desktop, recorder);
}

async function finishSample(path: string, desktop: Desktop, recorder: SessionRecorder): Promise<SampleReport> {
  const frame = desktop.primary;
  if (!frame) throw new Error(`${path}: the session left no primary surface`);
  await writeFile(path.replace(/\.spicedrec$/, '.png'), encodePng(frame));
  return { file: path, bytes: (await stat(path)).size, commands: recorder.recordCount };
}
