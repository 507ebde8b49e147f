/**
 * The viewer side of the X11 bench: the project's headless SpiceClient with the display channel
 * only, applying every message to its framebuffer (what a viewer does), plus the small helpers the
 * scenarios share (waiting for pixels, percentiles, a seeded PRNG, another process's CPU).
 */
import { SpiceClient } from '../src/client/client.js';
import { ChannelType } from '../src/protocol/constants.js';
import { monoMs, type ServerProcess } from './x11-server.js';

/** What every case runs against: an X display, its Xvfb process, the server child, the viewer. */
export interface Rig {
  display: string;
  xvfbPid: number;
  server: ServerProcess;
  viewer: Viewer;
}

export { procCpuMs } from './common.js';

export interface Point {
  x: number;
  y: number;
}

export class Viewer {
  private constructor(private readonly client: SpiceClient) {}

  /** Connect and wait until the first full frame is in (surface created and a MARK received). */
  static async connect(port: number): Promise<Viewer> {
    const client = new SpiceClient({ port, channels: [ChannelType.Display] });
    await client.connect();
    await client.waitFor(
      () => client.display.primary !== undefined && client.display.marks > 0,
      15_000,
      'the first frame',
    );
    return new Viewer(client);
  }

  /** Display-channel bytes received after the link (messages with their headers). */
  get bytes(): number {
    return this.client.channels.get(ChannelType.Display)?.stats.bytes ?? 0;
  }

  get messages(): number {
    return this.client.channels.get(ChannelType.Display)?.stats.messages ?? 0;
  }

  /** Messages the client failed to apply (a bench of a broken stream is worthless). */
  get errors(): readonly string[] {
    return this.client.errors;
  }

  /** The framebuffer's 0xRRGGBB at (x, y). */
  pixel(x: number, y: number): number {
    const s = this.client.display.primary;
    if (!s) throw new Error('the viewer has no primary surface');
    return s.pixels[y * s.width + x]! & 0xffffff;
  }

  /**
   * Resolves with the monotonic time (ms) of the display message after which `pred` first held:
   * taken inside the listener, so the await's own scheduling does not count.
   */
  until(pred: () => boolean, timeoutMs: number, what: string): Promise<number> {
    return new Promise((resolve, reject) => {
      if (pred()) return resolve(monoMs());
      const check = (): void => {
        if (!pred()) return;
        const at = monoMs();
        cleanup();
        resolve(at);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`X11 bench: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.client.off('display', check);
      };
      this.client.on('display', check);
    });
  }

  /** Call `listener` with the time of every display message that drew something; returns an unsubscribe. */
  onDraw(listener: (atMs: number) => void): () => void {
    const display = this.client.display;
    let draws = display.draws;
    const check = (): void => {
      if (display.draws === draws) return;
      draws = display.draws;
      listener(monoMs());
    };
    this.client.on('display', check);
    return () => this.client.off('display', check);
  }

  /** Resolves once no display message has arrived for `quietMs`. */
  settle(quietMs: number): Promise<void> {
    return new Promise((resolve) => {
      let timer = setTimeout(done, quietMs);
      const bump = (): void => {
        clearTimeout(timer);
        timer = setTimeout(done, quietMs);
      };
      const client = this.client;
      function done(): void {
        client.off('display', bump);
        resolve();
      }
      client.on('display', bump);
    });
  }

  close(): void {
    this.client.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export { makeRandom } from './common.js';

/** The p-th percentile (0..100) by nearest rank; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export interface Spread {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function spread(values: readonly number[]): Spread {
  return {
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    max: percentile(values, 100),
  };
}

/** A grid of `n` x `n` points over a width x height area, plus its corners. */
export function gridPoints(width: number, height: number, n: number): Point[] {
  const pts: Point[] = [
    { x: 0, y: 0 },
    { x: width - 1, y: 0 },
    { x: 0, y: height - 1 },
    { x: width - 1, y: height - 1 },
  ];
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++)
      pts.push({ x: Math.floor(((i + 0.5) * width) / n), y: Math.floor(((j + 0.5) * height) / n) });
  }
  return pts;
}
