import type { DesktopClipboard, DesktopResize, DisplaySink, DisplaySource, InputEvent } from '../seam/index.js';

/** Something that only makes sound. */
export interface AudioProducer {
  start(sink: DisplaySink): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** A display source with its sound coming from elsewhere (a WAV file, the X desktop's PulseAudio). */
export class WithAudio implements DisplaySource {
  readonly name: string;

  constructor(
    private readonly display: DisplaySource,
    private readonly sound: AudioProducer,
    label: string,
  ) {
    this.name = `${display.name} with ${label}`;
  }

  get modifiers(): number | undefined {
    return this.display.modifiers;
  }

  get clipboard(): DesktopClipboard | undefined {
    return this.display.clipboard;
  }

  get resizer(): DesktopResize | undefined {
    return this.display.resizer;
  }

  async start(sink: DisplaySink): Promise<void> {
    await this.display.start(sink);
    await this.sound.start(sink);
  }

  async stop(): Promise<void> {
    await this.sound.stop();
    await this.display.stop();
  }

  input(ev: InputEvent): void {
    this.display.input?.(ev);
  }
}
