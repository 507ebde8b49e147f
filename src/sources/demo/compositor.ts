import type { DisplayCommand } from '../../seam/index.js';
import { allocImage, cropImage, type PixelImage } from '../../display/pixels.js';
import { Surface } from '../../display/surface.js';
import { intersectRect, rectContains, rectIsEmpty, unionRect, type Rect, makeRect } from '../../protocol/geometry.js';
import type { Layer } from './layer.js';
import { mix, pitch, pixelsOf } from './raster.js';
import { MAX_RECTS, mergeRects, subtractRect, translateRect, worthMerging } from './rects.js';

/** What scene parts may ask of the compositor when their pixels change. */
export interface SceneHost {
  /** Part of a layer (local coordinates; the whole layer when omitted) has new pixels. */
  invalidate(layer: Layer, local?: Rect): void;
  /**
   * The layer has already moved the pixels of `local` by (dx, dy) inside its own image; mirror that
   * on the screen (copyBits for the parts no other layer covers). The uncovered strip is marked
   * damaged; the caller draws the new content there.
   */
  scroll(layer: Layer, local: Rect, dx: number, dy: number): void;
}

/** Running totals of what was emitted, for the status bar, tests and benchmarks. */
export interface WireStats {
  commands: number;
  fills: number;
  copies: number;
  copyBits: number;
  /** Pixels carried by copy images. */
  copyPixels: number;
}

/** Damage is diffed in horizontal bands so that two far-apart changes do not become one big box. */
const DIFF_BAND = 16;
/** Unchanged columns narrower than this between two changes are sent rather than split around. */
const RUN_GAP = 24;
/** Initial screen: one command per this many rows. */
const PAINT_BAND = 128;
/** Strips up to this tall whose rows are each one colour go out as fills instead of an image. */
const ROW_FILL_MAX = 4;

/**
 * Keeps the source's back buffer (what every viewer's surface holds once it has applied all emitted
 * commands) and turns scene changes into few, small commands. The invariant: the back buffer equals
 * the composition of the layers everywhere outside the pending damage list. Moves and scrolls are
 * emitted at once as copyBits (cheap on the wire), damage is recomposed and diffed on flush.
 */
export class Compositor implements SceneHost {
  readonly back: Surface;
  readonly stats: WireStats = { commands: 0, fills: 0, copies: 0, copyBits: 0, copyPixels: 0 };
  private readonly layers: Layer[] = [];
  private dirty: Rect[] = [];

  constructor(
    readonly width: number,
    readonly height: number,
    private readonly emit: (cmd: DisplayCommand) => void,
    private readonly surfaceId = 0,
  ) {
    this.back = new Surface(surfaceId, width, height);
  }

  private get screen(): Rect {
    return this.back.bounds;
  }

  /** Add a layer on top of the existing ones. */
  add(layer: Layer): void {
    this.layers.push(layer);
    this.invalidateScreen(layer.rect);
  }

