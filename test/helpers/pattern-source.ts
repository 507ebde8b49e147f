import type { DisplaySink, DisplaySource, InputEvent } from '../../src/seam/index.js';
import { DeferredSource } from '../../src/sources/deferred.js';
import { allocImage, type PixelImage } from '../../src/display/pixels.js';

/** A deterministic test desktop: a gradient, a red box, a green bar per key press, and step(). */
export class PatternSource implements DisplaySource {
  readonly name = 'pattern';
  readonly inputs: InputEvent[] = [];
  private sink: DisplaySink | undefined;
  private steps = 0;

  constructor(
    readonly width = 320,
    readonly height = 240,
  ) {}

  start(sink: DisplaySink): void {
    this.sink = sink;
    sink.display({ kind: 'surfaceCreate', surfaceId: 0, width: this.width, height: this.height, primary: true });
    sink.display({
      kind: 'copy',
      surfaceId: 0,
      dest: { top: 0, left: 0, bottom: this.height, right: this.width },
      image: gradient(this.width, this.height, 0),
    });
    sink.display({ kind: 'fill', surfaceId: 0, rect: { top: 20, left: 20, bottom: 60, right: 120 }, color: 0xff0000 });
    sink.cursor({ kind: 'cursorSet', shape: { id: 1, image: gradient(16, 16, 7), hotX: 1, hotY: 2 } });
  }

  stop(): void {}

  input(ev: InputEvent): void {
    this.inputs.push(ev);
    if (ev.kind === 'key' && ev.down && this.sink) {
      const n = this.inputs.filter((e) => e.kind === 'key' && e.down).length;
      this.sink.display({
        kind: 'fill',
        surfaceId: 0,
        rect: { top: this.height - 10, left: 0, bottom: this.height, right: Math.min(this.width, n * 10) },
        color: 0x00ff00,
      });
    }
  }

  /** One frame of activity: an image, a fill and a scroll, all different each step. */
  step(): void {
    const s = this.sink!;
    const k = ++this.steps;
    const x = (k * 13) % (this.width - 40);
    const y = (k * 7) % (this.height - 40);
    s.display({
      kind: 'copy',
      surfaceId: 0,
      dest: { top: y, left: x, bottom: y + 32, right: x + 32 },
      image: gradient(32, 32, k),
    });
    s.display({
      kind: 'fill',
      surfaceId: 0,
      rect: { top: 100, left: 150, bottom: 110, right: 150 + (k % 100) },
      color: (k * 0x10203) & 0xffffff,
    });
    s.display({
      kind: 'copyBits',
      surfaceId: 0,
      src: { x: 200, y: 130 },
      dest: { top: 129, left: 200, bottom: 200, right: 300 },
    });
  }
}

export function gradient(w: number, h: number, seed: number): PixelImage {
  const img = allocImage(w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = (((x * 255) / w) << 16) | (((y * 255) / h) << 8) | ((x ^ y ^ seed) & 0xff);
      img.data.writeUInt32LE((v | 0xff000000) >>> 0, (y * w + x) * 4);
    }
  }
  return img;
}

/** A gradient screen whose sink the test drives by hand (`source.sink` once the server started). */
export class ManualSource implements DisplaySource {
  readonly name = 'manual';
  sink!: DisplaySink;

  constructor(
    readonly width = 320,
    readonly height = 240,
  ) {}

  start(sink: DisplaySink): void {
    this.sink = sink;
    sink.display({ kind: 'surfaceCreate', surfaceId: 0, width: this.width, height: this.height, primary: true });
    sink.display({
      kind: 'copy',
      surfaceId: 0,
      dest: { top: 0, left: 0, bottom: this.height, right: this.width },
      image: gradient(this.width, this.height, 0),
    });
  }

  stop(): void {}
}

/**
 * A PatternSource that starts only when triggered (a source waiting for its first viewer), with
 * the number of times it was started.
 */
export function deferredPattern(): { source: DeferredSource; started: () => number } {
  let started = 0;
  const inner = new PatternSource();
  const source = new DeferredSource({
    name: 'counted',
    start: (s) => {
      started++;
      inner.start(s);
    },
    stop: () => undefined,
  });
  return { source, started: () => started };
}
