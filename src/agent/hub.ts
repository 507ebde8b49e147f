import type {
  ClipboardSelection,
  ClipboardType,
  DesktopClipboard,
  DesktopResize,
  ViewerClipboard,
} from '../seam/desktop-agent.js';
import { errorMessage, type Logger } from '../util/log.js';

/*
 * The agent's policy between several viewers and one desktop (docs/agent.md has it in prose).
 * spice-server's agent serves one client at a time; spiced serves many, so:
 * - clipboard: the last grab wins, whoever makes it. A viewer's grab makes the desktop own the
 *   selection (the source is told) and is offered to every other viewer as the desktop's
 *   clipboard; a desktop grab is offered to every viewer. A paste is answered by the owner: the
 *   desktop (the source reads it) or the viewer whose grab it is (asked with a REQUEST).
 * - resize: the most recent viewer to ask wins; a request that arrives while the desktop is
 *   resizing replaces any waiting one, so a window being dragged does not queue resizes.
 */

export type ClipboardDirection = 'both' | 'to-viewer' | 'from-viewer' | 'off';

export const CLIPBOARD_DIRECTIONS: readonly ClipboardDirection[] = ['both', 'to-viewer', 'from-viewer', 'off'];

export interface AgentPolicy {
  /** Which way clipboard data may flow (an administrator may not want the desktop's to leave). */
  clipboard: ClipboardDirection;
  /** Largest clipboard accepted from or sent to a viewer, in bytes. */
  maxClipboard: number;
  /** AGENT_DATA a viewer may have in flight (its tokens; see AGENT_TOKENS). */
  tokens: number;
}

/** spiced's default --max-clipboard: a large screenshot as PNG fits, memory per viewer stays bounded. */
export const DEFAULT_MAX_CLIPBOARD = 16 * 1024 * 1024;

/** What the hub sees of one viewer's agent (implemented by AgentEndpoint). */
export interface AgentPeer {
  readonly peer: string;
  /** The viewer and spiced both announced CLIPBOARD_BY_DEMAND: it takes part in the clipboard. */
  readonly clipboardReady: boolean;
  /** The largest clipboard this viewer accepts (its MAX_CLIPBOARD, else unlimited). */
  readonly maxClipboard: number;
  sendGrab(selection: ClipboardSelection, types: readonly ClipboardType[]): void;
  sendRelease(selection: ClipboardSelection): void;
  sendRequest(selection: ClipboardSelection, type: ClipboardType): void;
  /** Data for a REQUEST the viewer made; `type` undefined answers "nothing" (VD_AGENT_CLIPBOARD_NONE). */
  sendClipboard(selection: ClipboardSelection, type: ClipboardType | undefined, data: Uint8Array): void;
}

type Owner =
  | { kind: 'desktop'; types: readonly ClipboardType[] }
  | { kind: 'viewer'; peer: AgentPeer; types: readonly ClipboardType[] };

interface PendingFetch {
  selection: ClipboardSelection;
  resolve: (data: Uint8Array) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** A viewer that does not answer a REQUEST within this time is taken to have nothing. */
const FETCH_TIMEOUT_MS = 20_000;
/**
 * How long a finished read of the owner's data answers further pastes. Owners announce new data
 * with a new grab (which starts over), so this only spares a burst of pastes (many viewers pasting
 * together) a read each and a copy each.
 */
const SHARE_SETTLED_MS = 1000;
/** REQUESTs spiced may have outstanding at one viewer, and paste requests of one viewer it serves at once. */
const MAX_PENDING_PER_VIEWER = 8;

export interface DesktopAgentParts {
  readonly clipboard?: DesktopClipboard;
  readonly resizer?: DesktopResize;
}

export class AgentHub implements ViewerClipboard {
  private readonly peers = new Set<AgentPeer>();
  private readonly owners = new Map<ClipboardSelection, Owner>();
  private readonly fetches = new Map<AgentPeer, PendingFetch[]>();
  /**
   * Reads of an owner's data in progress, by type: pastes that come while one runs share it (one
   * REQUEST to the owning viewer, one read of the desktop, one copy of the data for every viewer).
   */
  private readonly reading = new WeakMap<Owner, Map<ClipboardType, Promise<Uint8Array>>>();
  private readonly serving = new Map<AgentPeer, number>();
  private resizing = false;
  private nextResize: { width: number; height: number; peer: string; done: (ok: boolean) => void } | undefined;

  constructor(
    private readonly desktop: DesktopAgentParts,
    readonly policy: AgentPolicy,
    private readonly log: Logger,
  ) {
    if (this.clipboardOffered) desktop.clipboard!.attach(this);
  }

  /** The agent announces clipboard capabilities (the desktop has one and it is not switched off). */
  get clipboardOffered(): boolean {
    return this.desktop.clipboard !== undefined && this.policy.clipboard !== 'off';
  }

  get resizeOffered(): boolean {
    return this.desktop.resizer !== undefined;
  }

  private get toViewer(): boolean {
    return this.policy.clipboard === 'both' || this.policy.clipboard === 'to-viewer';
  }

