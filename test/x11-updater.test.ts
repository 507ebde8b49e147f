import { describe, expect, it } from 'vitest';
import type { CursorCommand, DisplayCommand, DisplaySink } from '../src/seam/index.js';
import { allocImage, cropImage, type PixelImage } from '../src/display/pixels.js';
import type { Rect } from '../src/protocol/geometry.js';
import type { Capture } from '../src/sources/x11/capture.js';
import { ScreenUpdater } from '../src/sources/x11/updater.js';

/*
 * The X11 updater against a capture that lends its images the way MIT-SHM capture does: every
 * grab writes into one reused buffer and returns views of it. What the updater hands the sink must
 * be its own compact copy of the changed rows: not a view that the next grab overwrites (a viewer
 * would be sent the wrong pixels), and not the whole fetched rect (a window drag would allocate
 * every fetched pixel twice and keep V8 collecting).
 */

const W = 64;
const H = 48;

/** The "X server": a screen image, read through one lent buffer like a shared-memory segment. */
class LentCapture implements Capture {
  readonly method = 'mit-shm';
  readonly screen: PixelImage = allocImage(W, H);
  private readonly segment = Buffer.alloc(W * H * 4);

  async grab(rects: readonly Rect[]): Promise<PixelImage[]> {
    let offset = 0;
    return rects.map((r) => {
      const w = r.right - r.left;
      const h = r.bottom - r.top;
      const part = cropImage(this.screen, r.left, r.top, w, h);
      part.data.copy(this.segment, offset);
      const img = { width: w, height: h, stride: w * 4, data: this.segment.subarray(offset, offset + w * h * 4) };
      offset += w * h * 4;
      return img;
    });
  }

  async resize(): Promise<void> {}
  async close(): Promise<void> {}
}

class Collect implements DisplaySink {
  readonly draws: DisplayCommand[] = [];
  display(cmd: DisplayCommand): void {
    this.draws.push(cmd);
  }
  cursor(_cmd: CursorCommand): void {}
}

function paintRows(img: PixelImage, top: number, bottom: number, value: number): void {
  for (let y = top; y < bottom; y++)
    for (let x = 0; x < img.width; x++) img.data.writeUInt32LE(value, y * img.stride + x * 4);
}

function copies(sink: Collect): Extract<DisplayCommand, { kind: 'copy' }>[] {
  return sink.draws.filter((d): d is Extract<DisplayCommand, { kind: 'copy' }> => d.kind === 'copy');
}

describe('ScreenUpdater with lent captures', () => {
  it('sends exactly the changed rows as images of their own, untouched by later grabs', async () => {
    const capture = new LentCapture();
    const sink = new Collect();
    const updater = new ScreenUpdater(sink, capture, W, H, { maxRects: 16, detectScroll: false });
    paintRows(capture.screen, 0, H, 0x00102030);
    await updater.sendFullScreen();
    const first = copies(sink);
    expect(first.length).toBeGreaterThan(0);
    sink.draws.length = 0;

    paintRows(capture.screen, 10, 20, 0x00ff0000);
    await updater.refresh([{ top: 0, left: 0, bottom: H, right: W }]);
    const [changed, ...others] = copies(sink);
    expect(others).toEqual([]);
    expect(changed!.dest).toEqual({ top: 10, left: 0, bottom: 20, right: W });
    // Compact: the image is the box, not the fetched rect with an offset into it.
    expect(changed!.image.data.length).toBe(W * 10 * 4);
    expect(changed!.src ?? { x: 0, y: 0 }).toEqual({ x: 0, y: 0 });

    // The next frame reuses the lent buffer; what was handed over must not change.
    paintRows(capture.screen, 0, H, 0x00000000);
    await updater.refresh([{ top: 0, left: 0, bottom: H, right: W }]);
    for (let y = 0; y < 10; y++) expect(changed!.image.data.readUInt32LE(y * W * 4 + 8)).toBe(0x00ff0000);
    for (const c of first) expect(c.image.data.readUInt32LE(0)).toBe(0x00102030);
  });
});
