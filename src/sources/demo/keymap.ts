/*
 * PC/XT set-1 scancodes to terminal actions, with Shift, Ctrl and Caps Lock state. Extended
 * (E0-prefixed) keys arrive as 0x100 | code.
 */
import { forEachUsKey } from '../../protocol/us-keys.js';

export type KeyAction =
  | { kind: 'char'; ch: string }
  | { kind: 'enter' }
  | { kind: 'backspace' }
  | { kind: 'historyUp' }
  | { kind: 'historyDown' }
  /** Ctrl+letter (lower case letter). */
  | { kind: 'control'; key: string };

/** Plain and shifted characters, indexed by scancode. */
const PLAIN: Record<number, string> = {};
const SHIFTED: Record<number, string> = {};

function key(code: number, plain: string, shifted: string): void {
  PLAIN[code] = plain;
  SHIFTED[code] = shifted;
}

forEachUsKey(key);
// Keypad operators, which do not depend on Num Lock.
key(0x37, '*', '*');
key(0x4a, '-', '-');
key(0x4e, '+', '+');

/** Keypad digits when Num Lock is on (0x47..0x53: 7 8 9 - 4 5 6 + 1 2 3 0 .). */
const KEYPAD = '789-456+1230.';

const SC = {
  backspace: 0x0e,
  tab: 0x0f,
  enter: 0x1c,
  ctrl: 0x1d,
  lshift: 0x2a,
  rshift: 0x36,
  caps: 0x3a,
  numLock: 0x45,
  kpEnter: 0x11c,
  rctrl: 0x11d,
  kpSlash: 0x135,
  up: 0x148,
  down: 0x150,
} as const;

/** KeyModifier flags as the inputs channel reports them. */
const LockFlags = { scroll: 1, num: 2, caps: 4 } as const;

export class Keyboard {
  private shift = new Set<number>();
  private ctrl = new Set<number>();
  // remote-viewer reports all locks off when it connects; start from the same state.
  private caps = false;
  private num = false;

  /** Lock state for viewers (KeyModifier flags). */
  get locks(): number {
    return (this.caps ? LockFlags.caps : 0) | (this.num ? LockFlags.num : 0);
  }

  /** Take the client's lock-key state (it is authoritative after a reconnect or focus change). */
  setLocks(flags: number): void {
    this.caps = (flags & LockFlags.caps) !== 0;
    this.num = (flags & LockFlags.num) !== 0;
  }

  /** Feed one key event; returns what the terminal should do, if anything. */
  key(scancode: number, down: boolean): KeyAction | undefined {
    if (this.trackModifier(scancode, down) || !down) return undefined;
    switch (scancode) {
      case SC.caps:
        this.caps = !this.caps;
        return undefined;
      case SC.numLock:
        this.num = !this.num;
        return undefined;
      case SC.enter:
      case SC.kpEnter:
        return { kind: 'enter' };
      case SC.backspace:
        return { kind: 'backspace' };
      case SC.tab:
        return { kind: 'char', ch: ' ' };
      case SC.up:
        return { kind: 'historyUp' };
      case SC.down:
        return { kind: 'historyDown' };
      case SC.kpSlash:
        return { kind: 'char', ch: '/' };
      default:
        return this.printable(scancode);
    }
  }

  /** Shift and Ctrl are tracked per physical key so releasing one of two held keys keeps the state. */
  private trackModifier(scancode: number, down: boolean): boolean {
    const set =
      scancode === SC.lshift || scancode === SC.rshift
        ? this.shift
        : scancode === SC.ctrl || scancode === SC.rctrl
          ? this.ctrl
          : undefined;
    if (set === undefined) return false;
    if (down) set.add(scancode);
    else set.delete(scancode);
    return true;
  }

  private printable(scancode: number): KeyAction | undefined {
    if (scancode >= 0x47 && scancode <= 0x53 && PLAIN[scancode] === undefined) {
      const ch = KEYPAD[scancode - 0x47];
      return this.num && ch !== undefined ? { kind: 'char', ch } : undefined;
    }
    const plain = PLAIN[scancode];
    if (plain === undefined) return undefined;
    const isLetter = plain >= 'a' && plain <= 'z';
    if (this.ctrl.size > 0) return isLetter ? { kind: 'control', key: plain } : undefined;
    // Caps Lock flips the shift state of letters only.
    const shifted = this.shift.size > 0 !== (isLetter && this.caps);
    return { kind: 'char', ch: shifted ? (SHIFTED[scancode] ?? plain) : plain };
  }
}
