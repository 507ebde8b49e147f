import { ImageType } from '../protocol/constants.js';
import type { DisplayServerMessage } from '../protocol/display.js';
import type { PixelImage } from '../display/pixels.js';
import { WorkerUnavailable, type WorkerDecoder } from './worker-decoder.js';

/**
 * Compressed images from this many pixels up are decoded in the worker (128x128: QUIC takes a few
 * ms there on this machine, LZ4 about 0.5); smaller ones cost less than the round trip to it.
 */
const OFFLOAD_MIN_PIXELS = 16_384;
/**
 * LZ4 images up to this many pixels are decoded on the main thread: the bands the server cuts a
 * large copy into for this viewer (128K pixels) decode in 2-4 ms, less than a round trip to the
 * worker costs on a loaded machine, and each is its own task, so input still goes between them.
 * A whole screen in LZ4 (the first screen, which is not cut) still goes to the worker.
 */
const MAIN_THREAD_LZ4_MAX_PIXELS = 262_144;

/** What the queue hands each message to, in the order the server sent them. */
export interface DisplayQueueHandlers {
  /** Apply `m`; `decoded` is its image's pixels when the worker decoded them. */
  apply(m: DisplayServerMessage, decoded: PixelImage | undefined): void;
  /** The worker could not decode `m`'s image: `m` is dropped, as a failed decode here would be. */
  failed(m: DisplayServerMessage, err: Error): void;
}

interface Entry {
  m: DisplayServerMessage;
  /** False while the worker decodes this message's image. */
  ready: boolean;
  decoded?: PixelImage;
  error?: Error;
}

/**
 * Display messages in order around the decoding worker. A DRAW_COPY with a large compressed image
 * goes to the worker as it arrives, and it and every message after it wait here until its pixels
 * are back: draws, the image cache (CACHE_ME, FROM_CACHE, INVAL_LIST), copy-bits and streams are
 * applied exactly in the server's order, while the worker already decodes the next images. With
 * nothing waiting, a message is applied at once.
 */
export class DisplayQueue {
  /** Images sent to the worker. */
  offloaded = 0;
  /**
   * The most messages that waited at once. The display channel acknowledges a message only once it
   * is applied (WebSession), so the server's ACK window bounds this: tests read it.
   */
  maxWaiting = 0;
  private entries: Entry[] = [];
  /**
   * Surfaces as the messages received so far leave them (id -> pixels): an image's size is capped
   * by the surface it will be drawn on when its turn comes, not by the one there now.
   */
  private readonly announced = new Map<number, number>();
  private closed = false;

  constructor(
    private readonly decoder: WorkerDecoder | undefined,
    private readonly handlers: DisplayQueueHandlers,
  ) {}

  /** Messages waiting (for the worker, or behind a message that does). */
  get waiting(): number {
    return this.entries.length;
  }

  push(m: DisplayServerMessage): void {
    if (this.closed) return;
    this.announce(m);
    const decoding = this.offload(m);
    if (!decoding && this.entries.length === 0) return this.handlers.apply(m, undefined);
    const entry: Entry = { m, ready: !decoding };
    this.entries.push(entry);
    this.maxWaiting = Math.max(this.maxWaiting, this.entries.length);
    decoding
      ?.then(
        (img) => (entry.decoded = img),
        (err: unknown) => {
          // No worker any more: the message is applied as before, its image decoded here.
          if (!(err instanceof WorkerUnavailable)) entry.error = err instanceof Error ? err : new Error(String(err));
        },
      )
      .then(() => {
        entry.ready = true;
        this.drain();
      });
  }

  /** Nothing more is applied (the session ended). */
  close(): void {
    this.closed = true;
    this.entries = [];
  }

  private announce(m: DisplayServerMessage): void {
    if (m.kind === 'surfaceCreate') this.announced.set(m.surfaceId, m.width * m.height);
    else if (m.kind === 'surfaceDestroy') this.announced.delete(m.surfaceId);
  }

  /** The worker's decode of `m`'s image when it is a large compressed one and there is a worker. */
  private offload(m: DisplayServerMessage): Promise<PixelImage> | undefined {
    if (m.kind !== 'drawCopy' || m.image?.kind !== 'binary' || !this.decoder?.available) return undefined;
    const d = m.image.descriptor;
    const maxPixels = this.announced.get(m.base.surfaceId);
    const pixels = d.width * d.height;
    if (maxPixels === undefined || pixels < OFFLOAD_MIN_PIXELS) return undefined;
    if (d.type === ImageType.Lz4 && pixels <= MAIN_THREAD_LZ4_MAX_PIXELS) return undefined;
    this.offloaded++;
    return this.decoder.decode(d, m.image.data, maxPixels);
  }

  private drain(): void {
    while (!this.closed && this.entries[0]?.ready) {
      const e = this.entries.shift()!;
      if (e.error) this.handlers.failed(e.m, e.error);
      else this.handlers.apply(e.m, e.decoded);
    }
  }
}
