import type {
  ClipboardSelection,
  ClipboardType,
  DesktopClipboard,
  ViewerClipboard,
} from '../../src/seam/desktop-agent.js';

/**
 * A desktop's clipboard in memory, any type (text, PNG...), the CLIPBOARD selection only: the test
 * copies into it as a desktop application would, and pastes from it (what a viewer offered comes
 * through the agent, fetched from that viewer).
 */
export class MemoryClipboard implements DesktopClipboard {
  private viewers: ViewerClipboard | undefined;
  /** The desktop's own data by type, while the desktop owns the selection. */
  private own: Map<ClipboardType, Uint8Array> | undefined;
  /** The types a viewer's grab offers, while a viewer owns the selection. */
  offered: readonly ClipboardType[] = [];
  /** Grabs viewers made (each one took the selection from whoever had it). */
  viewerGrabs = 0;

  attach(viewers: ViewerClipboard): void {
    this.viewers = viewers;
  }

  viewerGrabbed(selection: ClipboardSelection, types: readonly ClipboardType[]): void {
    if (selection !== 'clipboard') return;
    this.viewerGrabs++;
    this.own = undefined;
    this.offered = [...types];
  }

  viewerReleased(selection: ClipboardSelection): void {
    if (selection === 'clipboard') this.offered = [];
  }

  read(selection: ClipboardSelection, type: ClipboardType): Promise<Uint8Array> {
    const data = selection === 'clipboard' ? this.own?.get(type) : undefined;
    return data ? Promise.resolve(data) : Promise.reject(new Error(`the desktop holds no ${type} in its ${selection}`));
  }

  /** A desktop application copies `items` (one entry per type): every viewer is offered them. */
  copy(items: Partial<Record<ClipboardType, Uint8Array>>): void {
    this.own = new Map(Object.entries(items) as [ClipboardType, Uint8Array][]);
    this.offered = [];
    this.viewers?.desktopGrabbed('clipboard', [...this.own.keys()]);
  }

  /** What a desktop application pastes as `type`: its own, or the owning viewer's; undefined if none. */
  async paste(type: ClipboardType): Promise<Uint8Array | undefined> {
    if (this.own) return this.own.get(type);
    if (!this.viewers || !this.offered.includes(type)) return undefined;
    return this.viewers.fetch('clipboard', type);
  }
}
