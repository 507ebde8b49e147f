import { officeActivities } from './activities.js';
import { OfficeSession, type TimedCommand } from './office.js';

/*
 * Synthetic long sessions at the display-command seam: deterministic (a seeded PRNG, simulated
 * time), streamed (one command at a time, memory bounded by the screen and a capped document), and
 * fast (ten simulated minutes take a few seconds).
 */

export type { TimedCommand } from './office.js';

export interface OfficeSessionOptions {
  /** Simulated length; commands after it are not generated. */
  seconds: number;
  /** Screen size (default 1024x768; 640x480 to 4096x4096). */
  width?: number;
  height?: number;
  /** Same seed, same session (default 1). */
  seed?: number;
}

/**
 * Office-like activity: a report typed word by word into a word processor (blinking caret, lines
 * scrolling with copyBits, typos, reading back), a budget spreadsheet whose cells are edited and
 * recalculated, menus that open and close, focus changes, the odd chart or photo, and a pointer that
 * moves at ~60 events/s and changes shape over text, links and cells. The first commands create the
 * primary surface and paint the whole screen.
 */
export function* generateOfficeSession(options: OfficeSessionOptions): Generator<TimedCommand> {
  const { seconds } = options;
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new RangeError(`seconds must be a finite number >= 0, got ${seconds}`);
  const width = options.width ?? 1024;
  const height = options.height ?? 768;
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width < 640 ||
    height < 480 ||
    width > 4096 ||
    height > 4096
  ) {
    throw new RangeError(
      `synthetic office sessions need a screen between 640x480 and 4096x4096, got ${width}x${height}`,
    );
  }
  const session = new OfficeSession(width, height, options.seed ?? 1);
  const endMs = seconds * 1000;
  const endNs = BigInt(Math.round(endMs)) * 1_000_000n;
  yield* session.begin();
  for (const c of officeActivities(session, endMs)) {
    if (c.timeNs > endNs) return;
    yield c;
  }
}
