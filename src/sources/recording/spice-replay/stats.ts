/*
 * What an import did with each part of the recording. Every QXL command and device message ends
 * up in exactly one place here: emitted as exact seam commands, rendered server-side, skipped
 * (with the reason), empty (fully clipped away), or ignored (no visible effect by design).
 */
export interface ImportStats {
  /** Events read from the file. */
  events: number;
  /** Seam commands emitted. */
  commands: number;
  /** Ops expressed exactly by seam commands, by kind (fill, copy, blitSurface, copyBits, ...). */
  exact: Record<string, number>;
  /** Ops rendered by the importer and sent as a copy of the changed pixels, by draw type. */
  rendered: Record<string, number>;
  /** Ops not reproduced, keyed "<op>: <reason>". */
  skipped: Record<string, number>;
  /** Rendered ops whose pixels only approximate the SPICE client (e.g. interpolated scaling). */
  approximate: Record<string, number>;
  /** Draws whose region was empty after clipping (nothing to do). */
  empty: Record<string, number>;
  /** Events with no visible effect (device wake-ups, UPDATE requests, log messages...). */
  ignored: Record<string, number>;
}

export function emptyStats(): ImportStats {
  return { events: 0, commands: 0, exact: {}, rendered: {}, skipped: {}, approximate: {}, empty: {}, ignored: {} };
}

export function bump(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}
