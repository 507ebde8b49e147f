import type { DesktopResize, DisplaySink, DisplaySource, InputEvent } from '../../seam/index.js';
import { X11Clipboard } from './x11-clipboard.js';
import { X11Source, type X11SourceOptions } from './x11-source.js';

export interface ResilientX11Options extends Omit<X11SourceOptions, 'onLost'> {
  /** Keep serving the last frame and reconnect when the X server comes back. */
  retry: boolean;
  retryIntervalMs?: number;
  /** The X server went away (and, with retry, a reconnection is being attempted). */
  onLost: (err: Error, willRetry: boolean) => void;
  onReconnected?: () => void;
}

/**
 * An X11 source that survives its X server: without `retry` it reports the loss once; with it,
 * viewers keep the last frame while it tries to reconnect every few seconds, and a new X server
 * on the same display becomes a new primary surface for every viewer.
 */
export class ResilientX11Source implements DisplaySource {
  readonly name: string;
  private inner: X11Source | undefined;
  private sink: DisplaySink | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** One clipboard for the source's life: the agent attaches to it once, X servers come and go. */
  readonly clipboard: X11Clipboard | undefined;
  /** With the `resize` option: resizes through whichever X connection is current. */
  readonly resizer: DesktopResize | undefined;

  constructor(private readonly opts: ResilientX11Options) {
    this.name = `X display ${opts.display}`;
    if (opts.clipboard instanceof X11Clipboard) this.clipboard = opts.clipboard;
    else if (opts.clipboard !== false) this.clipboard = new X11Clipboard({ log: (l, m) => opts.log?.(l, m) });
    if (opts.resize) this.resizer = { resize: (w, h) => this.inner?.resizer?.resize(w, h) ?? Promise.resolve(null) };
  }

  get modifiers(): number {
    return this.inner?.modifiers ?? 0;
  }

  async start(sink: DisplaySink): Promise<void> {
    this.sink = sink;
    await this.connect();
  }

  private async connect(): Promise<void> {
    const { retry: _r, retryIntervalMs: _i, onLost: _l, onReconnected: _c, ...x11 } = this.opts;
    const source = new X11Source({
      ...x11,
      clipboard: this.clipboard ?? false,
      onLost: (err) => this.lost(source, err),
    });
    await source.start(this.sink!);
    this.inner = source;
  }

  private lost(source: X11Source, err: Error): void {
    if (this.stopped || source !== this.inner) return;
    this.inner = undefined;
    this.opts.onLost(err, this.opts.retry);
    if (this.opts.retry) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      this.connect().then(
        () => this.opts.onReconnected?.(),
        () => this.scheduleReconnect(),
      );
    }, this.opts.retryIntervalMs ?? 2000);
  }

  input(ev: InputEvent): void {
    this.inner?.input(ev);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inner?.stop();
    this.inner = undefined;
  }
}
