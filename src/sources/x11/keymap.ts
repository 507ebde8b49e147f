import type { KeyboardMapping } from './core.js';

/*
 * PC/XT set-1 scancodes (0x100 | code for E0-prefixed keys) to X keycodes. Xorg with evdev, Xvfb
 * and Xwayland all use evdev keycodes = Linux input key code + 8, and for most plain keys the
 * Linux code equals the set-1 scancode. The exceptions and every extended key need the tables
 * below (from the kernel's atkbd set-1 translation). We then check the server's keymap: when an
 * extended key's evdev keycode does not carry the expected keysym (e.g. an old server with
 * "xfree86" keycodes, where Up is 98 rather than 111), we use the keycode that does.
 */

/** Plain scancodes whose Linux key code differs from the scancode. */
const PLAIN_EXCEPTIONS: ReadonlyMap<number, number> = new Map([
  [0x54, 99], // Alt+PrintScreen (SysRq)
  [0x59, 117], // KP =
  [0x64, 183], // F13 .. F23
  [0x65, 184],
  [0x66, 185],
  [0x67, 186],
  [0x68, 187],
  [0x69, 188],
  [0x6a, 189],
  [0x6b, 190],
  [0x6c, 191],
  [0x6d, 192],
  [0x6e, 193],
  [0x70, 93], // Katakana/Hiragana
  [0x73, 89], // RO
  [0x76, 194], // F24
  [0x79, 92], // Henkan
  [0x7b, 94], // Muhenkan
  [0x7d, 124], // Yen
  [0x7e, 121], // KP , (Brazilian)
]);

/** E0-prefixed scancodes to Linux key codes. */
const EXTENDED: ReadonlyMap<number, number> = new Map([
  [0x10, 165], // previous song
  [0x19, 163], // next song
  [0x1c, 96], // KP Enter
  [0x1d, 97], // Right Ctrl
  [0x20, 113], // mute
  [0x21, 140], // calculator
  [0x22, 164], // play/pause
  [0x24, 166], // stop
  [0x2e, 114], // volume down
  [0x30, 115], // volume up
  [0x32, 172], // www home
  [0x35, 98], // KP /
  [0x37, 99], // Print Screen
  [0x38, 100], // Right Alt (AltGr)
  [0x45, 119], // Pause (some clients send E0 45; E1 1D 45 is folded to it upstream)
  [0x46, 119], // Ctrl+Break
  [0x47, 102], // Home
  [0x48, 103], // Up
  [0x49, 104], // Page Up
  [0x4b, 105], // Left
  [0x4d, 106], // Right
  [0x4f, 107], // End
  [0x50, 108], // Down
  [0x51, 109], // Page Down
  [0x52, 110], // Insert
  [0x53, 111], // Delete
  [0x5b, 125], // Left Super
  [0x5c, 126], // Right Super
  [0x5d, 127], // Menu
  [0x5e, 116], // Power
  [0x5f, 142], // Sleep
  [0x63, 143], // Wake
  [0x65, 217], // search
  [0x66, 156], // bookmarks
  [0x67, 173], // refresh
  [0x68, 128], // stop
  [0x69, 159], // forward
  [0x6a, 158], // back
  [0x6b, 157], // my computer
  [0x6c, 155], // mail
  [0x6d, 226], // media select
]);

const EVDEV_OFFSET = 8;

/** The evdev keycode for a set-1 scancode, before any check against the server's keymap. */
export function scancodeToEvdevKeycode(scancode: number): number | undefined {
  if (scancode & 0x100) {
    const linux = EXTENDED.get(scancode & 0xff);
    return linux === undefined ? undefined : linux + EVDEV_OFFSET;
  }
  if (scancode <= 0 || scancode > 0x7f) return undefined;
  const linux = PLAIN_EXCEPTIONS.get(scancode) ?? (scancode <= 0x58 ? scancode : undefined);
  return linux === undefined ? undefined : linux + EVDEV_OFFSET;
}

export const KEYSYM = {
  Escape: 0xff1b,
  BackSpace: 0xff08,
  Tab: 0xff09,
  Return: 0xff0d,
  space: 0x20,
  Shift_L: 0xffe1,
  Control_L: 0xffe3,
  Caps_Lock: 0xffe5,
  Num_Lock: 0xff7f,
  Scroll_Lock: 0xff14,
} as const;

