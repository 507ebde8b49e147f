import type { PipeItem } from '../channel-core/pipe.js';
import { DisplayCap } from '../protocol/constants.js';
import type { Rect } from '../protocol/geometry.js';
import {
  encodeStreamActivateReport,
  encodeStreamClip,
  encodeStreamCreate,
  encodeStreamData,
  encodeStreamDestroy,
  reportsUndecodable,
  streamAbility,
  StreamFlags,
  VideoCodec,
  type StreamReport,
} from '../protocol/stream.js';
import type { Clip } from '../protocol/clip.js';
import type { Logger } from '../util/log.js';
import type { StreamViewer, VideoStream } from './streams.js';

/**
 * One viewer's side of the video streams: which streams it has been told about, its frames (a frame
 * not yet sent when the next one comes is replaced, never queued behind it), its stream reports, and
 * whether it takes streams at all. A viewer that cannot decode them, or sends reports that make no
 * sense, is served images again, alone.
 */

/**
 * Frames are stamped with their capture time on the multimedia clock plus this delay. spice-gtk
 * shows a frame at its stamp and drops it once late; its clock is ours minus the transit of
 * MAIN_INIT, so the delay must cover encoding plus any queueing since. spice-server uses 400 ms,
 * which is smooth but puts video far behind the typing beside it; 100 ms covers a frame's encode on
 * a loaded machine and a few frames of queue, and stream reports raise it for a viewer whose frames
 * arrive late.
 */
export const PLAYBACK_DELAY_MS = 100;
const MAX_DELAY_MS = 400;
/** A viewer reports every this many frames or this many ms of stream time. */
const REPORT_WINDOW = 25;
const REPORT_TIMEOUT_MS = 1000;
/** The slowest frame rate a report can push a viewer down to. */
const MAX_FRAME_INTERVAL_MS = 500;

export interface ViewerVideoHost {
  push(item: PipeItem): void;
  /** Take the unsent items matching `pred` out of the viewer's pipe. */
  dropQueued(pred: (item: PipeItem) => boolean): number;
  hasChannelCap(cap: number): boolean;
  /** The viewer is behind: its draws became damage; it gets no frames until it catches up. */
  lagging(): boolean;
  /** Bytes written for this viewer and not yet sent: ours, and the kernel's where TCP_INFO says. */
  backlog(): number;
  /** Send `rect` of the surface as it is now, losslessly (after this viewer stops taking a stream). */
  refresh(rect: Rect): void;
  readonly peer: string;
  readonly log: Logger;
}

interface FrameItem extends PipeItem {
  readonly streamFrame: number;
}

function isFrameOf(id: number): (item: PipeItem) => boolean {
  return (item) => (item as Partial<FrameItem>).streamFrame === id;
}

interface Known {
  uniqueId: number;
  sent: number;
  lastSent: number;
}

let uniqueIds = 0;

export class ViewerVideo implements StreamViewer {
  private readonly known = new Map<number, Known>();
  private refused: string | undefined;
  /** Playback delay and the least time between two frames, both set by this viewer's reports. */
  delayMs = PLAYBACK_DELAY_MS;
  frameIntervalMs = 0;
  /** Frames replaced unsent because a newer one came first, and skipped while lagging. */
  dropped = 0;

