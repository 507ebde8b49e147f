import type { PixelImage } from '../../display/pixels.js';
import { rectHeight, rectWidth, type Rect } from '../../protocol/geometry.js';
import type { ExtensionInfo, XConnection } from './connection.js';
import { getImage } from './core.js';
import { XConnectionLost } from './errors.js';
import { shmAttach, shmDetach, shmGetImage, shmQueryVersion } from './ext-shm.js';
import { zpixmapStride, zpixmapToImage, type PixelLayout } from './pixel-format.js';
import { createSharedSegment, type SharedSegment } from './sysv-shm.js';

/*
 * Reading pixels of the root window. Two ways:
 *  - MIT-SHM: ShmGetImage writes into a SysV segment shared with the server, so the pixels skip
 *    the socket (the X server's write, the kernel copy and our reassembly of a multi-megabyte
 *    reply). The images are views of the segment, lent until the next grab: the caller compares
 *    them with what it sent and copies out only what changed (one copy of the changed pixels per
 *    frame, not a copy of every fetched rect; during a window drag that halves the bytes
 *    allocated per frame, and with them how often V8 runs a full collection for external memory).
 *    Works only when the server shares our IPC namespace (same host, same container) and koffi
 *    can call shmget/shmat.
 *  - core GetImage (ZPixmap): always works, also over TCP. Replies become images without a copy.
 * Requests for all rects of a frame are pipelined: one round trip per frame, not per rect.
 */

export interface Capture {
  readonly method: 'mit-shm' | 'get-image';
  /**
   * Pixels of each rect (inside the root window), in order. The images are lent: they may view a
   * buffer that the next grab overwrites, so a caller copies out what it keeps before grabbing again.
   */
  grab(rects: readonly Rect[]): Promise<PixelImage[]>;
  /** The root window changed size. */
  resize(width: number, height: number): Promise<void>;
  close(): Promise<void>;
}

export type CaptureLog = (msg: string) => void;

class GetImageCapture implements Capture {
  readonly method = 'get-image';

  constructor(
    private readonly conn: XConnection,
    private readonly root: number,
    private readonly layout: PixelLayout,
  ) {}

  grab(rects: readonly Rect[]): Promise<PixelImage[]> {
    return Promise.all(
      rects.map(async (r) => {
        const w = rectWidth(r);
        const h = rectHeight(r);
        const reply = await getImage(this.conn, this.root, r.left, r.top, w, h);
        return zpixmapToImage(this.layout, reply.data, w, h);
      }),
    );
  }

  async resize(): Promise<void> {}

  async close(): Promise<void> {}
}

class ShmCapture implements Capture {
  readonly method = 'mit-shm';

  private constructor(
    private readonly conn: XConnection,
    private readonly ext: ExtensionInfo,
    private readonly root: number,
    private readonly layout: PixelLayout,
    private segment: SharedSegment,
    private shmseg: number,
  ) {}

  /** Create a segment for a width x height screen and attach it to the server. */
  static async open(
    conn: XConnection,
    ext: ExtensionInfo,
    root: number,
    layout: PixelLayout,
    width: number,
    height: number,
  ): Promise<ShmCapture> {
    await shmQueryVersion(conn, ext);
    const { segment, shmseg } = await attachSegment(conn, ext, layout, width, height);
    const capture = new ShmCapture(conn, ext, root, layout, segment, shmseg);
    try {
      // The server may attach a segment and still fail to write to it (e.g. SELinux); probe once.
      await capture.grab([{ top: 0, left: 0, bottom: 1, right: 1 }]);
    } catch (err) {
      await capture.close();
      throw err;
    }
    return capture;
  }

  async grab(rects: readonly Rect[]): Promise<PixelImage[]> {
    const out: PixelImage[] = [];
    let batch: Promise<PixelImage>[] = [];
    let offset = 0;
    for (const r of rects) {
      const w = rectWidth(r);
      const h = rectHeight(r);
      const bytes = zpixmapStride(this.layout, w) * h;
      if (bytes > this.segment.size) throw new Error(`rect ${w}x${h} is larger than the shared segment`);
      if (offset + bytes > this.segment.size) {
        // The segment is full (rects plus alignment exceed a screen): this batch must survive the
        // next one's use of the segment, so its images are copied out.
        out.push(...(await Promise.all(batch)).map(ownedImage));
        batch = [];
        offset = 0;
      }
      batch.push(this.grabAt(r, w, h, offset, bytes));
      offset += (bytes + 63) & ~63;
    }
    out.push(...(await Promise.all(batch)));
    return out;
  }

  private async grabAt(r: Rect, w: number, h: number, offset: number, bytes: number): Promise<PixelImage> {
    await shmGetImage(this.conn, this.ext, this.root, r.left, r.top, w, h, this.shmseg, offset);
    return zpixmapToImage(this.layout, this.segment.bytes.subarray(offset, offset + bytes), w, h);
  }

  async resize(width: number, height: number): Promise<void> {
    if (zpixmapStride(this.layout, width) * height <= this.segment.size) return;
    await this.release();
    const next = await attachSegment(this.conn, this.ext, this.layout, width, height);
    this.segment = next.segment;
    this.shmseg = next.shmseg;
  }

  async close(): Promise<void> {
    await this.release();
  }

  private async release(): Promise<void> {
    try {
      if (!this.conn.isClosed) await shmDetach(this.conn, this.ext, this.shmseg);
    } finally {
      // Our mapping goes in any case; the server drops its own when the connection closes.
      this.segment.detach();
    }
  }
}

/** A copy that no longer views the segment. */
function ownedImage(img: PixelImage): PixelImage {
  return { width: img.width, height: img.height, stride: img.stride, data: Buffer.from(img.data) };
}

async function attachSegment(
  conn: XConnection,
  ext: ExtensionInfo,
  layout: PixelLayout,
  width: number,
  height: number,
): Promise<{ segment: SharedSegment; shmseg: number }> {
  const segment = await createSharedSegment(zpixmapStride(layout, width) * height);
  const shmseg = conn.allocId();
  try {
    await shmAttach(conn, ext, shmseg, segment.shmid);
  } catch (err) {
    segment.detach();
    throw err;
  } finally {
    // Once the server has attached (or failed to), nobody else needs the id: remove it so the
    // segment cannot outlive both processes.
    segment.markForRemoval();
  }
  return { segment, shmseg };
}

/**
 * MIT-SHM when the server offers it and a segment can be shared, else GetImage. The reason for
 * falling back is logged, not thrown: GetImage is slower but always correct.
 */
export async function openCapture(
  conn: XConnection,
  root: number,
  layout: PixelLayout,
  width: number,
  height: number,
  opts: { useShm: boolean; log: CaptureLog },
): Promise<Capture> {
  const ext = opts.useShm ? await conn.extension('MIT-SHM') : null;
  if (ext) {
    try {
      return await ShmCapture.open(conn, ext, root, layout, width, height);
    } catch (err) {
      if (err instanceof XConnectionLost) throw err;
      opts.log(`MIT-SHM unusable, capturing with GetImage: ${(err as Error).message}`);
    }
  } else if (opts.useShm) {
    opts.log('X server has no MIT-SHM; capturing with GetImage');
  }
  return new GetImageCapture(conn, root, layout);
}

/** Split a rect into horizontal bands of at most `rows` rows. */
export function bands(r: Rect, rows: number): Rect[] {
  const out: Rect[] = [];
  for (let top = r.top; top < r.bottom; top += rows)
    out.push({ top, left: r.left, bottom: Math.min(r.bottom, top + rows), right: r.right });
  return out;
}
