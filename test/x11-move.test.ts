import { describe, expect, it } from 'vitest';
import type { CursorCommand, DisplayCommand, DisplaySink } from '../src/seam/index.js';
import { allocImage, copyRect, cropImage, type PixelImage } from '../src/display/pixels.js';
import type { Rect } from '../src/protocol/geometry.js';
import type { Capture } from '../src/sources/x11/capture.js';
import { ScreenUpdater } from '../src/sources/x11/updater.js';

/*
 * Window moves through the X11 updater: the screen changes as if a window manager moved a window
 * (old place exposed, new place drawn), the damage is the union of both places, and the viewer's
 * picture is rebuilt from the commands the updater emitted. It must equal the new screen exactly,
 * and a move must travel as a copyBits with only the exposed background as images.
 */

const W = 640;
const H = 400;

class ScreenCapture implements Capture {
  readonly method = 'get-image';
  screen: PixelImage = allocImage(W, H);
  async grab(rects: readonly Rect[]): Promise<PixelImage[]> {
    return rects.map((r) => cropImage(this.screen, r.left, r.top, r.right - r.left, r.bottom - r.top));
  }
  async resize(): Promise<void> {}
  async close(): Promise<void> {}
}

/** A viewer's picture, rebuilt from the commands. */
class Replica implements DisplaySink {
  readonly picture = allocImage(W, H);
  readonly draws: DisplayCommand[] = [];
  display(cmd: DisplayCommand): void {
    this.draws.push(cmd);
    if (cmd.kind === 'copy') {
      const src = cmd.src ?? { x: 0, y: 0 };
      copyRect(
        cmd.image,
        src.x,
        src.y,
        this.picture,
        cmd.dest.left,
        cmd.dest.top,
        cmd.dest.right - cmd.dest.left,
        cmd.dest.bottom - cmd.dest.top,
      );
    } else if (cmd.kind === 'copyBits') {
      const w = cmd.dest.right - cmd.dest.left;
      const h = cmd.dest.bottom - cmd.dest.top;
      const moved = cropImage(this.picture, cmd.src.x, cmd.src.y, w, h);
      copyRect(moved, 0, 0, this.picture, cmd.dest.left, cmd.dest.top, w, h);
    }
  }
  cursor(_cmd: CursorCommand): void {}
}

/** Deterministic noise: photo-like content that matches nowhere by chance. */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

function background(): PixelImage {
  const img = allocImage(W, H);
  // A desktop: a vertical gradient (rows differ, columns repeat), like many wallpapers and panels.
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) img.data.writeUInt32LE(0x00203040 + ((y >> 2) << 8), (y * W + x) * 4);
  return img;
}

function windowImage(w: number, h: number, seed: number): PixelImage {
  const img = allocImage(w, h);
  const next = noise(seed);
  for (let i = 0; i < w * h; i++) img.data.writeUInt32LE(next() & 0x00ffffff, i * 4);
  // A title bar of one colour with some text-like marks: uniform rows must not confuse the search.
  for (let y = 0; y < 20; y++)
    for (let x = 0; x < w; x++) img.data.writeUInt32LE(x % 37 < 3 ? 0x00ffffff : 0x004060a0, (y * w + x) * 4);
  return img;
}

function composed(bg: PixelImage, win: PixelImage, x: number, y: number): PixelImage {
  const screen = cropImage(bg, 0, 0, W, H);
  copyRect(win, 0, 0, screen, x, y, win.width, win.height);
  return screen;
}

function union(a: Rect, b: Rect): Rect {
  return {
    top: Math.min(a.top, b.top),
    left: Math.min(a.left, b.left),
    bottom: Math.max(a.bottom, b.bottom),
    right: Math.max(a.right, b.right),
  };
}

function place(x: number, y: number, w: number, h: number): Rect {
  return { top: y, left: x, bottom: y + h, right: x + w };
}

function differing(a: PixelImage, b: PixelImage): number {
  let n = 0;
  for (let i = 0; i < W * H; i++)
    if ((a.data.readUInt32LE(i * 4) & 0xffffff) !== (b.data.readUInt32LE(i * 4) & 0xffffff)) n++;
  return n;
}

async function start(
  screen: PixelImage,
): Promise<{ capture: ScreenCapture; replica: Replica; updater: ScreenUpdater }> {
  const capture = new ScreenCapture();
  capture.screen = screen;
  const replica = new Replica();
  const updater = new ScreenUpdater(replica, capture, W, H, { maxRects: 16, detectScroll: true });
  await updater.sendFullScreen();
  replica.draws.length = 0;
  return { capture, replica, updater };
}

function copiedPixels(draws: readonly DisplayCommand[]): number {
  let n = 0;
  for (const d of draws) if (d.kind === 'copy') n += (d.dest.right - d.dest.left) * (d.dest.bottom - d.dest.top);
  return n;
}

