import type { PixelImage } from '../../display/pixels.js';
import { fillRect, pitch, pixelsOf } from './raster.js';

/*
 * The demo's own bitmap font (designed for this project): printable ASCII 32..126 in a 6x11 glyph
 * box, drawn inside an 8x16 cell (one blank column left, one or two right; three blank rows above,
 * two below), so text lines can be stacked and scrolled by whole cells. Capitals and digits use glyph
 * rows 1..8, lower case 3..8, descenders 9..10. Each glyph is 11 rows of two hex digits; bit 5 is the
 * leftmost column.
 */
export const CELL_W = 8;
export const CELL_H = 16;
const GLYPH_X = 1;
const GLYPH_Y = 3;
const GLYPH_ROWS = 11;

const GLYPH_HEX =
  '0000000000000000000000 0008080808080800080000 0014141400000000000000 000014143e143e14140000 ' +
  '00081e28281c0a0a3c0800 0030310204081023030000 00182424182926221d0000 0008081000000000000000 ' +
  '0408101010101010080400 1008040404040404081000 000000082a1c2a08000000 00000008083e0808000000 ' +
  '000000000000000c0c0408 00000000003e0000000000 000000000000000c0c0000 0002040408081010200000 ' +
  '001c22222a2a22221c0000 00081828080808083e0000 001c2202040810203e0000 001c22020c0202221c0000 ' +
  '00040c14243e0404040000 003e20203c0202221c0000 000c10203c2222221c0000 003e020404080810100000 ' +
  '001c22221c2222221c0000 001c2222221e0204180000 0000000c0c00000c0c0000 0000000c0c00000c0c0408 ' +
  '0000020408100804020000 000000003e003e00000000 0000201008040810200000 001c220204080800080000 ' +
  '001c222e2a2a2e201e0000 00081422223e2222220000 003c22223c2222223c0000 001c2220202020221c0000 ' +
  '0038242222222224380000 003e20203c2020203e0000 003e20203c202020200000 001c2220202622221e0000 ' +
  '002222223e222222220000 001c0808080808081c0000 000e040404040424180000 0022242830282422220000 ' +
  '00202020202020203e0000 0022362a2a222222220000 002232322a2a2626220000 001c2222222222221c0000 ' +
  '003c2222223c2020200000 001c222222222a241a0000 003c2222223c2824220000 001c22201c0202221c0000 ' +
  '003e080808080808080000 00222222222222221c0000 0022222222141414080000 002222222a2a2a36220000 ' +
  '0022221408081422220000 0022221408080808080000 003e0204080810203e0000 1c10101010101010101c00 ' +
  '0020101008080404020000 1c04040404040404041c00 0008142200000000000000 000000000000000000003e ' +
  '0010080000000000000000 0000001c021e22221e0000 0020202c322222223c0000 0000001c222020221c0000 ' +
  '0002021e222222221e0000 0000001c223e20221c0000 000c103c10101010100000 0000001e222222221e021c ' +
  '0020202c32222222220000 00080018080808081c0000 0004000c04040404042418 0020202224382422220000 ' +
  '00180808080808081c0000 000000342a2a2a2a2a0000 0000002c32222222220000 0000001c222222221c0000 ' +
  '0000003c222222223c2020 0000001e222222221e0202 0000002c32202020200000 0000001e201c02023c0000 ' +
  '0010103c101010100c0000 00000022222222221e0000 0000002222221414080000 00000022222a2a2a140000 ' +
  '0000002214080814220000 00000022222222221e021c 0000003e040810203e0000 0608080810080808080600 ' +
  '0808080808080808080808 1804040402040404041800 000000001a2c0000000000';

/** Decoded rows, glyph-major: GLYPHS[(code - 32) * 11 + row], bit 5 = leftmost column. */
const GLYPHS: Uint8Array = decodeGlyphs(GLYPH_HEX);

function decodeGlyphs(hex: string): Uint8Array {
  const words = hex.split(' ');
  if (words.length !== 95) throw new Error(`font: expected 95 glyphs, got ${words.length}`);
  const out = new Uint8Array(95 * GLYPH_ROWS);
  words.forEach((w, g) => {
    for (let r = 0; r < GLYPH_ROWS; r++) out[g * GLYPH_ROWS + r] = parseInt(w.slice(2 * r, 2 * r + 2), 16);
  });
  return out;
}

/** Unknown characters are shown as '?' rather than dropped, so column positions stay put. */
function glyphIndex(code: number): number {
  return code >= 32 && code <= 126 ? code - 32 : '?'.charCodeAt(0) - 32;
}

export interface TextStyle {
  /** Integer magnification of the whole cell (1 = 8x16). */
  scale?: number;
  /** Smear each glyph one pixel to the right for a heavier weight. */
  bold?: boolean;
}

export function measureText(text: string, style: TextStyle = {}): { width: number; height: number } {
  const scale = style.scale ?? 1;
  return { width: text.length * CELL_W * scale, height: CELL_H * scale };
}

/**
 * Draw `text` with its first cell's top-left at (x, y), clipped to the image. With `bg` the cells
 * are filled first (so redrawing a line fully replaces it). Returns the x after the last cell.
 */
export function drawText(
  img: PixelImage,
  x: number,
  y: number,
  text: string,
  fg: number,
  bg?: number,
  style: TextStyle = {},
): number {
  const scale = Math.max(1, Math.floor(style.scale ?? 1));
  const { width, height } = measureText(text, { scale });
  if (bg !== undefined) fillRect(img, x, y, width, height, bg);
  for (let i = 0; i < text.length; i++) {
    drawGlyph(img, x + i * CELL_W * scale, y, glyphIndex(text.charCodeAt(i)), fg, scale, style.bold === true);
  }
  return x + width;
}

function drawGlyph(
  img: PixelImage,
  cellX: number,
  cellY: number,
  glyph: number,
  fg: number,
  scale: number,
  bold: boolean,
): void {
  const px = pixelsOf(img);
  const p = pitch(img);
  const color = fg >>> 0;
  for (let r = 0; r < GLYPH_ROWS; r++) {
    // Widen to seven columns (bit 6 = column 0) so a bold smear of column 5 has somewhere to go.
    let bits = (GLYPHS[glyph * GLYPH_ROWS + r] ?? 0) << 1;
    if (bits === 0) continue;
    if (bold) bits |= bits >> 1;
    for (let c = 0; c < 7; c++) {
      if ((bits & (1 << (6 - c))) === 0) continue;
      const x0 = cellX + (GLYPH_X + c) * scale;
      const y0 = cellY + (GLYPH_Y + r) * scale;
      for (let sy = 0; sy < scale; sy++) {
        const y = y0 + sy;
        if (y < 0 || y >= img.height) continue;
        for (let sx = 0; sx < scale; sx++) {
          const xx = x0 + sx;
          if (xx >= 0 && xx < img.width) px[y * p + xx] = color;
        }
      }
    }
  }
}
