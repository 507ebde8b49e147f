import { KeyModifier } from '../../protocol/constants.js';
import type { InputEvent } from '../../seam/index.js';
import type { ExtensionInfo, XConnection } from './connection.js';
import { getModifierMapping, queryPointer } from './core.js';
import {
  FAKE_BUTTON_PRESS,
  FAKE_BUTTON_RELEASE,
  FAKE_KEY_PRESS,
  FAKE_KEY_RELEASE,
  FAKE_MOTION,
  fakeInput,
} from './ext-xtest.js';
import { KEYSYM, type KeyMapper } from './keymap.js';

/*
 * Viewer input into the X server through XTEST, which injects events as if the core keyboard and
 * pointer produced them (the same path xdotool uses). Pointer positions are absolute root-window
 * pixels. Lock keys: the client tells us its Caps/Num lock state; when it differs from the X
 * server's (read from the modifier mask of QueryPointer, which works on any server including
 * Xvfb without XKB requests) we tap the lock key. Scroll Lock has no core modifier, so it is not
 * synchronised.
 */

const LOCK_MASK = 0x2;
/** SPICE buttons 1..7 to X buttons (6/7 are the side buttons, X's 8/9). */
const X_BUTTON = [0, 1, 2, 3, 4, 5, 8, 9];
/** Bits of the SPICE button mask and the X buttons they stand for. */
const MASK_BUTTONS: readonly [number, number][] = [
  [1, 1],
  [2, 2],
  [4, 3],
];

export interface LockKeys {
  /** Modifier mask bit of Num Lock (0 when no modifier carries it). */
  readonly numMask: number;
  readonly capsKeycode: number | undefined;
  readonly numKeycode: number | undefined;
}

/** Find where Caps and Num Lock live in the server's keymap and modifier mapping. */
export async function findLockKeys(conn: XConnection, keys: KeyMapper): Promise<LockKeys> {
  const mods = await getModifierMapping(conn);
  const numKeycode = keys.keycodeForKeysym(KEYSYM.Num_Lock);
  const numIndex = numKeycode === undefined ? -1 : mods.findIndex((codes) => codes.includes(numKeycode));
  return {
    numMask: numIndex < 0 ? 0 : 1 << numIndex,
    capsKeycode: keys.keycodeForKeysym(KEYSYM.Caps_Lock),
    numKeycode,
  };
}

/** SPICE lock flags from an X modifier mask. */
export function locksFromMask(mask: number, locks: LockKeys): number {
  let flags = 0;
  if (mask & LOCK_MASK) flags |= KeyModifier.CapsLock;
  if (locks.numMask !== 0 && mask & locks.numMask) flags |= KeyModifier.NumLock;
  return flags;
}

export class InputInjector {
  private buttons = 0;
  private readonly pressedKeys = new Set<number>();
  private readonly pressedButtons = new Set<number>();
  private x = -1;
  private y = -1;
  /** Scancodes (and, negated, buttons) already reported as unusable: each is logged once. */
  private readonly reported = new Set<number>();
  /** Lock state the latest KEY_MODIFIERS asked for, not yet being synced. */
  private locksWanted: number | undefined;
  private locksBusy = false;

  constructor(
    private readonly conn: XConnection,
    private readonly xtest: ExtensionInfo,
    private readonly root: number,
    private readonly keys: KeyMapper,
    private readonly locks: LockKeys,
    private readonly size: () => { width: number; height: number },
    private readonly log: (msg: string) => void,
  ) {}

  handle(ev: InputEvent): void {
    if (this.conn.isClosed) return;
    switch (ev.kind) {
      case 'key':
        this.key(ev.scancode, ev.down);
        return;
      case 'pointer':
        this.move(ev.x, ev.y);
        this.syncButtonMask(ev.buttons);
        return;
      case 'button':
        this.move(ev.x, ev.y);
        this.button(ev.button, ev.down);
        return;
      case 'modifiers':
        this.wantLocks(ev.modifiers);
        return;
    }
  }

  /** Release everything we hold down (a viewer that disconnects mid-press must not leave stuck keys). */
  releaseAll(): void {
    if (this.conn.isClosed) return;
    for (const k of this.pressedKeys) fakeInput(this.conn, this.xtest, FAKE_KEY_RELEASE, k);
    for (const b of this.pressedButtons) fakeInput(this.conn, this.xtest, FAKE_BUTTON_RELEASE, b);
    this.pressedKeys.clear();
    this.pressedButtons.clear();
    this.buttons = 0;
  }

