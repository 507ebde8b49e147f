/**
 * The video bench's clip, made at bench time: ffmpeg pans across a photograph (XFCE's wallpaper)
 * with film grain so no two frames repeat, 640x360 at 25 fps, and writes each frame's number into a
 * stripe along its top edge: ten 64x16 cells, one bit each, lowest first. A cell's two halves (rows
 * 0-7 and 8-15) are lightened and darkened half way, top light for a 1, bottom light for a 0, and
 * the grain goes over them: the stripe stays photo-like, so a server that streams the video streams
 * it too (a flat black and white bar would be sent apart, as the UI it looks like), and it reads
 * back by comparing the halves, whatever the photograph beneath and after JPEG at low quality (the
 * halves are whole 8x8 blocks). Whoever sees a frame (the desktop, a viewer's stream frame, a
 * viewer's framebuffer) can tell which frame it is, so a frame's latency is measured from the moment
 * the desktop drew it to the moment a viewer got it, the same way for every server.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * 40 s: no frame comes twice within a run (4 s of warm-up, the measured seconds, the final frame).
 * With the 12 s clip looping, an 8 s run paused on a frame the viewer had been sent losslessly
 * 12 s before, still in its image cache: the final frame came as a 75-byte FROM_CACHE and looked
 * fast. Frame numbers have 10 bits: at most 1024 frames.
 */
export const CLIP = { width: 640, height: 360, fps: 25, seconds: 40 } as const;
const PHOTO = '/usr/share/backgrounds/xfce/xfce-teal.jpg';
/** The frame-number stripe: CODE_CELLS cells of CELL_W x CODE_H at the top of the frame. */
const CODE_CELLS = 10;
const CELL_W = 64;
export const CODE_H = 16;

/** ffmpeg's drawbox filters for the stripe: per cell, the light half above the dark one for a 1 bit, below for a 0. */
function stripeFilters(): string {
  const half = CODE_H / 2;
  const box = (i: number, top: number, color: string, bit: 0 | 1): string =>
    `drawbox=x=${i * CELL_W}:y=${top}:w=${CELL_W}:h=${half}:color=${color}@0.5:t=fill:` +
    `enable='eq(mod(floor(n/${2 ** i})\\,2)\\,${bit})'`;
  const cells = Array.from({ length: CODE_CELLS }, (_, i) => [
    box(i, 0, 'white', 1),
    box(i, half, 'black', 1),
    box(i, 0, 'black', 0),
    box(i, half, 'white', 0),
  ]);
  return cells.flat().join(',');
}

/**
 * The film grain's strength (ffmpeg's noise filter, per pixel and per frame): what makes the paused
 * frame's lossless encoding large (461 kB of QUIC at 12, 1.84 s of a 2 Mbit/s link). The bench's
 * `--grain N` plays the same clip with less, to show how the final frame's time follows that size;
 * the default workload keeps 12.
 */
export const DEFAULT_GRAIN = 12;

/** The clip with `grain` (0: none), made once per directory (ffmpeg takes minutes on a loaded machine). */
export function makeClip(dir: string, grain = DEFAULT_GRAIN): string {
  const variant = grain === DEFAULT_GRAIN ? '' : `-grain${grain}`;
  const clip = join(dir, `pan-${CLIP.width}x${CLIP.height}-${CLIP.fps}-${CLIP.seconds}s${variant}-numbered2.avi`);
  if (existsSync(clip)) return clip;
  const { width: w, height: h } = CLIP;
  const pan = `crop=${w}:${h}:x='(in_w-${w})*(0.5+0.5*sin(t/2))':y='(in_h-${h})*(0.5+0.5*cos(t/3))'`;
  const noise = grain > 0 ? `noise=alls=${grain}:allf=t,` : '';
  const vf = `scale=1600:-2,${pan},${stripeFilters()},${noise}format=yuv420p`;
  const args = ['-loglevel', 'error', '-y', '-loop', '1', '-i', PHOTO, '-vf', vf, '-t', String(CLIP.seconds)];
  const out = `${clip}.part.avi`;
  const r = spawnSync('ffmpeg', [...args, '-r', String(CLIP.fps), '-c:v', 'mjpeg', '-q:v', '3', out], {
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error('ffmpeg could not make the clip');
  spawnSync('mv', [out, clip]);
  return clip;
}

/** Pixels to read the stripe from: `channels` bytes a pixel (3 RGB, 4 BGRX), rows `stride` apart. */
export interface StripeSource {
  data: Uint8Array;
  stride: number;
  channels: number;
}

/** Mean level (R+G+B over 3) of the middle of rows [top, top + 8) of cell `i`, away from its side edges. */
function halfLevel(src: StripeSource, x0: number, top: number, i: number): number {
  let sum = 0;
  let count = 0;
  for (let y = top + 1; y < top + CODE_H / 2 - 1; y++) {
    for (let x = x0 + i * CELL_W + 8; x < x0 + (i + 1) * CELL_W - 8; x += 2) {
      const p = y * src.stride + x * src.channels;
      sum += src.data[p]! + src.data[p + 1]! + src.data[p + 2]!;
      count += 3;
    }
  }
  return sum / count;
}

/** A cell's halves must differ by this much (they differ by about 127 levels plus the photograph's own). */
const MIN_CONTRAST = 40;

/**
 * The frame number in the stripe whose top-left corner is at (x0, y0) of `src`, or undefined when a
 * cell's halves are too close to tell (not a frame of the clip, or two frames mixed).
 */
export function readFrameNumber(src: StripeSource, x0: number, y0: number): number | undefined {
  let n = 0;
  for (let i = 0; i < CODE_CELLS; i++) {
    const contrast = halfLevel(src, x0, y0, i) - halfLevel(src, x0, y0 + CODE_H / 2, i);
    if (Math.abs(contrast) < MIN_CONTRAST) return undefined;
    if (contrast > 0) n |= 1 << i;
  }
  return n;
}

/** The stripe's box on the screen when the clip plays at (left, top). */
export function stripeRect(left: number, top: number): { left: number; top: number; right: number; bottom: number } {
  return { left, top, right: left + CODE_CELLS * CELL_W, bottom: top + CODE_H };
}
