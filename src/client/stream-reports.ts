import type { StreamActivateReport, StreamReport } from '../protocol/stream.js';

/*
 * A viewer's STREAM_REPORTs, as spice-gtk sends them: once the server activates reporting for a
 * stream, every frame that arrives counts, a frame that arrives after its stamp (on the viewer's
 * multimedia clock) counts as dropped, and a report goes when the window's frame count is reached,
 * when the window's time has run out, or after three drops in a row. last_frame_delay is the last
 * frame's stamp minus the viewer's clock at its arrival (negative: late); audio_delay is ~0 when no
 * audio plays. The counters start again after each report.
 */

/** spice-gtk reports at once after this many late frames in a row, whatever the window. */
const DROP_RUN_LIMIT = 3;
/** audio_delay when no audio plays (spice-gtk sends UINT_MAX). */
const NO_AUDIO = 0xffffffff;

interface Window {
  active: StreamActivateReport;
  frames: number;
  drops: number;
  dropRun: number;
  startFrameMm: number;
  startedAt: number;
}

export class StreamReports {
  private readonly windows = new Map<number, Window>();

  /** `now` is any millisecond clock of the viewer's (the window's timeout runs on it). */
  constructor(private readonly now: () => number) {}

  activate(a: StreamActivateReport): void {
    this.windows.set(a.streamId, { active: a, frames: 0, drops: 0, dropRun: 0, startFrameMm: 0, startedAt: 0 });
  }

  /** The stream ended: nothing more is reported for it. */
  end(streamId: number): void {
    this.windows.delete(streamId);
  }

  endAll(): void {
    this.windows.clear();
  }

  /**
   * A frame of `streamId` stamped `frameMm` arrived `latency` ms before its stamp (negative: late).
   * Returns the report to send now, if one is due.
   */
  frame(streamId: number, frameMm: number, latency: number): StreamReport | undefined {
    const w = this.windows.get(streamId);
    if (!w) return undefined;
    const now = this.now();
    if (w.frames === 0) {
      w.startFrameMm = frameMm;
      w.startedAt = now;
    }
    w.frames++;
    if (latency < 0) {
      w.drops++;
      w.dropRun++;
    } else {
      w.dropRun = 0;
    }
    const due =
      w.frames >= w.active.maxWindow || now - w.startedAt >= w.active.timeoutMs || w.dropRun >= DROP_RUN_LIMIT;
    if (!due) return undefined;
    const report: StreamReport = {
      streamId,
      uniqueId: w.active.uniqueId,
      startFrameMmTime: w.startFrameMm,
      endFrameMmTime: frameMm,
      numFrames: w.frames,
      numDrops: w.drops,
      lastFrameDelay: latency,
      audioDelay: NO_AUDIO,
    };
    w.frames = 0;
    w.drops = 0;
    w.dropRun = 0;
    return report;
  }
}
