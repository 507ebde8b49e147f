import { AudioTimeline } from '../../audio/timeline.js';
import { keyBlip, tick } from '../../audio/tones.js';
import type { DisplaySink } from '../../seam/index.js';

/** How often the mixer is pumped; each pump emits every 10 ms frame that has come due. */
const PUMP_MS = 20;

/**
 * The demo desktop's sound: a tick per clock second and a blip per typed key, mixed by an
 * AudioTimeline and sent as a continuous 48 kHz stereo stream (silence between sounds, which
 * Opus codes in a few bytes a frame). Driven by the wall clock, not the demo's animation clock,
 * so a still desktop still sounds when typed on.
 */
export class DemoSound {
  private readonly timeline = new AudioTimeline();
  private readonly tickClip = tick();
  private readonly keyClip = keyBlip();
  private timer: NodeJS.Timeout | undefined;
  private sink: DisplaySink | undefined;

  start(sink: DisplaySink): void {
    if (!sink.audio) return;
    this.sink = sink;
    sink.audio({ kind: 'audioStart' });
    this.timer = setInterval(() => this.pump(), PUMP_MS);
  }

  private pump(): void {
    const sink = this.sink;
    if (!sink?.audio) return;
    for (const f of this.timeline.pump(performance.now())) sink.audio({ kind: 'audioFrame', pcm: f.pcm });
  }

  tick(): void {
    if (this.sink) this.timeline.play(this.tickClip, { gain: 0.6 });
  }

  key(): void {
    if (this.sink) this.timeline.play(this.keyClip, { gain: 0.5 });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sink?.audio?.({ kind: 'audioStop' });
    this.sink = undefined;
  }
}
