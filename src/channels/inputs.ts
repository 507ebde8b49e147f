import { Channel } from '../channel-core/channel.js';
import { ChannelClient, type ChannelClientOptions, type ChannelConnection } from '../channel-core/channel-client.js';
import type { Session } from '../channel-core/session.js';
import { unknownMessage } from '../protocol/common.js';
import { ChannelType, InputsCap, MOTION_ACK_BUNCH, MouseButtonMask, MouseMode } from '../protocol/constants.js';
import {
  decodeInputsClientMessage,
  encodeInputsInit,
  encodeKeyModifiers,
  encodeMouseMotionAck,
} from '../protocol/inputs.js';
import { packedCodeBytes, parseScancodes } from '../protocol/scancode.js';
import type { Desktop } from '../display/desktop.js';
import type { Logger } from '../util/log.js';

export interface InputsContext {
  desktop: Desktop;
  /** Lock-key state of the desktop (KeyModifier flags), for INIT. */
  modifiers(): number;
}

/** Wheel buttons are not held: their bits never stay in the button state. */
const WHEEL_MASK = MouseButtonMask.Up | MouseButtonMask.Down;

/** The inputs channel: keyboard and mouse from every viewer go to the desktop's source. */
export class InputsChannel extends Channel<InputsChannelClient> {
  readonly type = ChannelType.Inputs;

  constructor(
    log: Logger,
    clientOptions: ChannelClientOptions,
    readonly context: InputsContext,
  ) {
    super(log, clientOptions);
  }

  caps(): number[] {
    return [InputsCap.KeyScancode];
  }

  protected createClient(conn: ChannelConnection, session: Session): InputsChannelClient {
    return new InputsChannelClient(conn, this.clientOptions, session, this.context);
  }

  /** The desktop's lock keys changed (e.g. Caps Lock typed by one viewer): tell all of them. */
  broadcastModifiers(modifiers: number): void {
    for (const c of this.clients) c.pushMessage(encodeKeyModifiers(modifiers));
  }
}

export class InputsChannelClient extends ChannelClient {
  private motions = 0;
  /** Key and pointer events this viewer delivered (for stats and tests). */
  events = 0;
  /** Input messages ignored because the viewer may only watch. */
  ignored = 0;

  constructor(
    conn: ChannelConnection,
    options: ChannelClientOptions,
    private readonly session: Session,
    private readonly context: InputsContext,
  ) {
    super(conn, options);
  }

  private get desktop(): Desktop {
    return this.context.desktop;
  }

  start(): void {
    this.pushMessage(encodeInputsInit(this.context.modifiers()));
  }

  protected handleMessage(type: number, body: Buffer): void {
    const m = decodeInputsClientMessage(type, body);
    if (!m) throw unknownMessage('inputs', type, body.length);
    if (!this.session.mayControl) return this.ignore(m.kind);
    switch (m.kind) {
      case 'keyDown':
      case 'keyUp':
        return this.keys(packedCodeBytes(m.code));
      case 'keyScancode':
        return this.keys(m.data);
      case 'keyModifiers':
        this.events++;
        this.desktop.input({ kind: 'modifiers', modifiers: m.modifiers });
        return;
      case 'mouseMotion':
        this.countMotion();
        if (this.session.mouseMode === MouseMode.Server) this.moveBy(m.dx, m.dy, m.buttons);
        return;
      case 'mousePosition':
        this.countMotion();
        if (this.session.mouseMode === MouseMode.Client) this.session.pointerAt = this.moveTo(m.x, m.y, m.buttons);
        return;
      case 'mousePress':
      case 'mouseRelease': {
        this.events++;
        const p = this.desktop.pointer;
        const buttons = m.buttons & ~WHEEL_MASK;
        this.desktop.input({
          kind: 'button',
          button: m.button,
          down: m.kind === 'mousePress',
          x: p.x,
          y: p.y,
          buttons,
        });
        return;
      }
    }
  }

  /**
   * A view-only viewer's inputs reach nobody. Motion is still acknowledged: both clients stop
   * sending it after 2 x 4 unacknowledged motions, and a viewer whose role changes should not
   * find its pointer stuck.
   */
  private ignore(kind: string): void {
    if (kind === 'mouseMotion' || kind === 'mousePosition') this.countMotion();
    this.ignored++;
  }

  private keys(bytes: ArrayLike<number>): void {
    for (const ev of parseScancodes(bytes)) {
      this.events++;
      this.desktop.input({ kind: 'key', scancode: ev.scancode, down: ev.down });
    }
  }

  /** Both clients stop sending motion after 2 x 4 unacknowledged motions: ack every fourth. */
  private countMotion(): void {
    this.motions++;
    if (this.motions % MOTION_ACK_BUNCH === 0) this.pushMessage(encodeMouseMotionAck());
  }

  private clampToScreen(x: number, y: number): { x: number; y: number } {
    const s = this.desktop.primary;
    const w = s ? s.width : 1;
    const h = s ? s.height : 1;
    return { x: Math.min(Math.max(0, x), w - 1), y: Math.min(Math.max(0, y), h - 1) };
  }

  /** Move the desktop's pointer; returns where it went (clamped to the screen). */
  private moveTo(x: number, y: number, buttons: number): { x: number; y: number } {
    this.events++;
    const p = this.clampToScreen(x, y);
    this.desktop.input({ kind: 'pointer', x: p.x, y: p.y, buttons: buttons & ~WHEEL_MASK });
    return p;
  }

  /** Server mouse mode: relative motion moves the shared pointer, and the cursor follows it. */
  private moveBy(dx: number, dy: number, buttons: number): void {
    const cur = this.desktop.pointer;
    this.moveTo(cur.x + dx, cur.y + dy, buttons);
    this.desktop.cursor({ kind: 'cursorMove', x: this.desktop.pointer.x, y: this.desktop.pointer.y });
  }
}
