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
import type { EncodedFrame, StreamViewer, VideoStream } from './streams.js';

/**
 * One viewer's side of the video streams: which streams it has been told about, its frames, its
 * stream reports, and whether it takes streams at all. A viewer that cannot decode them, or sends
 * reports that make no sense, is served images again, alone.
 *
 * Frames never queue behind the link. A frame goes into the pipe only when the connection's link
 * estimate says what was written before has (nearly) left; until then it waits here, and a newer
 * one replaces it. In the pipe frames take the background lane: every other draw (a typed glyph, a
 * menu) leaves before them. The JPEG quality follows the estimate: each frame should take at most a
 * share of what the link carries at the video's frame rate, so that the frame rate holds and
 * interactive updates keep room; when even the lowest quality does not fit, frames are fewer.
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
/** A frame leaves when what waits before it drains within this many ms. */
const GATE_MS = 10;
/** Look again at least this often while a frame waits for the link. */
const MAX_RETRY_MS = 40;
const MIN_RETRY_MS = 3;
/** The share of the link's bandwidth the video of one viewer is budgeted (the rest: everything else). */
const VIDEO_SHARE = 0.6;
/** The JPEG qualities a stream is sent at, best first (those above the configured best are left out). */
const QUALITY_LADDER = [85, 70, 55, 40, 30, 20, 12];
/** A frame at the next better quality is guessed this much larger until one was encoded. */
const STEP_GROWTH = 1.7;
/** Quality goes up at most this often (down at once). */
const STEP_UP_MS = 500;
const MAX_DELAY_MS = 400;
/** A viewer reports every this many frames or this many ms of stream time. */
const REPORT_WINDOW = 25;
const REPORT_TIMEOUT_MS = 1000;
/** The slowest frame rate a report can push a viewer down to. */
const MAX_FRAME_INTERVAL_MS = 200;
/**
 * A quiet stream's area goes losslessly once the multimedia clock is this far past the last frame's
 * stamp: the viewer's clock is ours less MAIN_INIT's transit, and a frame late to its decoder may
 * be shown a little after its stamp.
 */
const SHOWN_MARGIN_MS = 30;
/** A frame this much earlier than half the delay says the delay can shrink. */
const EARLY_MARGIN_MS = 20;

export interface ViewerVideoHost {
  push(item: PipeItem): void;
  /** Queue behind every other item of the pipe (stream frames). */
  pushBackground(item: PipeItem): void;
  /** Take the unsent items matching `pred` out of the viewer's pipe. */
  dropQueued(pred: (item: PipeItem) => boolean): number;
  hasChannelCap(cap: number): boolean;
  /** The viewer is behind: its draws became damage; it gets no frames until it catches up. */
  lagging(): boolean;
  /** Milliseconds until what was written for this viewer has left, by the link estimate. */
  drainMs(): number;
  /** The bytes per second the viewer's link carries, by the estimate. */
  bandwidth(): number;
  /** Send `rect` of the surface as it is now, losslessly (after this viewer stops taking a stream). */
  refresh(rect: Rect): void;
  /** `rect` is not owed losslessly any more (the video in it resumed): its bands not yet sent are dropped. */
  forgetRefresh(rect: Rect): void;
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
  /** Index into the quality ladder, and when it last went up. */
  level: number;
  raised: number;
  /** The newest frame not yet handed to the pipe (the link still carried the previous ones). */
  waiting: { jpeg: Buffer; mmTime: number } | undefined;
  /** The stamp of the last frame handed to the pipe: spice-gtk shows it then. */
  lastStamp: number;
  /** The stream's area was asked for losslessly since its last frame (the video looked stopped). */
  exact: boolean;
}

let uniqueIds = 0;