  private get fromViewer(): boolean {
    return this.policy.clipboard === 'both' || this.policy.clipboard === 'from-viewer';
  }

  /** A viewer's agent is up and has announced its capabilities: offer it what the desktop holds. */
  join(peer: AgentPeer): void {
    this.peers.add(peer);
    if (!this.toViewer || !peer.clipboardReady) return;
    for (const [selection, owner] of this.owners) {
      if (owner.kind === 'viewer' && owner.peer === peer) continue;
      peer.sendGrab(selection, owner.types);
    }
  }

  /** A viewer's agent is gone (viewer closed, or its agent reset after bad input). */
  leave(peer: AgentPeer, reason: string): void {
    this.peers.delete(peer);
    for (const [selection, owner] of [...this.owners]) {
      if (owner.kind === 'viewer' && owner.peer === peer) this.viewerRelease(peer, selection);
    }
    for (const f of this.fetches.get(peer) ?? []) {
      clearTimeout(f.timer);
      f.reject(new Error(`viewer ${peer.peer} ${reason}`));
    }
    this.fetches.delete(peer);
    this.serving.delete(peer);
  }

  // -- from viewers -----------------------------------------------------------------------------

  viewerGrab(peer: AgentPeer, selection: ClipboardSelection, types: readonly ClipboardType[]): void {
    if (!this.fromViewer) {
      this.log.debug(`${peer.peer} grabbed the ${selection}: ignored (--clipboard ${this.policy.clipboard})`);
      return;
    }
    if (types.length === 0) {
      this.log.debug(`${peer.peer} grabbed the ${selection} with no type spiced knows: ignored`);
      return;
    }
    this.owners.set(selection, { kind: 'viewer', peer, types: [...types] });
    this.desktop.clipboard?.viewerGrabbed(selection, types);
    if (!this.toViewer) return;
    for (const other of this.peers) if (other !== peer && other.clipboardReady) other.sendGrab(selection, types);
  }

  viewerRelease(peer: AgentPeer, selection: ClipboardSelection): void {
    const owner = this.owners.get(selection);
    if (owner?.kind !== 'viewer' || owner.peer !== peer) return;
    this.owners.delete(selection);
    this.desktop.clipboard?.viewerReleased(selection);
    if (!this.toViewer) return;
    for (const other of this.peers) if (other !== peer && other.clipboardReady) other.sendRelease(selection);
  }

  /** A viewer pastes: answer from the owner of the selection, or with nothing. */
  viewerRequest(peer: AgentPeer, selection: ClipboardSelection, type: ClipboardType | undefined): void {
    const nothing = (why: string): void => {
      this.log.debug(`${peer.peer} asked for the ${selection} (${type ?? 'unknown type'}): nothing (${why})`);
      peer.sendClipboard(selection, undefined, new Uint8Array(0));
    };
    if (!this.toViewer) return nothing(`--clipboard ${this.policy.clipboard}`);
    const owner = this.owners.get(selection);
    if (!owner || type === undefined || !owner.types.includes(type)) return nothing('not offered');
    if (owner.kind === 'viewer' && owner.peer === peer) return nothing('the viewer owns it itself');
    const busy = this.serving.get(peer) ?? 0;
    if (busy >= MAX_PENDING_PER_VIEWER) return nothing(`${busy} requests of this viewer in progress`);
    this.serving.set(peer, busy + 1);
    const read =
      owner.kind === 'desktop'
        ? this.shared(owner, type, () => this.readDesktop(selection, type))
        : this.fetch(selection, type);
    read
      .then((data) => this.answer(peer, selection, type, data))
      .catch((err: unknown) => nothing(errorMessage(err)))
      .finally(() => {
        const n = this.serving.get(peer);
        if (n !== undefined) this.serving.set(peer, n - 1);
      });
  }

  /** The read of `owner`'s `type` already running, or `start`'s, shared until it settles. */
  private shared(owner: Owner, type: ClipboardType, start: () => Promise<Uint8Array>): Promise<Uint8Array> {
    let byType = this.reading.get(owner);
    if (!byType) this.reading.set(owner, (byType = new Map()));
    const running = byType.get(type);
    if (running) return running;
    const read = start();
    byType.set(type, read);
    const forget = (): void => {
      if (byType.get(type) === read) byType.delete(type);
    };
    // Kept a moment after it settles: the pastes of many viewers come over some milliseconds.
    const later = (): void => void setTimeout(forget, SHARE_SETTLED_MS).unref();
    read.then(later, forget);
    return read;
  }

  /** A REQUEST to this viewer is waiting for its CLIPBOARD (only then may that message be large). */
  awaitsData(peer: AgentPeer): boolean {
    return (this.fetches.get(peer)?.length ?? 0) > 0;
  }

  private readDesktop(selection: ClipboardSelection, type: ClipboardType): Promise<Uint8Array> {
    const clipboard = this.desktop.clipboard;
    if (!clipboard) return Promise.reject(new Error('the desktop has no clipboard'));
    return clipboard.read(selection, type);
  }