  private key(scancode: number, down: boolean): void {
    const keycode = this.keys.keycode(scancode);
    if (keycode === undefined) {
      this.logOnce(scancode, `no X keycode for scancode 0x${scancode.toString(16)}; key ignored`);
      return;
    }
    if (down) this.pressedKeys.add(keycode);
    else this.pressedKeys.delete(keycode);
    fakeInput(this.conn, this.xtest, down ? FAKE_KEY_PRESS : FAKE_KEY_RELEASE, keycode);
  }

  private move(x: number, y: number): void {
    const { width, height } = this.size();
    const cx = Math.max(0, Math.min(width - 1, Math.round(x)));
    const cy = Math.max(0, Math.min(height - 1, Math.round(y)));
    if (cx === this.x && cy === this.y) return;
    this.x = cx;
    this.y = cy;
    // detail 0 = absolute coordinates on `root`.
    fakeInput(this.conn, this.xtest, FAKE_MOTION, 0, this.root, cx, cy);
  }

  private button(spiceButton: number, down: boolean): void {
    const xButton = X_BUTTON[spiceButton];
    if (xButton === undefined || xButton === 0) {
      this.logOnce(-1 - spiceButton, `unknown pointer button ${spiceButton}; ignored`);
      return;
    }
    const bit = MASK_BUTTONS.find(([, b]) => b === xButton)?.[0] ?? 0;
    if (bit !== 0) this.buttons = down ? this.buttons | bit : this.buttons & ~bit;
    if (down) this.pressedButtons.add(xButton);
    else this.pressedButtons.delete(xButton);
    fakeInput(this.conn, this.xtest, down ? FAKE_BUTTON_PRESS : FAKE_BUTTON_RELEASE, xButton);
  }

  /**
   * Viewers send what they like as often as they like: one line per unusable key or button, not per
   * event. The set is bounded by the scancode space (0 to 0x2ff) and SPICE's 8-bit button numbers.
   */
  private logOnce(what: number, message: string): void {
    if (this.reported.has(what)) return;
    this.reported.add(what);
    this.log(message);
  }

  /** Motion events carry the button mask: press or release whatever differs from what X has. */
  private syncButtonMask(mask: number): void {
    for (const [bit, xButton] of MASK_BUTTONS) {
      const want = (mask & bit) !== 0;
      if (want !== ((this.buttons & bit) !== 0)) this.button(xButton, want);
    }
  }

  /**
   * One lock sync at a time, for the latest wish: each sync asks X for the lock state and then taps
   * what differs, so overlapping syncs all saw the same state and each tapped (a burst of
   * KEY_MODIFIERS toggled Caps Lock once per message, and queued a round trip for each).
   */
  private wantLocks(flags: number): void {
    this.locksWanted = flags;
    if (this.locksBusy) return;
    this.locksBusy = true;
    void this.syncWantedLocks().finally(() => (this.locksBusy = false));
  }

  private async syncWantedLocks(): Promise<void> {
    for (let flags = this.locksWanted; flags !== undefined && !this.conn.isClosed; flags = this.locksWanted) {
      this.locksWanted = undefined;
      await this.syncLocks(flags).catch((err: unknown) => {
        if (!this.conn.isClosed) this.log(`lock key sync failed: ${(err as Error).message}`);
      });
    }
  }

  private async syncLocks(clientFlags: number): Promise<void> {
    const { mask } = await queryPointer(this.conn, this.root);
    const xFlags = locksFromMask(mask, this.locks);
    this.tapIfDifferent(clientFlags, xFlags, KeyModifier.CapsLock, this.locks.capsKeycode);
    if (this.locks.numMask !== 0) this.tapIfDifferent(clientFlags, xFlags, KeyModifier.NumLock, this.locks.numKeycode);
  }

  private tapIfDifferent(client: number, x: number, flag: number, keycode: number | undefined): void {
    if ((client & flag) === (x & flag) || keycode === undefined) return;
    fakeInput(this.conn, this.xtest, FAKE_KEY_PRESS, keycode);
    fakeInput(this.conn, this.xtest, FAKE_KEY_RELEASE, keycode);
  }
}
