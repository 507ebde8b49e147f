/**
 * The soak's figures from timestamped logs: update rates during drags and key-to-glyph times,
 * each for the desktop (its DAMAGE log) and the measuring viewer (its draw log), on one clock.
 */
import { intersectRect, rectIsEmpty, type Rect } from '../src/protocol/geometry.js';
import type { Drawn } from './session-desktop.js';

/** A display at 60 Hz: the finest update rate the targets count ("up to 60/s"). */
export const SLOT_MS = 1000 / 60;

/**
 * Updates per second in [fromMs, toMs): the number of 1/60 s slots in which something was drawn.
 * Several draws of one frame (or of one X request burst) land in one slot, and a source that
 * draws faster than 60/s counts as 60/s, which is the most any display shows.
 */
export function slotRate(log: readonly Drawn[], fromMs: number, toMs: number): number {
  if (toMs <= fromMs) return NaN;
  const slots = new Set<number>();
  for (const d of log) if (d.atMs >= fromMs && d.atMs < toMs) slots.add(Math.floor((d.atMs - fromMs) / SLOT_MS));
  return slots.size / ((toMs - fromMs) / 1000);
}

export interface GlyphTime {
  /** Key sent -> the desktop drew in the terminal. */
  desktopMs: number;
  /** Key sent -> the measuring viewer applied a draw over what the desktop drew. */
  viewerMs: number;
}

const touches = (a: Rect, b: Rect): boolean => !rectIsEmpty(intersectRect(a, b));

/**
 * The desktop's glyph is the first drawing inside `area` (the terminal) after the key was sent;
 * the viewer has it with the first draw it applied, after the key, that covers part of it.
 * Undefined when either never came (the caller counts those).
 */
export function glyphTime(
  keyAtMs: number,
  area: Rect,
  desktop: readonly Drawn[],
  viewer: readonly Drawn[],
): GlyphTime | undefined {
  const drawn = desktop.find((d) => d.atMs >= keyAtMs && touches(d.rect, area));
  if (!drawn) return undefined;
  const glyph = intersectRect(drawn.rect, area);
  const shown = viewer.find((v) => v.atMs >= keyAtMs && touches(v.rect, glyph));
  if (!shown) return undefined;
  return { desktopMs: drawn.atMs - keyAtMs, viewerMs: shown.atMs - keyAtMs };
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}
