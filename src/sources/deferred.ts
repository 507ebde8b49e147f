import type { DesktopClipboard, DesktopResize, DisplaySink, DisplaySource, InputEvent } from '../seam/index.js';

/**
 * A source that starts only when told to, e.g. a recording that should begin when the first
 * viewer's display is up (as spice-server's replay does), not before anyone watches.
 */
export class DeferredSource implements DisplaySource {
  private sink: DisplaySink | undefined;
  private started = false;

  constructor(private readonly inner: DisplaySource) {}

  get name(): string {
    return this.inner.name;
  }

  get modifiers(): number | undefined {
    return this.inner.modifiers;
  }

  get clipboard(): DesktopClipboard | undefined {
    return this.inner.clipboard;
  }

  get resizer(): DesktopResize | undefined {
    return this.inner.resizer;
  }

  start(sink: DisplaySink): void {
    this.sink = sink;
  }

  /** Start the inner source now (once). */
  async trigger(): Promise<void> {
    if (this.started || !this.sink) return;
    this.started = true;
    await this.inner.start(this.sink);
  }

  async stop(): Promise<void> {
    if (this.started) await this.inner.stop();
  }

  input(ev: InputEvent): void {
    this.inner.input?.(ev);
  }
}
