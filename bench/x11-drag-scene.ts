/**
 * A window drag on a private X display, for the drag bench (bench/x11-drag.ts) and the memory
 * interop test: twm (opaque moves, no server grab, like a modern window manager) with an xterm at
 * a known place, and the xdotool arguments of one drag of its title bar, back and forth, paced by
 * xdotool's own sleeps (one xdotool process for the whole drag).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the xterm's frame goes (USPosition: twm places it there without asking). */
export const WINDOW_AT = { x: 100, y: 100 };

/**
 * twm's configuration: OpaqueMove redraws the window at every step (the default moves an outline),
 * NoGrabServer keeps other clients (the capture) running during the move, and a title press moves.
 * The fonts are the core "fixed" (xfonts-base): twm exits when its default fontset is missing.
 */
const TWMRC = [
  'NoGrabServer',
  'OpaqueMove',
  ...['TitleFont', 'ResizeFont', 'MenuFont', 'IconFont', 'IconManagerFont'].map((f) => `${f} "fixed"`),
  'Button1 = : title : f.move',
  '',
].join('\n');

/** The session command: twm and an xterm; writes twm's configuration into `dir`. */
export function dragSession(dir: string): string[] {
  const rc = join(dir, 'twmrc');
  writeFileSync(rc, TWMRC);
  // LC_ALL=C: one charset, so twm does not warn about every fontset charset it lacks.
  return ['sh', '-c', `LC_ALL=C twm -f ${rc} & exec xterm -geometry 80x24+${WINDOW_AT.x}+${WINDOW_AT.y} -e top -d 0.2`];
}

export interface DragPlan {
  /** Where the press happens: a point on the title bar. */
  from: { x: number; y: number };
  /** About this long: whole out-and-back trips, so the window ends where it started. */
  seconds: number;
  /** Pointer steps a second. */
  rateHz: number;
  /** Pixels per step. */
  stepPx: number;
  /** How far the window goes before it turns back. */
  spanPx: number;
}

/**
 * xdotool arguments: press on the title bar, move back and forth (absolute positions: chained
 * mousemove_relative cannot take negative steps) for plan.seconds, release.
 */
export function dragArgs(plan: DragPlan): string[] {
  const perLeg = Math.max(1, Math.round(plan.spanPx / plan.stepPx));
  const trips = Math.max(1, Math.round((plan.seconds * plan.rateHz) / (2 * perLeg)));
  const steps = trips * 2 * perLeg;
  const pause = (1 / plan.rateHz).toFixed(4);
  const args = ['mousemove', String(plan.from.x), String(plan.from.y), 'mousedown', '1'];
  let x = plan.from.x;
  for (let i = 0; i < steps; i++) {
    x += Math.floor(i / perLeg) % 2 === 0 ? plan.stepPx : -plan.stepPx;
    const y = plan.from.y + (i % 2);
    args.push('mousemove', String(x), String(y), 'sleep', pause);
  }
  args.push('mouseup', '1');
  return args;
}

/** A point on the title bar of the xterm's frame (twm's title is about 18 rows of "fixed"). */
export const TITLE_BAR = { x: WINDOW_AT.x + 60, y: WINDOW_AT.y + 9 };

/** True once an xterm window exists on the display (`xdotool search` output). */
export function hasWindow(searchOutput: string): boolean {
  return /^\d+$/m.test(searchOutput);
}
