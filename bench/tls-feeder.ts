/**
 * The TLS bench's source of display traffic: 512x512 `copy` commands pushed through a FeedSource
 * at the pace the server's viewer connection takes them (bench/tls.ts).
 */
import { randomFillSync } from 'node:crypto';
import type { DisplayChannelClient } from '../src/channels/display.js';
import { allocImage, type PixelImage } from '../src/display/pixels.js';
import type { FeedSource } from '../src/sources/feed.js';

export const IMAGE_SIDE = 512;
export const SURFACE = { width: 1024, height: 768 };
/** Images in the round-robin pool (each `copy` is still a new command object). */
const POOL_SIZE = 4;
/** Feed while the server-side pipe holds fewer items than this. */
const PIPE_TARGET = 8;

export function makePool(): PixelImage[] {
  return Array.from({ length: POOL_SIZE }, () => {
    const img = allocImage(IMAGE_SIDE, IMAGE_SIDE);
    randomFillSync(img.data);
    return img;
  });
}

/**
 * Keeps the viewer's pipe non-empty but bounded: feeds new `copy` commands while the server-side
 * pipe is short and the stream is not congested, and otherwise waits for the stream to drain (or
 * for the next turn of the event loop when only the pipe is full).
 */
export class Feeder {
  private stopped = false;
  private n = 0;
  private readonly spots: { x: number; y: number }[] = [];

  constructor(
    private readonly feed: FeedSource,
    private readonly client: DisplayChannelClient,
    private readonly pool: readonly PixelImage[],
    private readonly fresh: boolean,
  ) {
    // 15 distinct spots, more than PIPE_TARGET: no queued image is ever covered by a newer one
    // (the display channel would drop it unsent, and the pipe would never fill).
    for (let y = 0; y + IMAGE_SIDE <= SURFACE.height; y += IMAGE_SIDE / 4) {
      for (let x = 0; x + IMAGE_SIDE <= SURFACE.width; x += IMAGE_SIDE / 4) this.spots.push({ x, y });
    }
  }

  start(): void {
    this.pump();
  }

  stop(): void {
    this.stopped = true;
  }

  /** A pool image, or a new copy of one with the serial in its first pixel (unique content). */
  private image(): PixelImage {
    const model = this.pool[this.n % this.pool.length]!;
    if (!this.fresh) return model;
    const data = Buffer.allocUnsafe(model.data.length);
    model.data.copy(data);
    data.writeUInt32LE(this.n, 0);
    return { ...model, data };
  }

  private next(): void {
    const image = this.image();
    const at = this.spots[this.n % this.spots.length]!;
    this.n++;
    const dest = { left: at.x, top: at.y, right: at.x + IMAGE_SIDE, bottom: at.y + IMAGE_SIDE };
    this.feed.push({ kind: 'copy', surfaceId: 0, dest, image });
  }

  private readonly pump = (): void => {
    if (this.stopped || this.client.isClosed) return;
    const stream = this.client.stream;
    while (this.client.pipe.length < PIPE_TARGET && !stream.congested) this.next();
    // Waiters run before the channel client's own push (it defers to setImmediate): defer too.
    if (stream.congested) stream.whenWritable(() => setImmediate(this.pump));
    else setImmediate(this.pump);
  };
}