export class ViewerVideo implements StreamViewer {
  private readonly known = new Map<number, Known>();
  private readonly ladder: number[];
  private refused: string | undefined;
  private retry: NodeJS.Timeout | undefined;
  /** Playback delay and the least time between two frames, both set by this viewer's reports. */
  delayMs = PLAYBACK_DELAY_MS;
  frameIntervalMs = 0;
  /** Frames replaced unsent because a newer one came first, and skipped while lagging. */
  dropped = 0;
  /** Whether the viewer decodes MJPEG, once worked out (decodesMjpeg). */
  private mjpeg: boolean | undefined;

  constructor(
    private readonly host: ViewerVideoHost,
    private readonly wanted: boolean,
    bestQuality = 70,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.ladder = [bestQuality, ...QUALITY_LADDER.filter((q) => q < bestQuality)];
  }

  /** Takes streams: asked for, decodes MJPEG, and has not been sent back to images. */
  get enabled(): boolean {
    return this.wanted && this.refused === undefined && this.decodesMjpeg;
  }

  /**
   * Whether the viewer's capabilities say it decodes MJPEG, worked out once (they are fixed at link
   * time): `enabled` is asked at every drain of every viewer and, for every viewer, at each draw,
   * and working it out each time (an object and closures per call) was 2 % of the server's profile
   * with 500 viewers.
   */
  private get decodesMjpeg(): boolean {
    this.mjpeg ??= streamAbility((c) => this.host.hasChannelCap(c)).mjpeg;
    return this.mjpeg;
  }

  /** Why this viewer was sent back to images, if it was. */
  get refusal(): string | undefined {
    return this.refused;
  }

  /** The JPEG quality this viewer takes `s` at now (stats and tests). */
  quality(s: VideoStream): number | undefined {
    const k = this.known.get(s.id);
    return k && this.ladder[k.level];
  }

  wants(s: VideoStream, encodeMs: number): number | undefined {
    if (!this.enabled || this.host.lagging()) return undefined;
    const k = this.known.get(s.id);
    if (k && this.now() + encodeMs - k.lastSent < this.frameIntervalMs) return undefined;
    // Ready by the time the frame is encoded: the link will have carried what it holds now.
    if (this.host.drainMs() > GATE_MS + encodeMs) return undefined;
    if (!k) return this.ladder[0];
    this.adjustLevel(k, s);
    return this.ladder[k.level];
  }

  /**
   * One step a frame: down when the current quality's frames are over the budget, up when the next
   * better one's are (guessed from this one's until encoded) well within it.
   */
  private adjustLevel(k: Known, s: VideoStream): void {
    const budget = (VIDEO_SHARE * this.host.bandwidth()) / s.sourceFps / Math.max(1, this.known.size);
    const size = s.frameBytes(this.ladder[k.level]!);
    if (size !== undefined && size > budget) {
      if (k.level < this.ladder.length - 1) k.level++;
      return;
    }
    const now = this.now();
    if (k.level === 0 || now - k.raised < STEP_UP_MS) return;
    const better = s.frameBytes(this.ladder[k.level - 1]!) ?? (size === undefined ? undefined : size * STEP_GROWTH);
    if (better !== undefined && better <= 0.9 * budget) {
      k.level--;
      k.raised = now;
    }
  }

  frame(s: VideoStream, frame: EncodedFrame, captureMm: number): void {
    if (!this.enabled) return;
    if (this.host.lagging()) {
      this.dropped++;
      return;
    }
    const k = this.known.get(s.id) ?? this.create(s);
    const jpeg = frame.get(this.ladder[k.level]!) ?? nearest(frame, this.ladder[k.level]!);
    if (!jpeg) return;
    if (k.waiting) this.dropped++;
    k.waiting = { jpeg, mmTime: (captureMm + this.delayMs) >>> 0 };
    this.deliver();
  }

