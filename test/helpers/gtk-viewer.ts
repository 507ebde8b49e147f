import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'vitest';
import type { PixelImage } from '../../src/display/pixels.js';
import { SYSTEM_PYTHON } from './probes.js';
import { readImage } from './tools.js';

/* spice-gtk (SpiceClientGLib through GObject introspection, what remote-viewer uses) as a test viewer. */

const VIEWER = join(__dirname, 'spice-gtk-video.py');

/** The spice-gtk viewer: resolves once it shows the first frame; shot() saves its picture. */
export function gtkViewer(
  port: number,
): Promise<{ shot: (path: string) => Promise<PixelImage>; log: () => string; child: ChildProcess }> {
  const child = spawn(SYSTEM_PYTHON, [VIEWER, '--port', String(port)], { env: { ...process.env, SPICE_DEBUG: '1' } });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const lines = createInterface({ input: child.stdout });
  const waiting: Array<(line: string) => void> = [];
  // GLib prints its debug lines (SPICE_DEBUG) on stdout too: only the helper's own answers are answers.
  lines.on('line', (line) => {
    if (/^(ready|saved |error )/.test(line)) waiting.shift()?.(line);
    else log += line + '\n';
  });
  const next = (): Promise<string> => new Promise((resolve) => waiting.push(resolve));
  const shot = async (path: string): Promise<PixelImage> => {
    const saved = next();
    child.stdin.write(`shot ${path}\n`);
    expect(await saved).toBe(`saved ${path}`);
    return readImage(path);
  };
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`viewer exited (${code}): ${log.slice(-2000)}`)));
    void next().then((line) => (line === 'ready' ? resolve({ shot, log: () => log, child }) : reject(new Error(line))));
  });
}
