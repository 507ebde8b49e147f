import { Desktop, type PrimaryUpdate } from '../display/desktop.js';
import { allocImage, type PixelImage } from '../display/pixels.js';
import { rect } from '../protocol/geometry.js';
import { copyBitsItem, copyItem, fillItem, SharedImage, type ViewerImaging } from './display-items.js';
import { ViewerImageCache } from './image-cache.js';
import type { ImageCompression } from '../display/image-choice.js';
import { unreachable } from '../seam/index.js';

/**
 * Why a fresh server draws a small desktop for nobody before it listens: V8 runs new code in its
 * interpreter until it has seen enough of it to compile, so the first viewer of a fresh server paid
 * for that on its whole first screen (a photo's QUIC encode ran several times slower cold than warm;
 * docs/architecture.md gives the figures). This runs every display path a viewer's first frames take (surfaces, tiles,
 * blits, scrolls, codec choice, QUIC and LZ, uniform checks, content keys, the viewer cache, draw
 * messages) on content that exercises their branches: a photo with a flat band, and UI-like text.
 * It costs a few tens of ms of CPU once, at start (4 rounds); `warmUp: false` skips it. (The demo's own
 * landscape and font made poorer content here: slower to draw, and xclock-xeyes's first frames
 * still ran half cold.)
 */
export function warmUpDisplayPaths(rounds = 4): void {
  for (let r = 0; r < rounds; r++) drawForNobody(r);
}

const WIDTH = 320;
const HEIGHT = 200;
const TILE = 24;

function drawForNobody(seed: number): void {
  const desktop = new Desktop();
  const viewers = (['auto', 'quic', 'lz'] as const).map(viewerOf);
  desktop.addListener({
    onPrimaryUpdate: (u) => {
      for (const v of viewers) marshalFor(u, v);
    },
  });
  desktop.display({ kind: 'surfaceCreate', surfaceId: 0, width: WIDTH, height: HEIGHT, primary: true });
  desktop.display({ kind: 'fill', surfaceId: 0, rect: rect(0, 0, WIDTH, HEIGHT), color: 0x303030 });
  desktop.display({ kind: 'copy', surfaceId: 0, dest: rect(0, 0, 160, 120), image: photo(160, 120, seed) });
  desktop.display({ kind: 'copy', surfaceId: 0, dest: rect(160, 0, 160, 120), image: text(160, 120, seed) });
  // Off-screen tiles blitted in, as QXL guests draw.
  for (let i = 0; i < 24; i++) {
    const id = 1 + i;
    desktop.display({ kind: 'surfaceCreate', surfaceId: id, width: TILE, height: TILE, primary: false });
    desktop.display({
      kind: 'copy',
      surfaceId: id,
      dest: rect(0, 0, TILE, TILE),
      image: i % 2 ? text(TILE, TILE, i) : photo(TILE, TILE, i),
    });
    desktop.display({
      kind: 'blitSurface',
      surfaceId: 0,
      dest: rect((i % 12) * TILE, 120 + Math.floor(i / 12) * TILE, TILE, TILE),
      srcSurfaceId: id,
      src: { x: 0, y: 0 },
    });
    desktop.display({ kind: 'surfaceDestroy', surfaceId: id });
  }
  desktop.display({ kind: 'copyBits', surfaceId: 0, src: { x: 0, y: 130 }, dest: rect(0, 120, WIDTH, 70) });
  // The same glyph-like image again: a cache hit.
  desktop.display({ kind: 'copy', surfaceId: 0, dest: rect(160, 0, 160, 120), image: text(160, 120, seed) });
}

function viewerOf(compression: ImageCompression): ViewerImaging {
  const cache = new ViewerImageCache(1 << 20);
  return { compression: () => compression, cache: () => cache };
}

function marshalFor(u: PrimaryUpdate, viewer: ViewerImaging): void {
  switch (u.kind) {
    case 'fill':
      fillItem(u.rect, u.color).marshal();
      return;
    case 'copy':
      copyItem(new SharedImage(u.image, u.src, u.rect), viewer).marshal();
      return;
    case 'copyBits':
      copyBitsItem(u.rect, u.src).marshal();
      return;
    case 'primaryCreated':
    case 'primaryDestroyed':
      // Nothing to marshal: surface messages are few and cheap; the draws above are what is warmed.
      return;
    default:
      unreachable(u);
  }
}

/** Smooth gradients with a little noise (QUIC's kind of image) and a flat band (its run mode). */
function photo(w: number, h: number, seed: number): PixelImage {
  const img = allocImage(w, h);
  let s = (seed * 2654435761 + 1) >>> 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const n = s >>> 29;
      const flat = y > h * 0.7;
      const r = flat ? 40 : (x * 255) / w + n;
      const g = flat ? 90 : (y * 255) / h + (n >> 1);
      const b = flat ? 140 : ((x + y) * 127) / (w + h) + 64;
      img.data.writeUInt32LE(((r & 255) << 16) | ((g & 255) << 8) | (b & 255), (y * w + x) * 4);
    }
  }
  return img;
}

/** A flat background with repeated glyph-like shapes and a frame (LZ's kind of image). */
function text(w: number, h: number, seed: number): PixelImage {
  const img = allocImage(w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const cx = x % 8;
      const cy = y % 14;
      const glyph = ((x >> 3) + Math.floor(y / 14) * 7 + seed) % 5;
      const ink = cy > 2 && cy < 11 && cx > 0 && cx < 6 && ((cx * 3 + cy * glyph) % 4 === 0 || cx === glyph);
      const frame = x === 0 || y === 0 || x === w - 1 || y === h - 1;
      img.data.writeUInt32LE(frame ? 0x808080 : ink ? 0x101010 : 0xf0f0f0, (y * w + x) * 4);
    }
  }
  return img;
}
