import type { AgentPage } from './agent.js';
import type { WebSession } from './session.js';

/** Window size changes settle for this long before the desktop is asked to follow. */
const RESIZE_SETTLE_MS = 250;

/**
 * The page's side of the agent: the browser's clipboard (asynchronous Clipboard API) and the
 * desktop following the window. Text the desktop copies is written to the browser's clipboard;
 * the browser's clipboard is offered to the desktop when the page gets focus or sees a paste,
 * unless it is what the desktop itself put there. Without an agent that resizes, or when the
 * desktop refuses a size, the canvas is scaled to fit instead.
 */
export class DesktopSync implements AgentPage {
  /** The clipboard text both sides agree on, so a round trip never bounces a grab back. */
  private synced: string | undefined;
  private settle: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly session: () => WebSession | undefined,
    private readonly screen: HTMLElement,
    private readonly setFit: (fit: boolean) => void,
    private readonly follow: () => boolean,
  ) {
    new ResizeObserver(() => {
      clearTimeout(this.settle);
      this.settle = setTimeout(() => this.resize(), RESIZE_SETTLE_MS);
    }).observe(screen);
    window.addEventListener('focus', () => this.offerClipboard());
    window.addEventListener('paste', (e) => {
      const text = e.clipboardData?.getData('text/plain');
      if (text) this.offerText(text);
    });
  }

  desktopCopied(type: 'text' | 'png', data: Uint8Array): void {
    const clipboard = navigator.clipboard;
    if (!clipboard) return console.warn('spiced viewer: no Clipboard API here (the page needs https or localhost)');
    if (type === 'text') {
      const text = new TextDecoder().decode(data);
      this.synced = text;
      clipboard
        .writeText(text)
        .catch((err: unknown) => console.warn("spiced viewer: the browser refused the desktop's text", err));
    } else {
      const item = new ClipboardItem({
        'image/png': new Blob([data as Uint8Array<ArrayBuffer>], { type: 'image/png' }),
      });
      clipboard
        .write([item])
        .catch((err: unknown) => console.warn("spiced viewer: the browser refused the desktop's image", err));
    }
  }

  resized(ok: boolean): void {
    if (!ok) this.setFit(true);
  }

  agentReady(): void {
    const agent = this.session()?.agent;
    if (agent && !agent.canResize) this.setFit(true);
    this.resize();
    this.offerClipboard();
  }

  /** The desktop takes the size of the area the canvas has (unless the page scales instead). */
  resize(): void {
    if (!this.follow()) return;
    const w = Math.floor(this.screen.clientWidth);
    const h = Math.floor(this.screen.clientHeight);
    this.session()?.agent?.resize(w, h);
  }

  /** Offer what the browser's clipboard holds (asks the browser; it may ask the person first). */
  offerClipboard(): void {
    if (!this.session()?.agent?.hasClipboard || !navigator.clipboard?.readText) return;
    navigator.clipboard.readText().then(
      (text) => this.offerText(text),
      (err: unknown) => console.debug('spiced viewer: clipboard not readable now', err),
    );
  }

  private offerText(text: string): void {
    if (!text || text === this.synced) return;
    this.synced = text;
    this.session()?.agent?.grabText(text);
  }
}
