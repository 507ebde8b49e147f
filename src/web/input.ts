import { MouseButton, MouseButtonMask, MouseMode } from '../protocol/constants.js';
import type { InputsClientMessage } from '../protocol/inputs.js';
import { packKeyCode } from '../protocol/scancode.js';
import { scancodeOf } from './keymap.js';

/** Pixels of wheel travel per SPICE wheel click (a line or a page counts as one click). */
const WHEEL_PIXELS_PER_CLICK = 50;

/** Pause is the one key that sends an E1 sequence, and no release code of its own. */
const PAUSE_BYTES = [0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5];

export interface InputTarget {
  send(m: InputsClientMessage): void;
  readonly mouseMode: number;
}

/** DOM MouseEvent.button to SPICE's button numbers. */
const BUTTONS: Readonly<Record<number, number>> = {
  0: MouseButton.Left,
  1: MouseButton.Middle,
  2: MouseButton.Right,
  3: MouseButton.Side,
  4: MouseButton.Extra,
};

/** DOM MouseEvent.buttons (left 1, right 2, middle 4, back 8, forward 16) to SPICE's mask. */
function buttonMask(domButtons: number): number {
  let m = 0;
  if (domButtons & 1) m |= MouseButtonMask.Left;
  if (domButtons & 2) m |= MouseButtonMask.Right;
  if (domButtons & 4) m |= MouseButtonMask.Middle;
  if (domButtons & 8) m |= MouseButtonMask.Side;
  if (domButtons & 16) m |= MouseButtonMask.Extra;
  return m;
}

/**
 * Keyboard and pointer of one canvas to SPICE inputs. Keys go by KeyboardEvent.code (physical key,
 * layout-independent); the browser's own handling of every key SPICE knows is suppressed while the
 * canvas has focus. The pointer goes as absolute positions in client mouse mode (touch included:
 * Pointer Events carry it) and as relative motion under pointer lock in server mode.
 */
export class InputController {
  private readonly held = new Set<number>();
  private wheelPixels = 0;
  private buttons = 0;
  /** A click is capturing the pointer (server mode): neither its press nor its release is sent. */
  private capturing = false;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly target: InputTarget,
  ) {
    canvas.tabIndex = 0;
    canvas.addEventListener('keydown', (e) => this.key(e, true));
    canvas.addEventListener('keyup', (e) => this.key(e, false));
    canvas.addEventListener('blur', () => this.releaseAll());
    canvas.addEventListener('pointermove', (e) => this.move(e));
    canvas.addEventListener('pointerdown', (e) => this.press(e, true));
    canvas.addEventListener('pointerup', (e) => this.press(e, false));
    canvas.addEventListener('wheel', (e) => this.wheel(e), { passive: false });
    canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  }

  /** Press the keys in order, then release them in reverse (the keys menu: Ctrl+Alt+Del...). */
  combo(codes: readonly string[]): void {
    const scancodes = codes.map((c) => scancodeOf(c)).filter((s): s is number => s !== undefined);
    for (const s of scancodes) this.target.send({ kind: 'keyDown', code: packKeyCode(s, true) });
    for (const s of [...scancodes].reverse()) this.target.send({ kind: 'keyUp', code: packKeyCode(s, false) });
  }

  /** Let go of every key still down (focus lost: the desktop must not see a key stuck). */
  releaseAll(): void {
    for (const s of this.held) this.target.send({ kind: 'keyUp', code: packKeyCode(s, false) });
    this.held.clear();
  }

  private key(e: KeyboardEvent, down: boolean): void {
    if (e.code === 'Pause') {
      e.preventDefault();
      if (down) this.target.send({ kind: 'keyScancode', data: Buffer.from(PAUSE_BYTES) });
      return;
    }
    const s = scancodeOf(e.code);
    if (s === undefined) return;
    // Ctrl+V and Shift+Insert go to the desktop and also let the browser fire its paste event,
    // which offers the browser's clipboard to the desktop (no permission prompt on that path).
    const paste = (e.ctrlKey && e.code === 'KeyV') || (e.shiftKey && e.code === 'Insert');
    if (!paste) e.preventDefault();
    if (down) this.held.add(s);
    else if (!this.held.delete(s)) return; // a release whose press went elsewhere
    this.target.send({ kind: down ? 'keyDown' : 'keyUp', code: packKeyCode(s, down) });
  }

  /** The pointer's position in surface pixels, whatever size the canvas is shown at. */
  private position(e: MouseEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    const x = Math.floor(((e.clientX - r.left) * this.canvas.width) / Math.max(r.width, 1));
    const y = Math.floor(((e.clientY - r.top) * this.canvas.height) / Math.max(r.height, 1));
    return { x: Math.min(Math.max(x, 0), this.canvas.width - 1), y: Math.min(Math.max(y, 0), this.canvas.height - 1) };
  }

  private get locked(): boolean {
    return document.pointerLockElement === this.canvas;
  }

  private move(e: PointerEvent): void {
    this.buttons = buttonMask(e.buttons);
    if (this.target.mouseMode === MouseMode.Client) {
      const { x, y } = this.position(e);
      this.target.send({ kind: 'mousePosition', x, y, buttons: this.buttons, displayId: 0 });
    } else if (this.locked && (e.movementX !== 0 || e.movementY !== 0)) {
      this.target.send({ kind: 'mouseMotion', dx: e.movementX, dy: e.movementY, buttons: this.buttons });
    }
  }

  private press(e: PointerEvent, down: boolean): void {
    e.preventDefault();
    this.canvas.focus();
    if (this.target.mouseMode === MouseMode.Server && !this.locked) {
      // Server mode moves a pointer of the desktop's own: the page's must be captured first.
      if (down) {
        this.capturing = true;
        void this.canvas.requestPointerLock();
      }
      return;
    }
    if (!down && this.capturing) {
      // The release of the click that captured the pointer: its press never went to the desktop.
      this.capturing = false;
      return;
    }
    this.capturing = false;
    const button = BUTTONS[e.button];
    if (button === undefined) return;
    if (down) this.canvas.setPointerCapture(e.pointerId);
    this.move(e);
    this.buttons = buttonMask(e.buttons);
    this.target.send({ kind: down ? 'mousePress' : 'mouseRelease', button, buttons: this.buttons });
  }

  private wheel(e: WheelEvent): void {
    e.preventDefault();
    const pixels = e.deltaMode === WheelEvent.DOM_DELTA_PIXEL ? e.deltaY : Math.sign(e.deltaY) * WHEEL_PIXELS_PER_CLICK;
    this.wheelPixels += pixels;
    while (Math.abs(this.wheelPixels) >= WHEEL_PIXELS_PER_CLICK) {
      const up = this.wheelPixels < 0;
      this.wheelPixels -= up ? -WHEEL_PIXELS_PER_CLICK : WHEEL_PIXELS_PER_CLICK;
      const button = up ? MouseButton.Up : MouseButton.Down;
      const mask = up ? MouseButtonMask.Up : MouseButtonMask.Down;
      this.target.send({ kind: 'mousePress', button, buttons: this.buttons | mask });
      this.target.send({ kind: 'mouseRelease', button, buttons: this.buttons });
    }
  }
}
