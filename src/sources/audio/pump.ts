import { FramePacer } from '../../audio/timeline.js';
import { FRAME_SAMPLES } from '../../audio/pcm.js';
import type { DisplaySink } from '../../seam/index.js';

/** How often frames that have come due are sent: a few 10 ms frames at a time. */
const PUMP_MS = 20;

/**
 * Sends 10 ms frames from `next` at the real-time rate, catching up after timer jitter (at most a
 * short burst; a long stall skips ahead rather than flooding the viewers with old sound).
 */
export class FramePump {
  private readonly pacer = new FramePacer({ maxBurstFrames: 10 });
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly next: () => Int16Array | undefined) {}

  start(sink: DisplaySink, onEnd?: () => void): void {
    if (!sink.audio) return;
    sink.audio({ kind: 'audioStart' });
    this.timer = setInterval(() => {
      for (let n = this.pacer.due(performance.now()); n > 0; n--) {
        const pcm = this.next();
        if (!pcm) {
          this.stop();
          sink.audio?.({ kind: 'audioStop' });
          onEnd?.();
          return;
        }
        sink.audio?.({ kind: 'audioFrame', pcm });
      }
    }, PUMP_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Cut interleaved 48 kHz stereo PCM into 10 ms frames, optionally looping. */
export function framesOf(pcm: Int16Array, loop: boolean): () => Int16Array | undefined {
  let at = 0;
  return () => {
    if (at >= pcm.length) {
      if (!loop || pcm.length === 0) return undefined;
      at = 0;
    }
    const frame = new Int16Array(FRAME_SAMPLES);
    frame.set(pcm.subarray(at, Math.min(pcm.length, at + FRAME_SAMPLES)));
    at += FRAME_SAMPLES;
    return frame;
  };
}
