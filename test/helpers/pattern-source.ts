import type { DisplaySink } from '../../src/display/commands.js';
import { allocImage } from '../../src/display/pixels.js';
import type { DisplaySource, InputEvent } from '../../src/sources/types.js';

/** A deterministic test desktop: a gradient, some fills, and a key counter strip. */
export class PatternSource implements DisplaySource {
  readonly name = 'pattern';
  readonly inputs: InputEvent[] = [];
  private sink: DisplaySink | undefined;

  constructor(
    readonly width = 320,
    readonly height = 240,
  ) {}

  start(sink: DisplaySink): void {
    this.sink = sink;
    sink.display({ kind: 'surfaceCreate', surfaceId: 0, width: this.width, height: this.height, primary: true });
    const img = allocImage(this.width, this.height);
    for (let y = 0; y < this.height; y++) {
      for (let x = 0; x < this.width; x++) img.data.writeUInt32LE(((x * 255) / this.width) << 16 | ((y * 255) / this.height) << 8 | ((x ^ y) & 0xff), (y * this.width + x) * 4);
    }
    sink.display({ kind: 'copy', surfaceId: 0, dest: { top: 0, left: 0, bottom: this.height, right: this.width }, image: img });
    sink.display({ kind: 'fill', surfaceId: 0, rect: { top: 20, left: 20, bottom: 60, right: 120 }, color: 0xff0000 });
  }

  stop(): void {}

  input(ev: InputEvent): void {
    this.inputs.push(ev);
    if (ev.kind === 'key' && ev.down && this.sink) {
      const n = this.inputs.filter((e) => e.kind === 'key' && e.down).length;
      this.sink.display({ kind: 'fill', surfaceId: 0, rect: { top: this.height - 10, left: 0, bottom: this.height, right: Math.min(this.width, n * 10) }, color: 0x00ff00 });
    }
  }
}
