import type { CompressedImageShape } from '../client/images.js';
import type { PixelImage } from '../display/pixels.js';
import type { DecodeJob, DecodeReply } from './decode-messages.js';

/** The worker is gone (or never was): the image is to be decoded on the main thread instead. */
export class WorkerUnavailable extends Error {}

interface Waiting {
  resolve(img: PixelImage): void;
  reject(err: Error): void;
}

/**
 * The page's side of the decoding worker (decode-worker.ts, built beside viewer.js): a job per
 * compressed image, its bytes and pixels transferred both ways (never copied by postMessage). If
 * the worker cannot be made (no Worker, a CSP or a proxy that refuses its script) or fails later,
 * every job waiting is rejected with WorkerUnavailable and `available` turns false for good, so
 * the caller decodes on the main thread as before.
 */
export class WorkerDecoder {
  /** Why there is no worker, once there is none (the console says it too). */
  failure: string | undefined;
  /** Images the worker decoded, and its time decoding them (ms): the bench and tests read them. */
  decoded = 0;
  workerMs = 0;
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;

  constructor(url: URL) {
    try {
      this.worker = new Worker(url, { name: 'spiced-decoder' });
    } catch (err) {
      this.fail(`no decoding worker (${err instanceof Error ? err.message : String(err)})`);
      return;
    }
    this.worker.onmessage = (ev: MessageEvent<DecodeReply>) => this.reply(ev.data);
    this.worker.onerror = (ev) => {
      ev.preventDefault();
      this.fail(`the decoding worker failed (${ev.message || 'its script did not load'})`);
    };
    this.worker.onmessageerror = () => this.fail('the decoding worker sent what could not be read');
  }

  get available(): boolean {
    return this.worker !== undefined;
  }

  /** Jobs the worker has not answered yet. */
  get busy(): number {
    return this.waiting.size;
  }

  /** Decode `data` in the worker; its bytes are copied once, then transferred. */
  decode(shape: CompressedImageShape, data: Buffer, maxPixels: number): Promise<PixelImage> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new WorkerUnavailable(this.failure));
    const id = this.nextId++;
    // A copy of its own: the message's bytes are a view of the WebSocket's buffer.
    const bytes = new Uint8Array(data).buffer;
    const job: DecodeJob = { id, type: shape.type, width: shape.width, height: shape.height, maxPixels, bytes };
    return new Promise<PixelImage>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage(job, [bytes]);
    });
  }

  /** The worker ends; jobs still waiting are rejected (the session is over). */
  close(): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.rejectAll(new WorkerUnavailable('the session ended'));
  }

  private reply(r: DecodeReply): void {
    const w = this.waiting.get(r.id);
    if (!w) return;
    this.waiting.delete(r.id);
    this.workerMs += r.ms;
    if (!r.ok) return w.reject(new Error(r.message));
    this.decoded++;
    w.resolve({ width: r.width, height: r.height, stride: r.stride, data: Buffer.from(r.pixels) });
  }

  private fail(why: string): void {
    console.warn(`spiced viewer: ${why}; images are decoded on the main thread`);
    this.failure = why;
    this.worker?.terminate();
    this.worker = undefined;
    this.rejectAll(new WorkerUnavailable(why));
  }

  private rejectAll(err: WorkerUnavailable): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of waiting) w.reject(err);
  }
}