  /** Hand the waiting frames to the pipe if the link has carried what it held; else look again soon. */
  private deliver(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    for (const [id, k] of this.known) {
      if (!k.waiting) continue;
      const drain = this.host.drainMs();
      if (drain > GATE_MS) {
        const wait = Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, drain - GATE_MS));
        this.retry = setTimeout(() => this.deliver(), wait);
        this.retry.unref();
        return;
      }
      this.send(id, k, k.waiting);
      k.waiting = undefined;
    }
  }

  private send(id: number, k: Known, f: { jpeg: Buffer; mmTime: number }): void {
    // A frame still in the pipe (the ACK window held it) is replaced, never queued behind.
    this.dropped += this.host.dropQueued(isFrameOf(id));
    const item: FrameItem = {
      streamFrame: id,
      weight: f.jpeg.length,
      marshal: () => encodeStreamData({ id, mmTime: f.mmTime, data: f.jpeg }),
    };
    k.sent++;
    k.lastSent = this.now();
    k.lastStamp = f.mmTime;
    this.host.pushBackground(item);
  }

  /**
   * The video in `s` looks stopped: once this viewer has shown its last frame (spice-gtk shows a
   * frame at its stamp; a band drawn before that would be painted over by it), the area goes
   * losslessly now rather than when the stream ends, and the frames not yet sent are dropped.
   */
  quiet(s: VideoStream, mmNow: number): void {
    const k = this.known.get(s.id);
    if (!k || k.exact || ((mmNow - k.lastStamp) | 0) < SHOWN_MARGIN_MS) return;
    k.exact = true;
    k.waiting = undefined;
    this.dropped += this.host.dropQueued(isFrameOf(s.id));
    this.host.refresh(s.rect);
  }

  /** Video plays in `s` again: its frames replace the area, and the bands not yet sent are not owed. */
  resumed(s: VideoStream): void {
    const k = this.known.get(s.id);
    if (!k?.exact) return;
    k.exact = false;
    this.host.forgetRefresh(s.rect);
  }

  /** The viewer left: no more retries. */
  close(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    this.known.clear();
  }

  private create(s: VideoStream): Known {
    const k: Known = {
      uniqueId: ++uniqueIds >>> 0,
      sent: 0,
      lastSent: -Infinity,
      level: 0,
      raised: this.now(),
      waiting: undefined,
      lastStamp: 0,
      exact: false,
    };
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

  destroy(s: VideoStream): boolean {
    const k = this.known.get(s.id);
    if (!k) return false;
    this.known.delete(s.id);
    this.host.dropQueued(isFrameOf(s.id));
    this.host.push(message(encodeStreamDestroy(s.id)));
    return k.exact;
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

  /**
   * Late frames or drops: more delay and fewer frames; a clean report: back towards full rate, and
   * towards the least delay when frames arrive well before their time (a delay raised once, by a
   * backlog that has since drained, stayed there for good and put the video 250 ms behind).
   * The link estimate paces frames already; reports catch what it cannot see, a viewer too slow to
   * decode, so they slow the rate gently and never below 5 frames a second.
   */
  private adapt(r: StreamReport): void {
    const dropRatio = r.numFrames === 0 ? 0 : r.numDrops / r.numFrames;
    if (r.lastFrameDelay < 0) this.delayMs = Math.min(MAX_DELAY_MS, this.delayMs + 50);
    else if (r.numDrops === 0 && r.lastFrameDelay > this.delayMs / 2 + EARLY_MARGIN_MS)
      this.delayMs = Math.max(PLAYBACK_DELAY_MS, this.delayMs - 25);
    if (dropRatio > 0.2)
      this.frameIntervalMs = Math.min(MAX_FRAME_INTERVAL_MS, Math.max(40, this.frameIntervalMs * 1.25));
    else if (r.numDrops === 0) this.frameIntervalMs = Math.max(0, this.frameIntervalMs * 0.5 - 5);
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

/** The frame encoded at the quality nearest `q` (a viewer whose level changed since it asked). */
function nearest(frame: EncodedFrame, q: number): Buffer | undefined {
  let best: [number, Buffer] | undefined;
  for (const [quality, jpeg] of frame)
    if (!best || Math.abs(quality - q) < Math.abs(best[0] - q)) best = [quality, jpeg];
  return best?.[1];
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
