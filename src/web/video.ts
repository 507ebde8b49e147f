import { StreamFlags, VideoCodec } from '../protocol/stream.js';
import type { DisplayServerMessage } from '../protocol/display.js';
import { intersectRect, rectIsEmpty, type Rect } from '../protocol/geometry.js';
import type { ClientDisplay, ClientStream } from '../client/display.js';

/** True when this browser can decode a JPEG off the main thread into a bitmap (MJPEG streams). */
export function mjpegDecodable(): boolean {
  return typeof createImageBitmap === 'function' && typeof OffscreenCanvas === 'function';
}

/**
 * MJPEG video streams into the framebuffer: each frame is decoded by the browser
 * (createImageBitmap, off the main thread), scaled to the stream's destination and written into
 * the surface inside the stream's clip. Decoding is asynchronous, so a frame that finishes after
 * a newer one, or after its stream ended (the server then sends the area as an exact image), is
 * dropped rather than painted over what came later.
 */
export class VideoPainter {
  /** Frames painted and dropped (late or of an ended stream), for the overlay and tests. */
  painted = 0;
  dropped = 0;
  private readonly scratch = new OffscreenCanvas(1, 1);
  private readonly ctx: OffscreenCanvasRenderingContext2D;

  constructor(
    private readonly display: ClientDisplay,
    private readonly changed: (r: Rect) => void,
  ) {
    const ctx = this.scratch.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('this browser gives no 2D OffscreenCanvas');
    this.ctx = ctx;
  }

  /** After ClientDisplay applied `m`: decode the frame it carried, if any. */
  update(m: DisplayServerMessage): void {
    if (m.kind !== 'streamData' && m.kind !== 'streamDataSized') return;
    const s = this.display.streams.get(m.id);
    if (!s || s.create.codec !== VideoCodec.Mjpeg) return;
    const seq = s.frames;
    const dest = m.kind === 'streamDataSized' ? m.dest : s.create.dest;
    createImageBitmap(new Blob([m.data as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' })).then(
      (bitmap) => this.paint(s, seq, dest, bitmap),
      (err: unknown) => {
        this.dropped++;
        console.warn(`spiced viewer: stream ${m.id} frame ${seq} did not decode`, err);
      },
    );
  }

  private paint(s: ClientStream, seq: number, dest: Rect, bitmap: ImageBitmap): void {
    const surface = this.display.surfaces.get(s.create.surfaceId);
    if (this.display.streams.get(s.create.id) !== s || s.frames !== seq || !surface) {
      bitmap.close();
      this.dropped++;
      return;
    }
    const w = dest.right - dest.left;
    const h = dest.bottom - dest.top;
    if (this.scratch.width !== w || this.scratch.height !== h) {
      this.scratch.width = w;
      this.scratch.height = h;
    }
    const ctx = this.ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    if (!(s.create.flags & StreamFlags.TopDown)) ctx.setTransform(1, 0, 0, -1, 0, h); // bottom-up frames
    ctx.drawImage(bitmap, 0, 0, w, h);
    bitmap.close();
    const rgba = new Uint32Array(ctx.getImageData(0, 0, w, h).data.buffer);
    const clips = s.clip.type === 'none' ? [dest] : s.clip.rects.map((r) => intersectRect(r, dest));
    for (const c of clips.map((r) => surface.clip(r)).filter((r) => !rectIsEmpty(r))) {
      for (let y = c.top; y < c.bottom; y++) {
        let o = y * surface.width + c.left;
        let i = (y - dest.top) * w + (c.left - dest.left);
        for (let x = c.left; x < c.right; x++, o++, i++) {
          const v = rgba[i]!; // 0xAABBGGRR to the surface's 0x00RRGGBB
          surface.pixels[o] = ((v & 0xff) << 16) | (v & 0xff00) | ((v >>> 16) & 0xff);
        }
      }
      this.changed(c);
    }
    this.painted++;
  }
}
