import type { ClipboardType } from '../../seam/index.js';

/*
 * How the agent protocol's clipboard types map to X selection targets (the atom names X clients
 * ask for and offer). Text travels as UTF-8 on the agent side; on the X side UTF8_STRING and
 * text/plain;charset=utf-8 carry UTF-8, STRING carries ISO 8859-1 (ICCCM), and TEXT lets the
 * owner pick the encoding, named by the type of the property it writes.
 *
 * Line ends: X applications use LF. spice-gtk converts line ends on the viewer's side according to
 * the GUEST_LINEEND_LF / GUEST_LINEEND_CRLF capability the agent announces, so text crosses this
 * module unchanged and the agent announces LF.
 */

/** Targets that carry each type, in the order we prefer them when reading from an X owner. */
export const TYPE_TARGETS: Readonly<Record<ClipboardType, readonly string[]>> = {
  text: ['UTF8_STRING', 'text/plain;charset=utf-8', 'STRING', 'TEXT'],
  png: ['image/png'],
  bmp: ['image/bmp', 'image/x-bmp', 'image/x-MS-bmp', 'image/x-win-bitmap'],
  tiff: ['image/tiff'],
  jpg: ['image/jpeg'],
};

/** Atoms the clipboard needs besides the targets. */
const PROTOCOL_ATOMS = ['CLIPBOARD', 'PRIMARY', 'TARGETS', 'TIMESTAMP', 'INCR', 'MULTIPLE'] as const;

/** Properties on our own window that conversions from X owners land in, one per selection. */
export const LANDING_PROPERTIES = { clipboard: 'SPICED_CLIPBOARD', primary: 'SPICED_PRIMARY' } as const;

const ALL_TYPES: readonly ClipboardType[] = ['text', 'png', 'bmp', 'tiff', 'jpg'];

/** Every atom name the clipboard interns at start. */
export function atomNames(): string[] {
  return [...PROTOCOL_ATOMS, ...Object.values(LANDING_PROPERTIES), ...ALL_TYPES.flatMap((t) => TYPE_TARGETS[t])];
}

/** The clipboard types an owner's TARGETS list offers, in ALL_TYPES order, with the target to ask for. */
export function typesOffered(targets: readonly string[]): Map<ClipboardType, string> {
  const offered = new Set(targets);
  const found = new Map<ClipboardType, string>();
  for (const type of ALL_TYPES) {
    const target = TYPE_TARGETS[type].find((name) => offered.has(name));
    if (target) found.set(type, target);
  }
  return found;
}

/** The clipboard type a requested target stands for, or undefined for a target we do not serve. */
export function typeOfTarget(target: string): ClipboardType | undefined {
  return ALL_TYPES.find((t) => TYPE_TARGETS[t].includes(target));
}

/**
 * The bytes and property type to give an X client that asked for `target`, from the viewer's
 * data of that target's clipboard type. STRING gets ISO 8859-1 (characters outside it become
 * '?'); TEXT is answered as UTF8_STRING, which ICCCM lets the owner choose.
 */
export function toTarget(target: string, data: Uint8Array): { typeName: string; bytes: Uint8Array } {
  if (target === 'STRING') return { typeName: 'STRING', bytes: utf8ToLatin1(data) };
  if (target === 'TEXT') return { typeName: 'UTF8_STRING', bytes: data };
  return { typeName: target, bytes: data };
}

/** Text an X owner wrote, as UTF-8: a STRING property is ISO 8859-1, the others are UTF-8 already. */
export function textFromProperty(typeName: string, bytes: Uint8Array): Uint8Array {
  return typeName === 'STRING' ? Buffer.from(Buffer.from(bytes).toString('latin1'), 'utf8') : bytes;
}

function utf8ToLatin1(data: Uint8Array): Uint8Array {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  const out = Buffer.alloc(text.length);
  let n = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    out[n++] = code <= 0xff ? code : 0x3f;
  }
  return out.subarray(0, n);
}
