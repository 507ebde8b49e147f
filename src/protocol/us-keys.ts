/*
 * The US keyboard layout in PC/XT scan-code set 1: which character each key makes, plain and with
 * Shift. Shared by the demo terminal (scancode to character), and the scripts and tests that type
 * text (character to scancode).
 */

/** Runs of consecutive scancodes: the first code, the plain characters, the shifted ones. */
const ROWS: readonly (readonly [number, string, string])[] = [
  [0x02, '1234567890-=', '!@#$%^&*()_+'],
  [0x10, 'qwertyuiop[]', 'QWERTYUIOP{}'],
  [0x1e, "asdfghjkl;'`", 'ASDFGHJKL:"~'],
  [0x2b, '\\zxcvbnm,./', '|ZXCVBNM<>?'],
  [0x39, ' ', ' '],
];

const ENTER_SCANCODE = 0x1c;

/** Visit every printable key: its scancode and its plain and shifted characters. */
export function forEachUsKey(visit: (scancode: number, plain: string, shifted: string) => void): void {
  for (const [first, plain, shifted] of ROWS) {
    for (let i = 0; i < plain.length; i++) visit(first + i, plain[i]!, shifted[i]!);
  }
}

const BY_CHAR = new Map<string, { scancode: number; shift: boolean }>([
  ['\n', { scancode: ENTER_SCANCODE, shift: false }],
]);
forEachUsKey((scancode, plain, shifted) => {
  if (!BY_CHAR.has(plain)) BY_CHAR.set(plain, { scancode, shift: false });
  if (!BY_CHAR.has(shifted)) BY_CHAR.set(shifted, { scancode, shift: true });
});

/** The key that types `ch` on a US keyboard (newline: Enter), or undefined when no key does. */
export function usKeyFor(ch: string): { scancode: number; shift: boolean } | undefined {
  return BY_CHAR.get(ch);
}
