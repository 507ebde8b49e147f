/*
 * Raster operations as the SPICE canvas applies them to 32-bit pixels (whole u32 words, including
 * the X/alpha byte - spice-common pixman_utils.c works on the raw words too).
 *
 * QXL rop descriptors (SPICE_ROPD_*) are bit sets:
 *   bit 0 INVERS_SRC, 1 INVERS_BRUSH, 2 INVERS_DEST, 3 OP_PUT, 4 OP_OR, 5 OP_AND, 6 OP_XOR,
 *   7 OP_BLACKNESS, 8 OP_WHITENESS, 9 OP_INVERS, 10 INVERS_RES
 * The canvas reduces a descriptor to one of the 16 two-operand ROPs (SpiceROP, the X11 GX codes)
 * for a given pair of inputs: FILL combines brush and destination, COPY/BLEND source and
 * destination, OPAQUE brush and the freshly copied source. The first operation bit set wins
 * (PUT, OR, AND, XOR, BLACKNESS, WHITENESS, INVERS); none means PUT.
 */

const Ropd = {
  INVERS_SRC: 1 << 0,
  INVERS_BRUSH: 1 << 1,
  INVERS_DEST: 1 << 2,
  OP_PUT: 1 << 3,
  OP_OR: 1 << 4,
  OP_AND: 1 << 5,
  OP_XOR: 1 << 6,
  OP_BLACKNESS: 1 << 7,
  OP_WHITENESS: 1 << 8,
  OP_INVERS: 1 << 9,
  INVERS_RES: 1 << 10,
} as const;

/** SpiceROP: bit (2 * (1 - s) + (1 - d)) of the code is the result for source bit s, dest bit d. */
export const Rop = {
  CLEAR: 0,
  AND: 1,
  AND_REVERSE: 2,
  COPY: 3,
  AND_INVERTED: 4,
  NOOP: 5,
  XOR: 6,
  OR: 7,
  NOR: 8,
  EQUIV: 9,
  INVERT: 10,
  OR_REVERSE: 11,
  COPY_INVERTED: 12,
  OR_INVERTED: 13,
  NAND: 14,
  SET: 15,
} as const;

export type RopInput = 'src' | 'brush' | 'dest';

const INVERT_BIT: Readonly<Record<RopInput, number>> = {
  src: Ropd.INVERS_SRC,
  brush: Ropd.INVERS_BRUSH,
  dest: Ropd.INVERS_DEST,
};

/** canvas_base.c ropd_descriptor_to_rop(): the two-operand ROP for inputs (s, d). */
export function ropdToRop(desc: number, srcInput: RopInput, destInput: RopInput): number {
  const op = operationOf(desc);
  if (op === 'blackness') return Rop.CLEAR;
  if (op === 'whiteness') return Rop.SET;
  if (op === 'invers') return Rop.INVERT;
  const invS = (desc & INVERT_BIT[srcInput]) !== 0;
  const invD = (desc & INVERT_BIT[destInput]) !== 0;
  const invR = (desc & Ropd.INVERS_RES) !== 0;
  let code = 0;
  for (let s = 0; s <= 1; s++) {
    for (let d = 0; d <= 1; d++) {
      const a = invS ? 1 - s : s;
      const b = invD ? 1 - d : d;
      let r = op === 'put' ? a : op === 'or' ? a | b : op === 'and' ? a & b : a ^ b;
      if (invR) r = 1 - r;
      if (r) code |= 1 << (2 * (1 - s) + (1 - d));
    }
  }
  return code;
}

type RopdOperation = 'put' | 'or' | 'and' | 'xor' | 'blackness' | 'whiteness' | 'invers';

function operationOf(desc: number): RopdOperation {
  if (desc & Ropd.OP_PUT) return 'put';
  if (desc & Ropd.OP_OR) return 'or';
  if (desc & Ropd.OP_AND) return 'and';
  if (desc & Ropd.OP_XOR) return 'xor';
  if (desc & Ropd.OP_BLACKNESS) return 'blackness';
  if (desc & Ropd.OP_WHITENESS) return 'whiteness';
  if (desc & Ropd.OP_INVERS) return 'invers';
  return 'put';
}

/** Apply SpiceROP `rop` to source word `s` and destination word `d` (u32 in, u32 out). */
export function applyRop(rop: number, s: number, d: number): number {
  switch (rop) {
    case Rop.CLEAR:
      return 0;
    case Rop.AND:
      return (s & d) >>> 0;
    case Rop.AND_REVERSE:
      return (s & ~d) >>> 0;
    case Rop.COPY:
      return s >>> 0;
    case Rop.AND_INVERTED:
      return (~s & d) >>> 0;
    case Rop.NOOP:
      return d >>> 0;
    case Rop.XOR:
      return (s ^ d) >>> 0;
    case Rop.OR:
      return (s | d) >>> 0;
    case Rop.NOR:
      return (~s & ~d) >>> 0;
    case Rop.EQUIV:
      return (~s ^ d) >>> 0;
    case Rop.INVERT:
      return ~d >>> 0;
    case Rop.OR_REVERSE:
      return (s | ~d) >>> 0;
    case Rop.COPY_INVERTED:
      return ~s >>> 0;
    case Rop.OR_INVERTED:
      return (~s | d) >>> 0;
    case Rop.NAND:
      return (~s | ~d) >>> 0;
    case Rop.SET:
      return 0xffffffff;
    default:
      throw new Error(`unknown ROP ${rop}`);
  }
}

/**
 * Ternary raster operation (the Windows ROP3 codes spice-common rop3.c implements): bit
 * (4 * p + 2 * s + d) of `rop3` is the result for pattern bit p, source bit s, destination bit d.
 * Evaluated on whole words as the OR of the selected minterms, so all 256 codes work (spice-common
 * leaves a few unimplemented, e.g. 0x00/0xFF/0xCC, which GDI guests express with other ops).
 */
export function applyRop3(rop3: number, p: number, s: number, d: number): number {
  let out = 0;
  for (let idx = 0; idx < 8; idx++) {
    if (!((rop3 >> idx) & 1)) continue;
    const pp = idx & 4 ? p : ~p;
    const ss = idx & 2 ? s : ~s;
    const dd = idx & 1 ? d : ~d;
    out |= pp & ss & dd;
  }
  return out >>> 0;
}
