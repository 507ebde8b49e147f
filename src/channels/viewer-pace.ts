import type { ViewerPace } from '../display/commands.js';

/** What the pace needs to know of one viewer. */
export interface PacedViewer {
  /** False while the viewer has queued draws it has not sent on. */
  readonly keepsUp: boolean;
}

/**
 * The display channel's answer to "may the source draw another frame": yes when every viewer that
 * receives draws has an empty queue. Viewers call progress() when their queue drains, which wakes
 * the waiting source. A viewer whose draws have collapsed into damage counts as keeping up: it is
 * already served at its own pace, and must not hold back the others.
 */
export class ViewerPaceTracker implements ViewerPace {
  private listeners = new Set<() => void>();

  constructor(private readonly viewers: () => Iterable<PacedViewer>) {}

  caughtUp(): boolean {
    for (const v of this.viewers()) if (!v.keepsUp) return false;
    return true;
  }

  whenCaughtUp(listener: () => void): () => void {
    // A wrapper, so the same function given twice is two waits.
    const once = (): void => listener();
    this.listeners.add(once);
    return () => this.listeners.delete(once);
  }

  /** A viewer's queue drained (or a viewer left): wake the waiters if everyone is caught up now. */
  progress(): void {
    if (this.listeners.size === 0 || !this.caughtUp()) return;
    const waiting = this.listeners;
    this.listeners = new Set();
    for (const l of waiting) l();
  }
}
