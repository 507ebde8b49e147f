import type { ViewerPace } from '../seam/index.js';

/** What the pace needs to know of one viewer. */
export interface PacedViewer {
  /** False while the viewer has queued draws it has not sent on. */
  readonly keepsUp: boolean;
}

/**
 * The display channel's answer to "may the source draw another frame": yes when at least one viewer
 * that receives draws has an empty queue (or there is none). The fastest viewer sets the pace, so
 * a slow one (a thin link, a phone, a busy browser) costs the others nothing: its queue keeps only
 * the newest of the draws that cover each other, and past its pixel bound collapses into damage
 * served at its own pace. With one viewer this is plain pacing: no frame while it is behind.
 * Viewers call progress() when their queue drains, which wakes the waiting source.
 */
export class ViewerPaceTracker implements ViewerPace {
  private listeners = new Set<() => void>();

  constructor(private readonly viewers: () => Iterable<PacedViewer>) {}

  caughtUp(): boolean {
    let any = false;
    for (const v of this.viewers()) {
      if (v.keepsUp) return true;
      any = true;
    }
    return !any;
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