/** Noise all over: a photo wallpaper, where no segment matches elsewhere by chance. */
function noisyBackground(seed: number): PixelImage {
  const img = allocImage(W, H);
  const next = noise(seed);
  for (let i = 0; i < W * H; i++) img.data.writeUInt32LE(next() & 0x00ffffff, i * 4);
  return img;
}

/**
 * A terminal as a compositing window manager draws it: a title bar and a menu bar with text-like
 * marks, one line of text, and a uniform black body, which is most of the window and matches
 * anywhere.
 */
function terminalImage(w: number, h: number, seed: number): PixelImage {
  const img = allocImage(w, h);
  const next = noise(seed);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let px = 0x00000000;
      if (y < 20) px = x % 23 < 2 || (y > 6 && y < 13 && x % 7 === 0) ? 0x00e0e0e0 : 0x00303438;
      else if (y < 36) px = next() % 5 === 0 ? 0x00202020 : 0x00d8d8d8;
      else if (y >= 40 && y < 52 && x < w / 2) px = next() % 3 === 0 ? 0x00f0f0f0 : 0;
      img.data.writeUInt32LE(px, (y * w + x) * 4);
    }
  return img;
}

describe('moved windows in the X11 updater', () => {
  const bg = background();
  const win = windowImage(220, 160, 7);

  it('sends a diagonal drag step as a copyBits plus the exposed background, and the picture is exact', async () => {
    const { capture, replica, updater } = await start(composed(bg, win, 100, 80));
    capture.screen = composed(bg, win, 130, 95);
    await updater.refresh([union(place(100, 80, 220, 160), place(130, 95, 220, 160))]);
    expect(differing(replica.picture, capture.screen)).toBe(0);
    const moves = replica.draws.filter((d) => d.kind === 'copyBits');
    expect(moves).toHaveLength(1);
    expect(moves[0]).toMatchObject({ src: { x: 100, y: 80 }, dest: { left: 130, top: 95 } });
    // Exposed: an L of 30 columns and 15 rows of the old place; nothing of the window is sent again.
    const exposed = 220 * 160 - (220 - 30) * (160 - 15);
    expect(copiedPixels(replica.draws)).toBeLessThanOrEqual(exposed);
    expect(updater.stats.moves).toBe(1);
  });

  it('sends a sideways step without resending the rows beside the exposed strip', async () => {
    const { capture, replica, updater } = await start(composed(bg, win, 200, 100));
    capture.screen = composed(bg, win, 160, 100);
    await updater.refresh([union(place(200, 100, 220, 160), place(160, 100, 220, 160))]);
    expect(differing(replica.picture, capture.screen)).toBe(0);
    expect(copiedPixels(replica.draws)).toBeLessThanOrEqual(40 * 160);
  });

  it('stays exact over a drag of many random steps, including ones beyond the search range', async () => {
    let x = 200;
    let y = 120;
    const { capture, replica, updater } = await start(composed(bg, win, x, y));
    const next = noise(99);
    for (let step = 0; step < 40; step++) {
      const nx = Math.max(0, Math.min(W - 220, x + ((next() % 181) - 90) * (step % 10 === 9 ? 3 : 1)));
      const ny = Math.max(0, Math.min(H - 160, y + ((next() % 61) - 30)));
      capture.screen = composed(bg, win, nx, ny);
      await updater.refresh([union(place(x, y, 220, 160), place(nx, ny, 220, 160))]);
      expect(differing(replica.picture, capture.screen)).toBe(0);
      x = nx;
      y = ny;
    }
    expect(updater.stats.moves).toBeGreaterThan(20);
  });

  it('finds a mostly uniform window moved inside a damage rect far larger than it (a compositor repaint)', async () => {
    const wall = noisyBackground(3);
    const term = terminalImage(300, 170, 5);
    const { capture, replica, updater } = await start(composed(wall, term, 150, 140));
    capture.screen = composed(wall, term, 153, 142);
    // The damage covers the window's old and new places and much more: from the top of the screen
    // to well past the window, as XFCE's compositor reports a drag step.
    await updater.refresh([{ top: 0, left: 60, bottom: 390, right: 600 }]);
    expect(differing(replica.picture, capture.screen)).toBe(0);
    const moves = replica.draws.filter((d) => d.kind === 'copyBits');
    expect(moves).toHaveLength(1);
    expect(moves[0]).toMatchObject({ src: { x: 150, y: 140 }, dest: { left: 153, top: 142 } });
    // Only the exposed L (3 columns, 2 rows of the old place) goes as images.
    expect(copiedPixels(replica.draws)).toBeLessThanOrEqual(3 * 170 + 2 * 300);
  });

  it('does not invent a move for content that only changed in place', async () => {
    const other = windowImage(220, 160, 8);
    const { capture, replica, updater } = await start(composed(bg, win, 100, 80));
    capture.screen = composed(bg, other, 100, 80);
    await updater.refresh([place(100, 80, 220, 160)]);
    expect(differing(replica.picture, capture.screen)).toBe(0);
    expect(updater.stats.moves).toBe(0);
  });
});
