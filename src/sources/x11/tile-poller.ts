import { createHash } from 'node:crypto';
import type { PixelImage } from '../../display/pixels.js';
import { makeRect, type Rect } from '../../protocol/geometry.js';
import { bands, type Capture } from './capture.js';

/*
 * Change detection without DAMAGE: grab the whole screen every poll, hash each 64x64 tile, and
 * report the tiles whose hash changed (neighbours in a tile row merged into one rect), together
 * with their pixels, which were already fetched. Hashing (native MD5, about 4 MB per 1280x800
 * poll) keeps only 16 bytes per tile between polls instead of a second screen copy.
 */

const TILE = 64;

export interface ChangedArea {
  readonly rect: Rect;
  /** Pixels of `rect` (a zero-copy view into the band that was fetched). */
  readonly image: PixelImage;
}

export class TileHasher {
  private previous: (Buffer | undefined)[] = [];
  private readonly columns: number;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.columns = Math.ceil(width / TILE);
  }

  /** Hash the tiles of one band (`band` starts at a multiple of TILE) and return the changed areas. */
  diffBand(band: Rect, img: PixelImage): ChangedArea[] {
    const out: ChangedArea[] = [];
    const tileRow = band.top / TILE;
    let runStart = -1;
    for (let c = 0; c <= this.columns; c++) {
      const changed = c < this.columns && this.tileChanged(tileRow * this.columns + c, band, img, c);
      if (changed && runStart < 0) runStart = c;
      if (!changed && runStart >= 0) {
        out.push(viewArea(band, img, runStart * TILE, Math.min(this.width, c * TILE)));
        runStart = -1;
      }
    }
    return out;
  }

  private tileChanged(index: number, band: Rect, img: PixelImage, column: number): boolean {
    const left = column * TILE;
    const bytes = (Math.min(this.width, left + TILE) - left) * 4;
    const hash = createHash('md5');
    for (let y = 0; y < band.bottom - band.top; y++) {
      const at = y * img.stride + left * 4;
      hash.update(img.data.subarray(at, at + bytes));
    }
    const digest = hash.digest();
    const before = this.previous[index];
    this.previous[index] = digest;
    return !before || !before.equals(digest);
  }
}

function viewArea(band: Rect, img: PixelImage, left: number, right: number): ChangedArea {
  const rect = makeRect(band.top, left, band.bottom, right);
  const image: PixelImage = {
    width: right - left,
    height: img.height,
    stride: img.stride,
    data: img.data.subarray(left * 4),
  };
  return { rect, image };
}

/** One poll: grab the screen in tile-high bands and diff every band. */
export async function pollTiles(capture: Capture, hasher: TileHasher): Promise<ChangedArea[]> {
  const rects = bands({ top: 0, left: 0, bottom: hasher.height, right: hasher.width }, TILE);
  const images = await capture.grab(rects);
  return rects.flatMap((r, i) => hasher.diffBand(r, images[i]!));
}
