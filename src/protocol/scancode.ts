/**
 * PC/XT scan code set 1, as SPICE carries keys (docs/protocol.md, Inputs channel). A KEY_DOWN/KEY_UP code packs
 * the bytes little-endian into a u32 (0xE0 prefix first, zero-terminated); KEY_SCANCODE carries the
 * raw byte sequence. Bit 0x80 marks a release. Keys are reported as 0x01..0x7F, 0x100 | code for
 * E0-prefixed keys and 0x200 | code for the E1-prefixed Pause key.
 */
export interface KeyEvent {
  scancode: number;
  down: boolean;
}

export const EXTENDED = 0x100;
const PAUSE_PREFIX = 0x200;

/** The bytes of a packed KEY_DOWN/KEY_UP code, up to the first zero byte. */
export function packedCodeBytes(code: number): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < 4; i++) {
    const b = (code >>> (8 * i)) & 0xff;
    if (b === 0) break;
    bytes.push(b);
  }
  return bytes;
}

/** Decode a byte sequence into key events; incomplete prefixes at the end are ignored. */
export function parseScancodes(bytes: ArrayLike<number>): KeyEvent[] {
  const events: KeyEvent[] = [];
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b === 0xe0) {
      if (i + 1 >= bytes.length) break;
      const c = bytes[i + 1]!;
      events.push({ scancode: EXTENDED | (c & 0x7f), down: (c & 0x80) === 0 });
      i += 2;
    } else if (b === 0xe1) {
      // Pause: E1 1D 45 (make) E1 9D C5 (break)
      if (i + 2 >= bytes.length) break;
      const c = bytes[i + 2]!;
      events.push({ scancode: PAUSE_PREFIX | (c & 0x7f), down: (c & 0x80) === 0 });
      i += 3;
    } else {
      events.push({ scancode: b & 0x7f, down: (b & 0x80) === 0 });
      i += 1;
    }
  }
  return events;
}

/** The packed u32 code a client sends for a key (inverse of packedCodeBytes + parseScancodes). */
export function packKeyCode(scancode: number, down: boolean): number {
  const release = down ? 0 : 0x80;
  if (scancode & EXTENDED) return (0xe0 | (((scancode & 0x7f) | release) << 8)) >>> 0;
  return (scancode & 0x7f) | release;
}