  /** The topmost layer under a screen point. */
  layerAt(x: number, y: number): Layer | undefined {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const layer = this.layers[i] as Layer;
      if (layer.hit(x, y)) return layer;
    }
    return undefined;
  }

  invalidate(layer: Layer, local?: Rect): void {
    const r = local ?? { top: 0, left: 0, bottom: layer.height, right: layer.width };
    this.invalidateScreen(translateRect(r, layer.x, layer.y));
  }

  invalidateScreen(r: Rect): void {
    this.addDirty(intersectRect(r, this.screen));
  }

  /**
   * Record damage, bounded: past MAX_RECTS rects the list becomes their bounding box, as flush would
   * make it. Input comes in bursts between frames (one inputs message may hold any number of key
   * presses) and each scroll adds a moved copy of the damage it carries, so an unbounded list
   * doubled per scroll: 22 Enters in one message exhausted the heap.
   */
  private addDirty(r: Rect): void {
    if (rectIsEmpty(r)) return;
    this.dirty.push(r);
    if (this.dirty.length > MAX_RECTS) this.dirty = mergeRects(this.dirty);
  }

  /** Put a layer somewhere else; uses copyBits when nothing lies above it. */
  moveLayer(layer: Layer, x: number, y: number): void {
    if (x === layer.x && y === layer.y) return;
    const dx = x - layer.x;
    const dy = y - layer.y;
    const before = layer.rect;
    layer.x = x;
    layer.y = y;
    const after = layer.rect;
    const visible = intersectRect(before, this.screen);
    if (rectIsEmpty(visible) || this.coveredAbove(layer, unionRect(before, after))) {
      this.invalidateScreen(before);
      this.invalidateScreen(after);
      return;
    }
    const moved = this.moveScreen(visible, dx, dy, after);
    for (const r of subtractRect(before, after)) this.invalidateScreen(r);
    for (const r of subtractRect(after, moved)) this.invalidateScreen(r);
    // Rounded corners carried the old background along; recompose them over the new one.
    for (const r of layer.partialRects) this.invalidateScreen(translateRect(r, x, y));
  }

  scroll(layer: Layer, local: Rect, dx: number, dy: number): void {
    const area = translateRect(local, layer.x, layer.y);
    if (!rectContains(this.screen, area) || !layer.opaqueOver(local)) {
      this.invalidateScreen(area);
      return;
    }
    // Scroll each visible piece within itself: layers on top keep their pixels, and each piece only
    // needs its own uncovered strip repainted.
    const order = dx === 0 ? 'columns' : 'rows';
    let visible = [area];
    for (const upper of this.layersAbove(layer)) visible = visible.flatMap((v) => subtractRect(v, upper.rect, order));
    for (const piece of visible) {
      const moved = this.moveScreen(piece, dx, dy, piece);
      for (const r of subtractRect(piece, moved)) this.invalidateScreen(r);
    }
    // Rounded corners on top blend in what lies beneath, which has just moved.
    for (const upper of this.layersAbove(layer)) {
      for (const r of upper.partialRects)
        this.invalidateScreen(intersectRect(translateRect(r, upper.x, upper.y), area));
    }
  }

  /** Recompose and emit all pending damage. */
  flush(): void {
    const rects = mergeRects(this.dirty);
    this.dirty = [];
    for (const r of rects) this.refresh(r);
  }

  /** Recompose the whole screen and emit it as a few band commands (the initial picture). */
  repaintAll(): void {
    this.dirty = [];
    const all = this.screen;
    this.back.putImage(all, this.compose(all));
    for (let top = 0; top < this.height; top += PAINT_BAND) {
      this.emitArea({ top, left: 0, bottom: Math.min(this.height, top + PAINT_BAND), right: this.width });
    }
  }

  private layersAbove(layer: Layer): Layer[] {
    return this.layers.slice(this.layers.indexOf(layer) + 1);
  }

  /** A fresh composition of the whole screen, ignoring the back buffer (the ground truth for tests). */
  composeAll(): PixelImage {
    return this.compose(this.screen);
  }

  /** Is any layer above `layer` touching the screen rect? */
  private coveredAbove(layer: Layer, r: Rect): boolean {
    return this.layersAbove(layer).some((upper) => !rectIsEmpty(intersectRect(upper.rect, r)));
  }

  /**
   * copyBits of `area` by (dx, dy), limited to `bound` and the screen. Pending damage inside the
   * source travels with its pixels (the stale pixels moved too). Returns the rect written.
   */
  private moveScreen(area: Rect, dx: number, dy: number, bound: Rect): Rect {
    const dest = intersectRect(intersectRect(translateRect(area, dx, dy), bound), this.screen);
    if (rectIsEmpty(dest)) return dest;
    const src = { x: dest.left - dx, y: dest.top - dy };
    this.back.copyBits(src, dest);
    this.send({ kind: 'copyBits', surfaceId: this.surfaceId, src, dest });
    const from = translateRect(dest, -dx, -dy);
    for (const d of this.dirty.slice()) this.addDirty(translateRect(intersectRect(d, from), dx, dy));
    return dest;
  }

  /** Recompose one damaged rect, store it in the back buffer and emit only what really changed. */
  private refresh(r: Rect): void {
    const fresh = this.compose(r);
    const boxes = changedBoxes(fresh, this.back, r);
    this.back.putImage(r, fresh);
    for (const b of boxes) this.emitArea(b);
  }

  /** The layers' pixels in screen rect r, bottom to top. */
  private compose(r: Rect): PixelImage {
    const out = allocImage(r.right - r.left, r.bottom - r.top);
    for (const layer of this.layers) {
      const i = intersectRect(r, layer.rect);
      if (rectIsEmpty(i)) continue;
      for (let y = i.top; y < i.bottom; y++) composeRow(out, r, layer, y, i.left, i.right);
    }
    return out;
  }

  /** Emit a back-buffer area as the cheapest command(s): one fill, row fills, or a fresh image. */
  private emitArea(b: Rect): void {
    const w = b.right - b.left;
    const h = b.bottom - b.top;
    const img = cropImage(this.back, b.left, b.top, w, h);
    const rows = rowColors(img);
    const first = rows[0];
    if (first !== undefined && rows.every((c) => c === first)) {
      this.send({ kind: 'fill', surfaceId: this.surfaceId, rect: b, color: first });
    } else if (h <= ROW_FILL_MAX && rows.every((c) => c !== undefined)) {
      rows.forEach((c, j) =>
        this.send({
          kind: 'fill',
          surfaceId: this.surfaceId,
          rect: makeRect(b.top + j, b.left, b.top + j + 1, b.right),
          color: c ?? 0,
        }),
      );
    } else {
      this.send({ kind: 'copy', surfaceId: this.surfaceId, dest: b, image: img });
    }
  }

  private send(cmd: DisplayCommand): void {
    this.stats.commands++;
    if (cmd.kind === 'fill') this.stats.fills++;
    if (cmd.kind === 'copyBits') this.stats.copyBits++;
    if (cmd.kind === 'copy') {
      this.stats.copies++;
      this.stats.copyPixels += cmd.image.width * cmd.image.height;
    }
    this.emit(cmd);
  }
}