/** Layout-independent plain keys whose keysym proves the keycodes are evdev-like. */
const PLAIN_CHECKS: readonly [number, number][] = [
  [0x01, KEYSYM.Escape],
  [0x0e, KEYSYM.BackSpace],
  [0x0f, KEYSYM.Tab],
  [0x1c, KEYSYM.Return],
  [0x39, KEYSYM.space],
  [0x2a, KEYSYM.Shift_L],
  [0x1d, KEYSYM.Control_L],
];

/** Extended keys and the keysyms (any of) their keycode should produce in the first column. */
const EXTENDED_CHECKS: readonly [number, readonly number[]][] = [
  [0x11c, [0xff8d]], // KP_Enter
  [0x11d, [0xffe4]], // Control_R
  [0x135, [0xffaf]], // KP_Divide
  [0x137, [0xff61]], // Print
  [0x138, [0xffea, 0xfe03]], // Alt_R, ISO_Level3_Shift
  [0x147, [0xff50]], // Home
  [0x148, [0xff52]], // Up
  [0x149, [0xff55]], // Prior
  [0x14b, [0xff51]], // Left
  [0x14d, [0xff53]], // Right
  [0x14f, [0xff57]], // End
  [0x150, [0xff54]], // Down
  [0x151, [0xff56]], // Next
  [0x152, [0xff63]], // Insert
  [0x153, [0xffff]], // Delete
  [0x15b, [0xffeb]], // Super_L
  [0x15c, [0xffec]], // Super_R
  [0x15d, [0xff67]], // Menu
];

export class KeyMapper {
  /** What the keymap check found (for the log); empty when everything is as expected. */
  readonly problems: string[] = [];
  private readonly overrides = new Map<number, number>();

  constructor(private readonly mapping: KeyboardMapping) {
    this.checkPlain();
    this.checkExtended();
  }

  /** The keysym in column `col` of `keycode` (0 = NoSymbol). */
  keysym(keycode: number, col = 0): number {
    const { firstKeycode, keysymsPerKeycode, keysyms } = this.mapping;
    if (col >= keysymsPerKeycode) return 0;
    return keysyms[(keycode - firstKeycode) * keysymsPerKeycode + col] ?? 0;
  }

  /** The first keycode that produces `sym` unshifted. */
  keycodeForKeysym(sym: number): number | undefined {
    const { firstKeycode, keysymsPerKeycode, keysyms } = this.mapping;
    const count = keysyms.length / keysymsPerKeycode;
    for (let i = 0; i < count; i++) if (keysyms[i * keysymsPerKeycode] === sym) return firstKeycode + i;
    return undefined;
  }

  keycode(scancode: number): number | undefined {
    return this.overrides.get(scancode) ?? scancodeToEvdevKeycode(scancode);
  }

  private checkPlain(): void {
    const wrong = PLAIN_CHECKS.filter(([sc, sym]) => this.keysym(scancodeToEvdevKeycode(sc)!) !== sym);
    if (wrong.length > 0) {
      const list = wrong.map(
        ([sc, sym]) =>
          `scancode 0x${sc.toString(16)} -> keycode ${scancodeToEvdevKeycode(sc)} (want keysym 0x${sym.toString(16)})`,
      );
      this.problems.push(`X keymap is not evdev-like, typed keys may be wrong: ${list.join(', ')}`);
    }
  }

  private checkExtended(): void {
    for (const [sc, syms] of EXTENDED_CHECKS) {
      const evdev = scancodeToEvdevKeycode(sc)!;
      if (syms.includes(this.keysym(evdev))) continue;
      const found = syms.map((s) => this.keycodeForKeysym(s)).find((k) => k !== undefined);
      if (found === undefined) continue; // the layout has no such key: keep the evdev guess
      this.overrides.set(sc, found);
      this.problems.push(
        `scancode E0 ${(sc & 0xff).toString(16)} mapped to keycode ${found} (evdev ${evdev} has another keysym)`,
      );
    }
  }
}
