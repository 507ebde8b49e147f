import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DesktopWatch, type Drawn } from '../bench/session-desktop.js';
import { startXvfb, type XvfbHandle } from '../src/sources/x11/xvfb.js';
import { lacking, skipNote } from './helpers/probes.js';

/*
 * The soak's desktop side counts as updates only drawings that changed pixels
 * (bench/session-changes.ts): xsetroot repaints the root window, with the same colour (damage,
 * no change) or another one.
 */

const run = promisify(execFile);
const why = lacking('Xvfb', 'xsetroot');

/** Paint the root window in `color` and return the damage entries it caused, once all are judged. */
async function paint(xvfb: XvfbHandle, watch: DesktopWatch, color: string): Promise<Drawn[]> {
  await run('xsetroot', ['-solid', color], { env: { ...process.env, DISPLAY: xvfb.display } });
  const seen: Drawn[] = [];
  const deadline = Date.now() + 5000;
  // The events may still be on their way when xsetroot exits, and each is judged after a read.
  while (Date.now() < deadline) {
    seen.push(...watch.take());
    if (seen.length > 0 && seen.every((d) => d.changed !== undefined)) return seen;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no judged damage after xsetroot -solid ${color} (${seen.length} entries)`);
}

describe.skipIf(why !== '')(`the soak's desktop judge${skipNote(why)}`, () => {
  let xvfb: XvfbHandle;
  let watch: DesktopWatch;

  beforeAll(async () => {
    xvfb = await startXvfb({ size: '320x240' });
    watch = await DesktopWatch.open(xvfb.display);
  });

  afterAll(async () => {
    watch?.close();
    await xvfb?.stop();
  });

  it('leaves drawings unjudged until asked', async () => {
    await run('xsetroot', ['-solid', '#000000'], { env: { ...process.env, DISPLAY: xvfb.display } });
    await new Promise((r) => setTimeout(r, 200));
    const drawn = watch.take();
    expect(drawn.length).toBeGreaterThan(0);
    expect(drawn.every((d) => d.changed === undefined)).toBe(true);
  });

  it('tells a repaint of the same pixels from a change', async () => {
    await watch.judgeChanges();
    const first = await paint(xvfb, watch, '#102030');
    expect(first.some((d) => d.changed === true)).toBe(true);
    const again = await paint(xvfb, watch, '#102030');
    expect(again.map((d) => d.changed)).toEqual(again.map(() => false));
    const other = await paint(xvfb, watch, '#405060');
    expect(other.some((d) => d.changed === true)).toBe(true);
    watch.stopJudging();
  });
});