/** Put row y (screen) of `layer`, columns [x0, x1), into `out` (which shows screen rect r). */
function composeRow(out: PixelImage, r: Rect, layer: Layer, y: number, x0: number, x1: number): void {
  const ly = y - layer.y;
  const lx0 = x0 - layer.x;
  const lx1 = x1 - layer.x;
  const [os, oe] = layer.opaqueSpan(ly);
  const cs = Math.min(Math.max(os, lx0), lx1);
  const ce = Math.max(cs, Math.min(oe, lx1));
  const src = layer.image;
  const outRow = (y - r.top) * out.stride;
  const offset = layer.x - r.left;
  if (ce > cs) src.data.copy(out.data, outRow + (cs + offset) * 4, ly * src.stride + cs * 4, ly * src.stride + ce * 4);
  if (cs === lx0 && ce === lx1) return;
  // Edge pixels of rounded shapes: blend over what the lower layers put there.
  const outPx = pixelsOf(out);
  const srcPx = pixelsOf(src);
  const blendAt = (lx: number): void => {
    const a = layer.coverage(lx, ly);
    if (a === 0) return;
    const o = (outRow >>> 2) + lx + offset;
    const s = srcPx[ly * pitch(src) + lx] ?? 0;
    outPx[o] = a === 255 ? s : mix(outPx[o] ?? 0, s, a / 255);
  };
  for (let lx = lx0; lx < cs; lx++) blendAt(lx);
  for (let lx = ce; lx < lx1; lx++) blendAt(lx);
}

/** Per row: its single colour, or undefined when the row has several. */
function rowColors(img: PixelImage): Array<number | undefined> {
  const px = pixelsOf(img);
  const out: Array<number | undefined> = [];
  for (let j = 0; j < img.height; j++) {
    const row = j * img.width;
    const c = px[row] ?? 0;
    let k = 1;
    while (k < img.width && px[row + k] === c) k++;
    out.push(k === img.width ? c : undefined);
  }
  return out;
}

/**
 * Boxes around the pixels where `fresh` (showing screen rect r) differs from `back`. Each band of
 * rows is split into runs of changed columns (so two far-apart changes stay apart), and runs are
 * joined with the boxes of the band above when that wastes little.
 */
function changedBoxes(fresh: PixelImage, back: Surface, r: Rect): Rect[] {
  const w = fresh.width;
  const colTop = new Int32Array(w);
  const colBottom = new Int32Array(w);
  const done: Rect[] = [];
  let open: Rect[] = [];
  for (let band = 0; band < fresh.height; band += DIFF_BAND) {
    const end = Math.min(fresh.height, band + DIFF_BAND);
    markChangedColumns(fresh, back, r, band, end, colTop, colBottom);
    const next: Rect[] = [];
    for (const run of columnRuns(colTop, colBottom, r)) {
      const i = open.findIndex((o) => o.left < run.right && run.left < o.right && worthMerging(o, run));
      const joined = i < 0 ? run : unionRect(open.splice(i, 1)[0] as Rect, run);
      next.push(joined);
    }
    done.push(...open);
    open = next;
  }
  return [...done, ...open];
}

/** For each column, the first and last row in [from, to) where the pixels differ (-1 when none). */
function markChangedColumns(
  fresh: PixelImage,
  back: Surface,
  r: Rect,
  from: number,
  to: number,
  colTop: Int32Array,
  colBottom: Int32Array,
): void {
  const fp = pixelsOf(fresh);
  const bp = back.pixels;
  const w = fresh.width;
  colTop.fill(-1);
  for (let y = from; y < to; y++) {
    const fo = y * w;
    const bo = (r.top + y) * back.width + r.left;
    for (let x = 0; x < w; x++) {
      if (fp[fo + x] === bp[bo + x]) continue;
      if (colTop[x] === -1) colTop[x] = y;
      colBottom[x] = y;
    }
  }
}

/** Screen rects of the runs of changed columns, bridging gaps narrower than RUN_GAP. */
function columnRuns(colTop: Int32Array, colBottom: Int32Array, r: Rect): Rect[] {
  const runs: Rect[] = [];
  let x = 0;
  while (x < colTop.length) {
    if ((colTop[x] ?? -1) < 0) {
      x++;
      continue;
    }
    let top = colTop[x] ?? 0;
    let bottom = colBottom[x] ?? 0;
    let end = x + 1;
    for (let k = x + 1; k < colTop.length && k - end < RUN_GAP; k++) {
      const t = colTop[k] ?? -1;
      if (t < 0) continue;
      top = Math.min(top, t);
      bottom = Math.max(bottom, colBottom[k] ?? 0);
      end = k + 1;
    }
    runs.push({ top: r.top + top, left: r.left + x, bottom: r.top + bottom + 1, right: r.left + end });
    x = end;
  }
  return runs;
}
