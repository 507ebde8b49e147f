import type { AgentPage, ClipboardOffer } from './agent.js';
import { offerKey, pastedOffer, readBrowserClipboard, writeBrowserClipboard } from './browser-clipboard.js';
import type { WebSession } from './session.js';

/** Window size changes settle for this long before the desktop is asked to follow. */
const RESIZE_SETTLE_MS = 250;

/**
 * The page's side of the agent: the browser's clipboard (asynchronous Clipboard API) and the
 * desktop following the window. Text or a PNG image the desktop copies is written to the browser's
 * clipboard; the browser's clipboard (text, a PNG image or both) is offered to the desktop when the
 * page gets focus or sees a paste, unless it is what the desktop itself put there. Without an agent that resizes, or when the
 * desktop refuses a size, the canvas is scaled to fit instead.
 */
export class DesktopSync implements AgentPage {
  /** The key (offerKey) of the clipboard both sides agree on, so a round trip never bounces a grab back. */
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
      if (!e.clipboardData) return;
      pastedOffer(e.clipboardData).then(
        (offer) => this.offer(offer),
        (err: unknown) => console.warn('spiced viewer: the pasted data could not be read', err),
      );
    });
  }

  desktopCopied(type: 'text' | 'png', data: Uint8Array): void {
    if (!navigator.clipboard)
      return console.warn('spiced viewer: no Clipboard API here (the page needs https or localhost)');
    this.synced = offerKey(type === 'text' ? { text: new TextDecoder().decode(data) } : { png: data });
    writeBrowserClipboard(type, data).then(
      () => {
        if (type === 'png')
          this.learnHeld().catch((err: unknown) => console.debug('spiced viewer: clipboard not readable now', err));
      },
      (err: unknown) => console.warn(`spiced viewer: the browser refused the desktop's ${type}`, err),
    );
  }

  /**
   * The browser re-encodes images a page writes: what it holds now, read back, is the desktop's
   * own image, and must not be offered back to the desktop as the viewer's.
   */
  private async learnHeld(): Promise<void> {
    this.synced = offerKey(await readBrowserClipboard());
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
    if (!this.session()?.agent?.hasClipboard || !navigator.clipboard) return;
    readBrowserClipboard().then(
      (offer) => this.offer(offer),
      (err: unknown) => console.debug('spiced viewer: clipboard not readable now', err),
    );
  }

  private offer(offer: ClipboardOffer): void {
    const key = offerKey(offer);
    if (!key || key === this.synced) return;
    this.synced = key;
    this.session()?.agent?.grab(offer);
  }
}
