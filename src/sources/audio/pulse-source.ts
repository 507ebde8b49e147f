import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { FrameChunker, s16leToPcm } from '../../audio/pcm.js';
import type { DisplaySink } from '../../seam/index.js';
import type { Logger } from '../../util/log.js';

/** Why `--pulse` cannot work here, or '' when parec is installed. */
export function pulseUnavailableReason(): string {
  const r = spawnSync('sh', ['-c', 'command -v parec'], { stdio: 'ignore' });
  return r.status === 0 ? '' : '--pulse needs parec, which is not installed (apt-get install pulseaudio-utils)';
}

/**
 * `--pulse`: what the desktop plays, captured from the PulseAudio/PipeWire monitor of the default
 * sink with parec, as 48 kHz stereo s16le, cut into 10 ms frames as they arrive (the sound
 * server's clock paces them).
 */
export class PulseAudio {
  private child: ChildProcess | undefined;
  private readonly chunker = new FrameChunker();
  private carry: Buffer = Buffer.alloc(0);

  constructor(
    private readonly log: Logger,
    private readonly device = '@DEFAULT_MONITOR@',
  ) {}

  start(sink: DisplaySink): void {
    const why = pulseUnavailableReason();
    if (why) throw new Error(why);
    if (!sink.audio) return;
    const child = spawn(
      'parec',
      ['--format=s16le', '--rate=48000', '--channels=2', '--latency-msec=20', `--device=${this.device}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      if (this.child === child)
        this.log.error(`parec stopped (exit ${code}): ${stderr.trim() || 'no message'}; no more sound`);
      sink.audio?.({ kind: 'audioStop' });
    });
    sink.audio({ kind: 'audioStart' });
    child.stdout!.on('data', (d: Buffer) => this.onPcm(d, sink));
  }

  private onPcm(data: Buffer, sink: DisplaySink): void {
    // Samples are 2 bytes: keep an odd byte for the next chunk.
    const bytes = this.carry.length ? Buffer.concat([this.carry, data]) : data;
    const whole = bytes.length & ~1;
    this.carry = Buffer.from(bytes.subarray(whole));
    for (const frame of this.chunker.push(s16leToPcm(bytes.subarray(0, whole))))
      sink.audio?.({ kind: 'audioFrame', pcm: frame });
  }

  stop(): void {
    const c = this.child;
    this.child = undefined;
    c?.kill('SIGTERM');
  }
}
