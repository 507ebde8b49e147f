import { Channel } from '../channel-core/channel.js';
import { SendRounds } from '../channel-core/send-rounds.js';
import { SharedFlushes } from '../channel-core/shared-flush.js';
import { ChannelClient, type ChannelClientOptions, type ChannelConnection } from '../channel-core/channel-client.js';
import type { Session } from '../channel-core/session.js';
import { unknownMessage } from '../protocol/common.js';
import { ChannelType, CursorType } from '../protocol/constants.js';
import {
  encodeCursorHide,
  encodeCursorInit,
  encodeCursorMove,
  encodeCursorSet,
  NO_CURSOR,
  type SpiceCursor,
} from '../protocol/cursor.js';
import type { CursorCommand, CursorShape } from '../seam/index.js';
import type { CursorState, Desktop, DesktopListener } from '../display/desktop.js';
import { packedImage } from '../display/pixels.js';
import type { Logger } from '../util/log.js';
import { messageItem, type PipeItem } from '../channel-core/pipe.js';
import type { OutMessage } from '../protocol/message.js';

/** A cursor shape as SPICE ALPHA cursor bytes (BGRA, straight alpha, packed rows). */
export function spiceCursor(shape: CursorShape | undefined): SpiceCursor {
  if (!shape) return NO_CURSOR;
  const img = packedImage(shape.image);
  return {
    flags: 0,
    header: {
      unique: BigInt(shape.id),
      type: CursorType.Alpha,
      width: img.width,
      height: img.height,
      hotSpotX: shape.hotX,
      hotSpotY: shape.hotY,
    },
    data: img.data.subarray(0, img.width * img.height * 4),
  };
}

/** The cursor channel: INIT with the current shape, then SET / MOVE / HIDE as the desktop changes. */
export class CursorChannel extends Channel<CursorChannelClient> implements DesktopListener {
  readonly type = ChannelType.Cursor;
  /** Every viewer gets the same messages: flushes that match go out as one shared buffer. */
  override readonly sharedFlushes = new SharedFlushes();
  /** Its viewers are pushed together, in rounds spaced by how many there are. */
  override readonly sendRounds = new SendRounds(() => this.clients.size, this.clientOptions.writesPerSecond);

  constructor(
    log: Logger,
    clientOptions: ChannelClientOptions,
    readonly desktop: Desktop,
    private readonly ackWindow = 20,
  ) {
    super(log, clientOptions);
    desktop.addListener(this);
  }

  caps(): number[] {
    return [];
  }

  protected createClient(conn: ChannelConnection, session: Session): CursorChannelClient {
    return new CursorChannelClient(conn, this.clientOptions, this.desktop, session, this.ackWindow);
  }

  onCursor(cmd: CursorCommand, state: CursorState): void {
    for (const c of this.clients) c.update(cmd, state);
  }
}

export class CursorChannelClient extends ChannelClient {
  constructor(
    conn: ChannelConnection,
    options: ChannelClientOptions,
    private readonly desktop: Desktop,
    private readonly session: Session,
    private readonly ackWindow: number,
  ) {
    super(conn, options);
  }

  start(): void {
    this.startAckWindow(this.ackWindow);
    const st = this.desktop.cursorState;
    this.pushMessage(
      encodeCursorInit({ x: st.x, y: st.y }, st.visible && st.shape !== undefined, spiceCursor(st.shape)),
    );
  }

  protected handleMessage(type: number, body: Buffer): void {
    // The cursor channel has no client messages beyond the common ones.
    throw unknownMessage('cursor', type, body.length);
  }

  update(cmd: CursorCommand, state: CursorState): void {
    const pos = { x: state.x, y: state.y };
    switch (cmd.kind) {
      case 'cursorSet':
      case 'cursorShow':
        return this.replaceQueued('state', encodeCursorSet(pos, true, spiceCursor(state.shape)));
      case 'cursorMove':
        if (this.session.echoesOwnPointer(pos.x, pos.y)) return this.dropQueuedMoves();
        return this.replaceQueued('move', encodeCursorMove(pos));
      case 'cursorHide':
        return this.replaceQueued('state', encodeCursorHide());
    }
  }

  /**
   * Queue an update, dropping the queued ones it makes pointless: a SET or HIDE says everything
   * (shape, visibility, position), a MOVE only the position. A viewer that does not read or
   * acknowledge then holds a few cursor messages, not one per pointer event (each SET carries its
   * whole shape).
   */
  private replaceQueued(kind: CursorItem['cursor'], m: OutMessage): void {
    this.pipe.dropFromTail(
      (it) => (!isCursorItem(it) ? 'stop' : kind === 'state' || it.cursor === 'move' ? 'drop' : 'stop'),
      64,
    );
    const item: CursorItem = { ...messageItem(m), cursor: kind };
    this.push(item);
  }

  /** The pointer is back where this viewer put it: moves still queued would only show it elsewhere. */
  private dropQueuedMoves(): void {
    this.pipe.dropFromTail((it) => (isCursorItem(it) && it.cursor === 'move' ? 'drop' : 'stop'), 64);
  }
}

/** A queued cursor update: 'state' (SET, HIDE) or 'move'. */
interface CursorItem extends PipeItem {
  readonly cursor: 'state' | 'move';
}

function isCursorItem(item: PipeItem): item is CursorItem {
  return 'cursor' in item;
}
