import { allocImage, type PixelImage } from '../src/display/pixels.js';
import type { DisplaySink, DisplaySource } from '../src/seam/index.js';
import { SpiceServer } from '../src/server/server.js';
import { DEFAULT_VIDEO_OPTIONS } from '../src/video/streams.js';

/**
 * A desktop a bench draws on by hand: a primary surface of `width` x `height` filled with one dark
 * colour at start, then whatever the bench puts through `sink`, so each draw's time is the bench's.
 */
export class HandDesktop implements DisplaySource {
  readonly name = 'bench';
  sink!: DisplaySink;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {}

  start(sink: DisplaySink): void {
    this.sink = sink;
    const { width, height } = this;
    sink.display({ kind: 'surfaceCreate', surfaceId: 0, width, height, primary: true });
    sink.display({
      kind: 'fill',
      surfaceId: 0,
      rect: { top: 0, left: 0, bottom: height, right: width },
      color: 0x203040,
    });
  }

  stop(): void {}
}

/** A server of `source` on a port of its own, sound and video streams off: what the browser benches watch. */
export async function serveForBrowser(source: DisplaySource): Promise<SpiceServer> {
  const server = new SpiceServer({
    source,
    port: 0,
    audio: false,
    display: { video: { ...DEFAULT_VIDEO_OPTIONS, enabled: false } },
  });
  await server.start();
  return server;
}

/** A copy of `img` with a 16x16 block of `colour` in its bottom-right corner (the spot a bench watches). */
export function marked(img: PixelImage, colour: number): PixelImage {
  const out = allocImage(img.width, img.height);
  img.data.copy(out.data);
  for (let y = img.height - 16; y < img.height; y++) {
    for (let x = img.width - 16; x < img.width; x++) out.data.writeUInt32LE(colour, (y * img.width + x) * 4);
  }
  return out;
}
