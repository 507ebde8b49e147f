import { MouseMode } from '../protocol/constants.js';
import type { Logger } from '../util/log.js';
import type { ChannelClient } from './channel-client.js';

/**
 * What a viewer may do. `control`: everything. `view`: sees and hears; its input events,
 * microphone, clipboard and agent messages (resize requests among them) are ignored. Given by the
 * ticket the main channel linked with (`--password` or `--view-password`).
 */
export type ViewerRole = 'control' | 'view';

/**
 * One viewer: the main channel connection and every channel it opened with the session id the
 * main channel handed out. Closing the main channel ends the session.
 */
export class Session {
  readonly clients = new Set<ChannelClient>();
  main: ChannelClient | undefined;
  mouseMode: number = MouseMode.Client;
  /**
   * Where this viewer last put the pointer in client mouse mode. It draws its own cursor there, so
   * a cursor move to that spot is not sent back to it (spice-server sends no moves at all in
   * client mode; spiced sends them so that the other viewers of a shared desktop see the pointer).
   */
  pointerAt: { readonly x: number; readonly y: number } | undefined;
  private closed = false;
  private readonly closeListeners = new Set<(reason: string) => void>();
  readonly startedAt = Date.now();

  constructor(
    readonly id: number,
    readonly peer: string,
    readonly log: Logger,
    readonly role: ViewerRole = 'control',
  ) {}

  /** Whether this viewer's inputs, clipboard and agent messages reach the desktop. */
  get mayControl(): boolean {
    return this.role === 'control';
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * A session holds one connection per channel (type and id). A second link of a channel the
   * session already has replaces the first, which is closed: a viewer relinking a channel whose
   * old connection has not timed out yet gets in, and nobody holding the session id can pile up
   * connections that each receive every frame.
   */
  add(client: ChannelClient, isMain = false): void {
    for (const old of this.clients) {
      if (old.channelType === client.channelType && old.channelId === client.channelId) {
        old.close(`replaced by a new connection of the same channel from ${client.stream.peer}`);
      }
    }
    this.clients.add(client);
    if (isMain) this.main = client;
    client.onClose((reason) => {
      this.clients.delete(client);
      if (client === this.main) this.close(`main channel closed (${reason})`);
    });
  }

  setMouseMode(mode: number): void {
    if (mode === this.mouseMode) return;
    this.mouseMode = mode;
    this.pointerAt = undefined;
  }

  /** Whether a cursor move to (x, y) only repeats what this viewer's own pointer shows. */
  echoesOwnPointer(x: number, y: number): boolean {
    const p = this.pointerAt;
    return this.mouseMode === MouseMode.Client && p !== undefined && p.x === x && p.y === y;
  }

  onClose(l: (reason: string) => void): void {
    this.closeListeners.add(l);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.log.info(`session ${this.id.toString(16)} from ${this.peer} ended: ${reason}`);
    for (const c of [...this.clients]) c.close(reason);
    for (const l of this.closeListeners) l(reason);
  }
}
