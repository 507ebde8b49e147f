import type { CursorShape } from '../../seam/index.js';
import { allocImage } from '../../display/pixels.js';
import { arrowCursor } from '../demo/cursor.js';

/*
 * The pointer shapes of the office session: the demo's arrow, an I-beam over text, a hand over
 * links and a fat cross over spreadsheet cells. Each is built once (shapes are immutable and
 * identified by id, so recordings store each one once).
 */

export type PointerKind = 'arrow' | 'text' | 'link' | 'cell';

/** '#' black, '.' white, ' ' transparent; rows may be shorter than the widest (padded right). */
function fromMask(id: number, rows: readonly string[], hotX: number, hotY: number): CursorShape {
  const width = Math.max(...rows.map((r) => r.length));
  const image = allocImage(width, rows.length);
  rows.forEach((row, y) => {
    for (let x = 0; x < row.length; x++) {
      const ch = row[x];
      if (ch !== '#' && ch !== '.') continue;
      const o = y * image.stride + x * 4;
      const v = ch === '#' ? 0x10 : 0xff;
      image.data[o] = v;
      image.data[o + 1] = v;
      image.data[o + 2] = v;
      image.data[o + 3] = 255;
    }
  });
  return { id, image, hotX, hotY };
}

/** Outline a shape: every transparent pixel touching an inner pixel gets `edge`. */
function outlined(
  inner: (x: number, y: number) => boolean,
  w: number,
  h: number,
  fill: '#' | '.',
  edge: '#' | '.',
): string[] {
  const rows: string[] = [];
  for (let y = 0; y < h; y++) {
    let row = '';
    for (let x = 0; x < w; x++) {
      let near = false;
      for (let dy = -1; dy <= 1 && !near; dy++) for (let dx = -1; dx <= 1 && !near; dx++) near = inner(x + dx, y + dy);
      row += inner(x, y) ? fill : near ? edge : ' ';
    }
    rows.push(row);
  }
  return rows;
}

function iBeam(): CursorShape {
  // A 1-pixel stem with two-pixel serifs, black with a white halo (visible on white paper and dark chrome).
  const stem = (x: number, y: number): boolean => x === 4 && y >= 1 && y <= 17;
  const serif = (x: number, y: number): boolean => (y === 1 || y === 17) && x >= 2 && x <= 6;
  const inner = (x: number, y: number): boolean => stem(x, y) || serif(x, y);
  return fromMask(0x0ff1ce01, outlined(inner, 9, 19, '#', '.'), 4, 9);
}

const HAND = [
  '     ##',
  '    #..#',
  '    #..#',
  '    #..#',
  '    #..###',
  '    #..#..##',
  '    #..#..#.##',
  ' ## #..#..#.#.#',
  '#..##........#.#',
  '#...#..........#',
  ' #.............#',
  '  #............#',
  '  #...........#',
  '   #..........#',
  '   #.........#',
  '    #........#',
  '    #........#',
  '    ##########',
];

function cross(): CursorShape {
  const inner = (x: number, y: number): boolean =>
    (Math.abs(x - 8) <= 1 && y >= 2 && y <= 14) || (Math.abs(y - 8) <= 1 && x >= 2 && x <= 14);
  return fromMask(0x0ff1ce03, outlined(inner, 17, 17, '.', '#'), 8, 8);
}

let shapes: Record<PointerKind, CursorShape> | undefined;

export function pointerShapes(): Record<PointerKind, CursorShape> {
  shapes ??= { arrow: arrowCursor(), text: iBeam(), link: fromMask(0x0ff1ce02, HAND, 5, 0), cell: cross() };
  return shapes;
}