  private answer(peer: AgentPeer, selection: ClipboardSelection, type: ClipboardType, data: Uint8Array): void {
    if (!this.peers.has(peer)) return;
    const limit = Math.min(this.policy.maxClipboard, peer.maxClipboard);
    if (data.length > limit) {
      this.log.warn(
        `the ${selection} (${data.length} bytes of ${type}) is over ${limit} bytes: not sent to ${peer.peer}`,
      );
      peer.sendClipboard(selection, undefined, new Uint8Array(0));
      return;
    }
    peer.sendClipboard(selection, type, data);
  }

  /** Clipboard data from a viewer, answering the oldest REQUEST spiced made it for that selection. */
  viewerData(peer: AgentPeer, selection: ClipboardSelection, type: ClipboardType | undefined, data: Buffer): void {
    const list = this.fetches.get(peer) ?? [];
    const i = list.findIndex((f) => f.selection === selection);
    if (i < 0) {
      this.log.debug(`${peer.peer} sent ${data.length} bytes of ${selection} nobody asked for: dropped`);
      return;
    }
    const [f] = list.splice(i, 1);
    clearTimeout(f!.timer);
    if (type === undefined) f!.reject(new Error(`viewer ${peer.peer} has no data for the ${selection}`));
    else f!.resolve(data);
  }

  // -- from the desktop (ViewerClipboard) ---------------------------------------------------------

  desktopGrabbed(selection: ClipboardSelection, types: readonly ClipboardType[]): void {
    this.owners.set(selection, { kind: 'desktop', types: [...types] });
    if (!this.toViewer) return;
    for (const peer of this.peers) if (peer.clipboardReady) peer.sendGrab(selection, types);
  }

  desktopReleased(selection: ClipboardSelection): void {
    if (this.owners.get(selection)?.kind !== 'desktop') return;
    this.owners.delete(selection);
    if (!this.toViewer) return;
    for (const peer of this.peers) if (peer.clipboardReady) peer.sendRelease(selection);
  }

  fetch(selection: ClipboardSelection, type: ClipboardType): Promise<Uint8Array> {
    if (!this.fromViewer) return Promise.reject(new Error(`--clipboard ${this.policy.clipboard}`));
    const owner = this.owners.get(selection);
    if (owner?.kind !== 'viewer') return Promise.reject(new Error(`no viewer owns the ${selection}`));
    if (!owner.types.includes(type)) return Promise.reject(new Error(`the viewer offers no ${type}`));
    return this.shared(owner, type, () => this.request(owner.peer, selection, type));
  }

  /** Ask `peer` for its data (REQUEST); its CLIPBOARD answers the oldest request for that selection. */
  private request(peer: AgentPeer, selection: ClipboardSelection, type: ClipboardType): Promise<Uint8Array> {
    const list = this.fetches.get(peer) ?? [];
    if (list.length >= MAX_PENDING_PER_VIEWER) {
      return Promise.reject(new Error(`${list.length} requests to ${peer.peer} unanswered`));
    }
    this.fetches.set(peer, list);
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = list.findIndex((f) => f.timer === timer);
        if (at >= 0) list.splice(at, 1);
        reject(new Error(`viewer ${peer.peer} did not answer within ${FETCH_TIMEOUT_MS / 1000} s`));
      }, FETCH_TIMEOUT_MS);
      timer.unref();
      list.push({ selection, resolve, reject, timer });
      peer.sendRequest(selection, type);
    });
  }

  // -- resize -------------------------------------------------------------------------------------

  /**
   * A viewer's window is `width` x `height`: resize the desktop. Resolves true when the desktop
   * took a size (or the request was overtaken by a newer one), false when it could not.
   */
  monitorsConfig(peer: string, width: number, height: number): Promise<boolean> {
    if (!this.desktop.resizer) return Promise.resolve(false);
    return new Promise((done) => {
      this.nextResize?.done(true);
      this.nextResize = { width, height, peer, done };
      void this.runResizes(this.desktop.resizer!);
    });
  }

  private async runResizes(resizer: DesktopResize): Promise<void> {
    if (this.resizing) return;
    this.resizing = true;
    try {
      for (let r = this.nextResize; r; r = this.nextResize) {
        this.nextResize = undefined;
        r.done(await this.resizeOnce(resizer, r));
      }
    } finally {
      this.resizing = false;
    }
  }

  private async resizeOnce(
    resizer: DesktopResize,
    r: { width: number; height: number; peer: string },
  ): Promise<boolean> {
    try {
      const got = await resizer.resize(r.width, r.height);
      const took = got ? `now ${got.width}x${got.height}` : 'the desktop kept its size';
      this.log.info(`${r.peer} asked for ${r.width}x${r.height}: ${took}`);
      return got !== null;
    } catch (err) {
      this.log.warn(`resize to ${r.width}x${r.height} for ${r.peer} failed: ${errorMessage(err)}`);
      return false;
    }
  }
}
