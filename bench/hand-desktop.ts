import type { DisplaySink, DisplaySource } from '../src/seam/index.js';

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
