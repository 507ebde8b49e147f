import type { Logger, LogLevel } from './log.js';

/**
 * A log line per kind of event at most once per interval: a flood of refused connections must
 * not become a flood of log lines (the log would be the next thing to fill up). The first event
 * of a kind is logged at once; the next one logged says how many were left out in between.
 */
export class ThrottledLog {
  private readonly kinds = new Map<string, { last: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 5000,
  ) {}

  emit(level: LogLevel, kind: string, message: string): void {
    const now = Date.now();
    const seen = this.kinds.get(kind);
    if (seen && now - seen.last < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    const more = seen && seen.suppressed > 0 ? ` (${seen.suppressed} more like it since the last report)` : '';
    this.log.log(level, message + more);
    this.kinds.set(kind, { last: now, suppressed: 0 });
    if (this.kinds.size > 1024) this.kinds.delete(this.kinds.keys().next().value!);
  }
}
