import { readWavFile } from '../../audio/wav.js';
import type { DisplaySink } from '../../seam/index.js';
import { FramePump, framesOf } from './pump.js';

/** `--audio FILE.wav`: plays a WAV file (any rate and channel count, resampled to 48 kHz stereo). */
export class WavAudio {
  private pump: FramePump | undefined;

  constructor(
    readonly path: string,
    private readonly loop: boolean,
  ) {}

  async start(sink: DisplaySink): Promise<void> {
    const pcm = await readWavFile(this.path);
    this.pump = new FramePump(framesOf(pcm, this.loop));
    this.pump.start(sink);
  }

  stop(): void {
    this.pump?.stop();
  }
}
