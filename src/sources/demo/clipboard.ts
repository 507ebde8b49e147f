import type { ClipboardSelection, ClipboardType, DesktopClipboard, ViewerClipboard } from '../../seam/index.js';

/**
 * The demo desktop's clipboard: text only, the CLIPBOARD selection only. The terminal copies into
 * it (its `copy` command) and pastes from it (Ctrl+V): what a viewer copied arrives through the
 * agent, and what the demo copied is offered to every viewer.
 */
export class DemoClipboard implements DesktopClipboard {
  private viewers: ViewerClipboard | undefined;
  /** The demo's own clipboard text, while the demo owns the selection. */
  private own: string | undefined;
  /** What a viewer's grab offers, while a viewer owns the selection. */
  private offered: readonly ClipboardType[] = [];

  attach(viewers: ViewerClipboard): void {
    this.viewers = viewers;
  }

  viewerGrabbed(selection: ClipboardSelection, types: readonly ClipboardType[]): void {
    if (selection !== 'clipboard') return;
    this.own = undefined;
    this.offered = [...types];
  }

  viewerReleased(selection: ClipboardSelection): void {
    if (selection === 'clipboard') this.offered = [];
  }

  read(selection: ClipboardSelection, type: ClipboardType): Promise<Uint8Array> {
    if (selection !== 'clipboard' || type !== 'text' || this.own === undefined) {
      return Promise.reject(new Error(`the demo holds no ${type} in its ${selection}`));
    }
    return Promise.resolve(Buffer.from(this.own, 'utf8'));
  }

  /** The demo copies `text`: it owns the clipboard now and every viewer is offered it. */
  copy(text: string): void {
    this.own = text;
    this.offered = [];
    this.viewers?.desktopGrabbed('clipboard', ['text']);
  }

  /** The text to paste: the demo's own, or the viewer's that owns the clipboard; undefined if none. */
  async paste(): Promise<string | undefined> {
    if (this.own !== undefined) return this.own;
    if (!this.viewers || !this.offered.includes('text')) return undefined;
    const data = await this.viewers.fetch('clipboard', 'text');
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  }
}
