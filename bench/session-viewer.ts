/**
 * The measuring viewer of the session soak: the project's headless SpiceClient (display channel
 * only) connected next to remote-viewer and the browser. It applies every message to its
 * framebuffer, as a viewer does, and timestamps every draw with the rectangle it covers, so its
 * update rate and the moment a glyph reached it can be compared with what the desktop drew. It
 * runs in a worker thread of its own (session-viewer-worker.ts says why); this is the main
 * thread's handle on it.
 */
import { Worker } from 'node:worker_threads';
import type { PixelImage } from '../src/seam/index.js';
import type { Drawn } from './session-desktop.js';

export type ViewerRequest =
  | { op: 'take'; id: number }
  | { op: 'state'; id: number }
  | { op: 'primary'; id: number }
  | { op: 'settle'; id: number; quietMs: number; maxMs: number }
  | { op: 'close'; id: number };

interface WireImage {
  width: number;
  height: number;
  stride: number;
  data: Uint8Array;
}

export type ViewerReply =
  | { kind: 'ready'; id: 0 }
  | { kind: 'take'; id: number; drawn: Drawn[] }
  | { kind: 'state'; id: number; bytes: number; problems: string[]; closed: boolean }
  | { kind: 'primary'; id: number; image: WireImage | null }
  | { kind: 'settled' | 'closed'; id: number }
  | { kind: 'error'; id: number; message: string };

/** A request as the caller writes it (the handle numbers it). */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface ViewerState {
  /** Display channel bytes received. */
  bytes: number;
  /** Messages the client could not apply, and kinds it does not draw (both should stay empty). */
  problems: string[];
  closed: boolean;
}

/**
 * The worker's compiled file: beside this one when it runs from dist/; from the build when a test
 * imports this TypeScript source (the interop and alone projects check that dist/ is current).
 */
function workerFile(): URL {
  if (import.meta.url.endsWith('.js')) return new URL('./session-viewer-worker.js', import.meta.url);
  return new URL('../dist/bench/session-viewer-worker.js', import.meta.url);
}

export class MeasuringViewer {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: ViewerReply) => void; reject: (e: Error) => void }>();

  private constructor(private readonly worker: Worker) {
    worker.on('message', (r: ViewerReply) => this.settleRequest(r));
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) =>
      this.failAll(new Error(`session soak: the measuring viewer's thread exited (${code})`)),
    );
  }

  static async connect(port: number): Promise<MeasuringViewer> {
    const worker = new Worker(workerFile(), {
      workerData: { serverPort: port },
    });
    const ready = new Promise<void>((resolve, reject) => {
      const first = (r: ViewerReply): void => {
        if (r.id !== 0) return;
        worker.off('message', first);
        if (r.kind === 'error') reject(new Error(`session soak: measuring viewer: ${r.message}`));
        else resolve();
      };
      worker.on('message', first);
      worker.once('error', reject);
    });
    try {
      await ready;
    } catch (err) {
      await worker.terminate();
      throw err;
    }
    return new MeasuringViewer(worker);
  }

  /** Draws applied since the last call (emptied). */
  async take(): Promise<Drawn[]> {
    const r = await this.request({ op: 'take' });
    return r.kind === 'take' ? r.drawn : [];
  }

  async state(): Promise<ViewerState> {
    const r = await this.request({ op: 'state' });
    if (r.kind !== 'state') throw new Error(`session soak: measuring viewer answered ${r.kind} to state`);
    return { bytes: r.bytes, problems: r.problems, closed: r.closed };
  }

  /** A copy of the viewer's primary surface (undefined before the first frame). */
  async primary(): Promise<PixelImage | undefined> {
    const r = await this.request({ op: 'primary' });
    if (r.kind !== 'primary' || !r.image) return undefined;
    const { width, height, stride, data } = r.image;
    return { width, height, stride, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
  }

  /** Resolves once no display message has arrived for `quietMs` (or after `maxMs`). */
  async settle(quietMs: number, maxMs: number): Promise<void> {
    await this.request({ op: 'settle', quietMs, maxMs });
  }

  async close(): Promise<void> {
    await this.request({ op: 'close' }).catch(() => undefined);
    await this.worker.terminate();
  }

  private request(req: WithoutId<ViewerRequest>): Promise<ViewerReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id } as ViewerRequest);
    });
  }

  private settleRequest(r: ViewerReply): void {
    const w = this.waiting.get(r.id);
    if (!w) return;
    this.waiting.delete(r.id);
    if (r.kind === 'error') w.reject(new Error(`session soak: measuring viewer: ${r.message}`));
    else w.resolve(r);
  }

  private failAll(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}