  constructor(
    private readonly host: ViewerVideoHost,
    private readonly wanted: boolean,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes streams: asked for, decodes MJPEG, and has not been sent back to images. */
  get enabled(): boolean {
    return this.wanted && this.refused === undefined && streamAbility((c) => this.host.hasChannelCap(c)).mjpeg;
  }

  /** Why this viewer was sent back to images, if it was. */
  get refusal(): string | undefined {
    return this.refused;
  }

  frame(s: VideoStream, jpeg: Buffer, captureMm: number): void {
    if (!this.enabled) return;
    if (this.host.lagging()) {
      this.dropped++;
      return;
    }
    // More than a frame still waits to leave (a thin link): this frame would only queue behind it,
    // and every later one behind both. Dropped here, the viewer gets the newest frame when it can.
    if (this.host.backlog() > jpeg.length) {
      this.dropped++;
      return;
    }
    const k = this.known.get(s.id) ?? this.create(s);
    const now = this.now();
    if (now - k.lastSent < this.frameIntervalMs) return;
    this.dropped += this.host.dropQueued(isFrameOf(s.id));
    const mmTime = (captureMm + this.delayMs) >>> 0;
    const item: FrameItem = {
      streamFrame: s.id,
      weight: jpeg.length,
      marshal: () => encodeStreamData({ id: s.id, mmTime, data: jpeg }),
    };
    k.sent++;
    k.lastSent = now;
    this.host.push(item);
  }

  private create(s: VideoStream): Known {
    const k: Known = { uniqueId: ++uniqueIds >>> 0, sent: 0, lastSent: -Infinity };
    this.known.set(s.id, k);
    this.host.push(
      message(
        encodeStreamCreate({
          surfaceId: 0,
          id: s.id,
          flags: StreamFlags.TopDown,
          codec: VideoCodec.Mjpeg,
          stamp: 0n,
          streamWidth: s.width,
          streamHeight: s.height,
          srcWidth: s.width,
          srcHeight: s.height,
          dest: s.rect,
          clip: clipOf(s),
        }),
      ),
    );
    if (this.host.hasChannelCap(DisplayCap.StreamReport)) {
      const report = { streamId: s.id, uniqueId: k.uniqueId, maxWindow: REPORT_WINDOW, timeoutMs: REPORT_TIMEOUT_MS };
      this.host.push(message(encodeStreamActivateReport(report)));
    }
    return k;
  }

  clip(s: VideoStream): void {
    if (this.known.has(s.id)) this.host.push(message(encodeStreamClip(s.id, clipOf(s))));
  }

  destroy(s: VideoStream): void {
    if (!this.known.delete(s.id)) return;
    this.host.dropQueued(isFrameOf(s.id));
    this.host.push(message(encodeStreamDestroy(s.id)));
  }

  /** The surface went away: its streams with it (the viewer is told by the caller's surface messages). */
  forgetAll(streams: readonly VideoStream[]): void {
    for (const s of streams) this.destroy(s);
  }

  report(r: StreamReport, streams: readonly VideoStream[]): void {
    const k = this.known.get(r.streamId);
    if (!k || k.uniqueId !== r.uniqueId) {
      // A report for a stream that has ended since (it crossed our DESTROY) is normal.
      this.host.log.debug(`viewer ${this.host.peer}: report for stream ${r.streamId}/${r.uniqueId}, not current`);
      return;
    }
    if (reportsUndecodable(r)) return this.refuse('it reports that it cannot decode MJPEG', streams);
    const absurd = absurdity(r, k.sent);
    if (absurd) return this.refuse(`absurd stream report (${absurd})`, streams);
    this.adapt(r);
  }

  /** Late frames or drops: more delay and fewer frames; a clean report: back towards full rate. */
  private adapt(r: StreamReport): void {
    const dropRatio = r.numFrames === 0 ? 0 : r.numDrops / r.numFrames;
    if (r.lastFrameDelay < 0) this.delayMs = Math.min(MAX_DELAY_MS, this.delayMs + 50);
    if (dropRatio > 0.2)
      this.frameIntervalMs = Math.min(MAX_FRAME_INTERVAL_MS, Math.max(40, this.frameIntervalMs * 1.5));
    else if (r.numDrops === 0) this.frameIntervalMs = Math.max(0, this.frameIntervalMs * 0.75 - 5);
  }

  /** Back to images for this viewer: its streams end and their areas go again, losslessly. */
  private refuse(reason: string, streams: readonly VideoStream[]): void {
    this.host.log.warn(`viewer ${this.host.peer}: ${reason}; sending it images instead of streams`);
    this.refused = reason;
    for (const s of streams) {
      if (!this.known.has(s.id)) continue;
      this.destroy(s);
      this.host.refresh(s.rect);
    }
  }
}

function message(m: ReturnType<typeof encodeStreamDestroy>): PipeItem {
  return { weight: 0, marshal: () => m };
}

function clipOf(s: VideoStream): Clip {
  return s.clip ? { type: 'rects', rects: s.clip } : { type: 'none' };
}

/** What is impossible in a report of a stream that was sent `sent` frames, or undefined. */
function absurdity(r: StreamReport, sent: number): string | undefined {
  if (r.numFrames > sent) return `${r.numFrames} frames played of ${sent} sent`;
  if (r.numDrops > sent) return `${r.numDrops} frames dropped of ${sent} sent`;
  const span = (r.endFrameMmTime - r.startFrameMmTime) >>> 0;
  if (r.numFrames > 0 && span > 3_600_000) return `a window of ${span} ms`;
  if (Math.abs(r.lastFrameDelay) > 60_000) return `a frame ${r.lastFrameDelay} ms off its time`;
  return undefined;
}
