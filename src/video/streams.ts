import {
  intersectRect,
  rectArea,
  rectContains,
  rectIsEmpty,
  rectsEqual,
  unionRect,
  type Rect,
} from '../protocol/geometry.js';
import type { PrimaryUpdate } from '../display/desktop.js';
import { cropImage } from '../display/pixels.js';
import type { PixelImage } from '../seam/index.js';
import { errorMessage, type Logger } from '../util/log.js';
import { DEFAULT_DETECTOR_OPTIONS, isGradual, isPhotoLike, VideoDetector, type DetectorOptions } from './detector.js';
import { captureRgb, encodeJpeg } from './jpeg.js';
import { MAX_OCCLUDERS, Occluders } from './occluders.js';
import { subtractAll } from './rects.js';

/**
 * The video streams of the primary surface, the same for every viewer: which areas are streams,
 * what their clip is, and their frames, each captured from the server's surface and encoded once
 * for all viewers that take streams. A draw inside a stream does not reach those viewers (the next
 * frame carries it); a draw that is not video (text, fills, a window over the video) reaches them
 * as a draw and clips the stream there for as long as its pixels stay (occluders.ts); when the
 * video stops, the stream is destroyed and the area sent again losslessly, so the last frame is exact.
 */

export interface VideoOptions {
  /** Stream video areas to viewers that decode MJPEG. */
  enabled: boolean;
  detector: DetectorOptions;
  /**
   * A stream with no video drawn in it for this long ends (sooner for a fast video: see STOP_FRAMES);
   * then its area goes losslessly, so the viewer's frame is exact that much after the video stops.
   */
  stopMs: number;
  /** At most this many frames a second per stream (spice-server caps at 30 too). */
  maxFps: number;
  /** The best JPEG quality a frame is sent at; viewers whose link carries less get lower ones. */
  quality: number;
  maxStreams: number;
  /**
   * Milliseconds for detection and for when a stream ends. Tests drive it by hand: a shared machine
   * may deliver a test's 25 fps at 5, and the rate is what decides.
   */
  clock: () => number;
}

export const DEFAULT_VIDEO_OPTIONS: VideoOptions = {
  enabled: true,
  detector: DEFAULT_DETECTOR_OPTIONS,
  stopMs: 500,
  maxFps: 30,
  quality: 70,
  maxStreams: 8,
  clock: () => performance.now(),
};

/**
 * A video that draws a frame every `frameInterval` has stopped once it missed this many frames (and
 * STOP_MIN_MS), whatever the longer stopMs: at 25 fps 250 ms, so the exact area comes 250 ms sooner,
 * a quarter of the 1 s issue 14 allows. A hiccup that long costs a lossless area and a new stream.
 */
const STOP_FRAMES = 6;
const STOP_MIN_MS = 250;
/** A video that missed this many frames (and QUIET_MIN_MS) looks stopped: see VideoStreams.quiet. */
const QUIET_FRAMES = 3;
const QUIET_MIN_MS = 100;

function quietAfter(s: { frameInterval: number }): number {
  return Math.max(QUIET_MIN_MS, QUIET_FRAMES * s.frameInterval);
}

/** How often streams are looked at for a stop (and occluders for their expiry). */
const TICK_MS = 50;
/** How often the video regions are looked for while video is drawn. */
const DETECT_EVERY_MS = 100;
/** Stream ids are below 64 (spice-gtk and spice-html5 index arrays by them). */
const MAX_STREAM_ID = 64;
/** While no viewer is ready for a frame, look again this often (their links drain meanwhile). */
const WANT_RETRY_MS = 8;
/** Bands of one frame come closer together than this (as in the detector). */
const FRAME_GAP_MS = 12;
/** Weight of the newest sample in the running averages of frame interval, size and encode time. */
const AVERAGE_WEIGHT = 0.2;

const average = (old: number | undefined, sample: number): number =>
  old === undefined ? sample : old + AVERAGE_WEIGHT * (sample - old);

export interface VideoStream {
  readonly id: number;
  readonly rect: Rect;
  /** The visible part (rect minus recent occluders); undefined when the stream is not clipped. */
  clip: Rect[] | undefined;
  readonly width: number;
  readonly height: number;
  /** Frames encoded so far. */
  frames: number;
  /** Video frames drawn a second (an average), at most maxFps: the rate viewers budget for. */
  readonly sourceFps: number;
  /** The recent size of a frame encoded at `quality`, undefined before one was. */
  frameBytes(quality: number): number | undefined;
}

interface StreamState extends VideoStream {
  /** What covers parts of it (windows, fills): clipped out of the stream. */
  occluders: Occluders;
  lastVideo: number;
  /** When the current video frame began (its first band), and the average time between frames. */
  frameStart: number;
  frameInterval: number;
  /** Average frame size by JPEG quality, and average encode time. */
  sizes: Map<number, number>;
  encodeMs: number;
  lastCapture: number;
  dirty: boolean;
  busy: boolean;
  ended: boolean;
  /** Viewers were told the stream is quiet (resumed video tells them otherwise). */
  quiet: boolean;
}

/** What the streams need from the display channel. */
export interface StreamHost {
  /** Viewers taking streams now. */
  viewers(): Iterable<StreamViewer>;
  surface(): PixelImage | undefined;
  /**
   * Whether gradual content (not photo-like) counts as video: while a viewer taking streams would
   * take photos lossy (its link is thin). Lossless, a smooth pan is cheap for a fast link and
   * exact; at 2 Mbit/s its frames (15-18 kB of LZ each) filled the link at 13 a second and typed
   * glyphs waited behind them.
   */
  gradualIsVideo(): boolean;
  /** Send `rect` of the surface as it is now, losslessly, to the viewers taking streams but `except`. */
  refresh(rect: Rect, except: ReadonlySet<StreamViewer>): void;
  mmTime(): number;
  log: Logger;
}

/** One capture of a stream, encoded at each quality some viewer asked for. */
export type EncodedFrame = ReadonlyMap<number, Buffer>;

export interface StreamViewer {
  /**
   * The JPEG quality this viewer would take a frame captured now at, or undefined when it would
   * not take one (its link still carries the last, or it is not due yet).
   */
  wants(stream: VideoStream, encodeMs: number): number | undefined;
  frame(stream: VideoStream, frame: EncodedFrame, captureMm: number): void;
  clip(stream: VideoStream): void;
  /**
   * No video was drawn in the stream for a while (it has not ended yet), and the multimedia clock
   * reads `mmNow`: the viewer may take the area losslessly already, once its last frame was shown.
   */
  quiet(stream: VideoStream, mmNow: number): void;
  /** Video is drawn in the stream again (after quiet): an area owed losslessly is not any more. */
  resumed(stream: VideoStream): void;
  /** The stream ends for this viewer; true when it was sent the area losslessly since its last frame. */
  destroy(stream: VideoStream): boolean;
}

/** A draw on the primary surface (not its creation or destruction). */
export type DrawUpdate = Extract<PrimaryUpdate, { kind: 'fill' | 'copy' | 'copyBits' }>;

/** What viewers taking streams get instead of one primary update (undefined: the update itself). */
export type Routed = DrawUpdate[] | undefined;

export class VideoStreams {
  private detector: VideoDetector | undefined;
  private readonly streams = new Map<number, StreamState>();
  private lastDetect = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  /** Frames encoded, and encoding failures, for stats and tests. */
  readonly stats = { started: 0, stopped: 0, frames: 0, failures: 0 };

  constructor(
    private readonly host: StreamHost,
    readonly options: VideoOptions = DEFAULT_VIDEO_OPTIONS,
  ) {}

  private now(): number {
    return this.options.clock();
  }

  get active(): readonly VideoStream[] {
    return [...this.streams.values()];
  }

  /** The primary surface was created or destroyed: every stream ends, the detector starts over. */
  reset(width?: number, height?: number): void {
    for (const s of [...this.streams.values()]) this.end(s, false);
    this.detector = width && height ? new VideoDetector(width, height, this.options.detector) : undefined;
  }

  /** Look at one update; say what viewers that take streams get instead of it. */
  route(u: PrimaryUpdate): Routed {
    if (!this.options.enabled || !this.detector) return undefined;
    if (u.kind === 'primaryCreated' || u.kind === 'primaryDestroyed') return undefined;
    const now = this.now();
    const touched = [...this.streams.values()].filter((s) => !rectIsEmpty(intersectRect(s.rect, u.rect)));
    const video = u.kind === 'copy' && this.isVideo(u.image, rectArea(u.rect), touched.length > 0);
    if (video) this.detector.observe(u.rect, now);
    if (video) this.maybeDetect(now);
    if (touched.length === 0) return undefined;
    if (u.kind === 'copyBits') return this.inPlayingStream(u.rect, touched) ? [] : this.routeCopyBits(u.rect, touched);
    if (!video) {
      for (const s of touched) this.occlude(s, u.rect);
      return undefined;
    }
    for (const s of touched) this.videoDrawn(s, u.rect, now);
    return this.outside(u, touched);
  }

  /**
   * Whether a copy's image is video content: photo-like, or gradual where that counts (see
   * StreamHost.gradualIsVideo) or inside a stream already (a stream started for a thin viewer
   * keeps its frames as video when the link estimate rises: otherwise they would clip it away).
   */
  private isVideo(image: PixelImage, drawn: number, inStream: boolean): boolean {
    return isPhotoLike(image) || (isGradual(image, drawn) && (inStream || this.host.gradualIsVideo()));
  }

  /**
   * A copy-bits whose destination lies in the visible part of a playing stream changes only pixels
   * the stream's next frame paints again (from the surface, which has the copy-bits): it need not
   * reach the viewers that take the stream, and must not end it. The X11 capture finds such moves
   * in smooth video (a pan across a gradient shifts whole flat rows): each one ended the stream and
   * sent its area losslessly, 19 streams in 10 s at 2 Mbit/s. Not once the stream is quiet: its
   * area may be going losslessly already, band by band.
   */
  private inPlayingStream(dest: Rect, touched: StreamState[]): boolean {
    const s = touched.find((t) => rectContains(t.rect, dest));
    if (!s || s.quiet || s.occluders.rects.some((o) => !rectIsEmpty(intersectRect(o, dest)))) return false;
    this.markDirty(s);
    return true;
  }

  /**
   * Copy-bits reads the viewer's pixels, which inside a stream are a lossy frame not yet shown:
   * the streams it touches end, and the area goes as an image of the surface as it is now.
   */
  private routeCopyBits(rect: Rect, touched: StreamState[]): Routed {
    let area = rect;
    for (const s of touched) {
      area = unionRect(area, s.rect);
      this.end(s, false);
    }
    const surface = this.host.surface();
    if (!surface) return [];
    const image = cropImage(surface, area.left, area.top, area.right - area.left, area.bottom - area.top);
    return [{ kind: 'copy', rect: area, image, src: { x: 0, y: 0 } }];
  }

  /** The parts of a video copy outside every stream it touches, as copies of the same image. */
  private outside(u: Extract<PrimaryUpdate, { kind: 'copy' }>, touched: StreamState[]): DrawUpdate[] {
    const rest = subtractAll(
      [u.rect],
      touched.map((s) => s.rect),
    );
    return rest.map((r) => ({
      kind: 'copy',
      rect: r,
      image: u.image,
      src: { x: u.src.x + r.left - u.rect.left, y: u.src.y + r.top - u.rect.top },
    }));
  }

  private videoDrawn(s: StreamState, rect: Rect, now: number): void {
    if (now - s.lastVideo > FRAME_GAP_MS) {
      s.frameInterval = average(s.frameInterval, Math.min(1000, now - s.frameStart));
      s.frameStart = now;
    }
    s.lastVideo = now;
    if (s.quiet) {
      s.quiet = false;
      for (const v of this.host.viewers()) v.resumed(s);
    }
    // Video that changed pixels where an occluder was: that part has gone (a window closed or moved
    // away, a letterbox faded into the picture); one whose pixels it left as they were stays.
    const surface = this.host.surface();
    if (surface && s.occluders.videoDrawn(rect, surface)) this.updateClip(s);
    this.markDirty(s);
  }

  private occlude(s: StreamState, rect: Rect): void {
    const surface = this.host.surface();
    if (!surface) return;
    s.occluders.add(intersectRect(s.rect, rect), surface);
    this.updateClip(s);
  }

  private updateClip(s: StreamState): void {
    const visible = s.occluders.size === 0 ? undefined : subtractAll([s.rect], s.occluders.rects);
    if (sameClip(visible, s.clip)) return;
    s.clip = visible;
    for (const v of this.host.viewers()) v.clip(s);
  }

  private maybeDetect(now: number): void {
    if (now - this.lastDetect < DETECT_EVERY_MS || !this.detector) return;
    this.lastDetect = now;
    if (!this.hasViewers()) return;
    for (const region of this.detector.regions(now)) {
      const overlapping = [...this.streams.values()].filter((s) => !rectIsEmpty(intersectRect(s.rect, region)));
      if (overlapping.some((s) => rectContains(s.rect, region))) continue;
      // The video moved or grew: the old streams end (exact area) and one stream takes the new region.
      for (const s of overlapping) this.end(s, true);
      this.start(region, now);
    }
  }

  private hasViewers(): boolean {
    for (const _ of this.host.viewers()) return true;
    return false;
  }

  private start(rect: Rect, now: number): void {
    const id = this.freeId();
    if (id === undefined) return;
    const width = rect.right - rect.left;
    const height = rect.bottom - rect.top;
    const maxFps = this.options.maxFps;
    const s: StreamState = {
      id,
      rect,
      clip: undefined,
      width,
      height,
      frames: 0,
      occluders: this.stillOccluders(rect, now),
      lastVideo: now,
      frameStart: now,
      frameInterval: 1000 / maxFps,
      sizes: new Map(),
      encodeMs: 10,
      get sourceFps() {
        return Math.min(maxFps, 1000 / Math.max(1, this.frameInterval));
      },
      frameBytes(quality) {
        return this.sizes.get(quality);
      },
      lastCapture: -Infinity,
      dirty: false,
      busy: false,
      ended: false,
      quiet: false,
    };
    s.clip = s.occluders.size === 0 ? undefined : subtractAll([rect], s.occluders.rects);
    this.streams.set(id, s);
    this.stats.started++;
    this.host.log.debug(`stream ${id} starts: ${width}x${height} at ${rect.left},${rect.top}`);
    this.ensureTimer();
    this.markDirty(s);
  }

  /**
   * The parts of a new stream where no video plays (a window over it, a still part of the picture)
   * start clipped out: viewers have their exact pixels already. Past MAX_OCCLUDERS pieces they are
   * no window, and the stream starts whole.
   */
  private stillOccluders(rect: Rect, now: number): Occluders {
    const occluders = new Occluders();
    const surface = this.host.surface();
    const still = surface && this.detector ? this.detector.stillParts(rect, now) : [];
    if (surface && still.length <= MAX_OCCLUDERS) for (const r of still) occluders.add(r, surface);
    return occluders;
  }

  private freeId(): number | undefined {
    if (this.streams.size >= this.options.maxStreams) return undefined;
    for (let id = 0; id < MAX_STREAM_ID; id++) if (!this.streams.has(id)) return id;
    return undefined;
  }

  /** End a stream: viewers destroy it, and (refresh) get its area as it is now, losslessly. */
  private end(s: StreamState, refresh: boolean): void {
    if (s.ended) return;
    s.ended = true;
    this.streams.delete(s.id);
    this.stats.stopped++;
    this.host.log.debug(`stream ${s.id} ends after ${s.frames} frames`);
    const exact = new Set<StreamViewer>();
    for (const v of this.host.viewers()) if (v.destroy(s)) exact.add(v);
    if (refresh) this.host.refresh(s.rect, exact);
    if (this.streams.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Streams whose video stopped end. */
  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  private tick(): void {
    const now = this.now();
    for (const s of [...this.streams.values()]) {
      const quietMs = now - s.lastVideo;
      if (quietMs > this.stopAfter(s)) this.end(s, true);
      else if (quietMs >= quietAfter(s)) this.quiet(s);
    }
  }

  /**
   * The video looks stopped, not yet long enough to end the stream (a hiccup of the player must not
   * cost a new stream and a lossless area): viewers whose last frame was shown take the area
   * losslessly already, in bands that resumed video cancels. The final frame is exact that much
   * sooner (the stream's end was 250 ms of the 1 s issue 14 allows, at any link speed).
   */
  private quiet(s: StreamState): void {
    s.quiet = true;
    const mm = this.host.mmTime();
    for (const v of this.host.viewers()) v.quiet(s, mm);
  }

  /** How long without video ends `s`: STOP_FRAMES of its frame interval, within STOP_MIN_MS and stopMs. */
  private stopAfter(s: StreamState): number {
    return Math.min(this.options.stopMs, Math.max(STOP_MIN_MS, STOP_FRAMES * s.frameInterval));
  }

  /** Capture soon (the rest of this frame's bands first), at most maxFps, one encode at a time. */
  private markDirty(s: StreamState): void {
    s.dirty = true;
    if (s.busy) return;
    s.busy = true;
    const wait = Math.max(0, s.lastCapture + 1000 / this.options.maxFps - this.now());
    setTimeout(() => this.capture(s), wait);
  }

  /**
   * Capture the stream's area now and encode it once per quality the viewers ready for a frame ask
   * for; when none is ready (their links still carry the last frame), look again shortly, so a
   * frame is only ever encoded to be sent at once and a viewer gets the newest picture when it can.
   */
  private capture(s: StreamState): void {
    const surface = this.host.surface();
    if (s.ended || !surface) return;
    const qualities = new Set<number>();
    for (const v of this.host.viewers()) {
      const q = v.wants(s, s.encodeMs);
      if (q !== undefined) qualities.add(q);
    }
    if (qualities.size === 0) {
      if (this.hasViewers()) setTimeout(() => this.capture(s), WANT_RETRY_MS);
      else s.busy = false; // the next video drawn tries again
      return;
    }
    s.dirty = false;
    s.lastCapture = this.now();
    const captureMm = this.host.mmTime();
    const rgb = captureRgb(surface, s.rect);
    const started = performance.now();
    const encodes = [...qualities].map((q) => encodeJpeg(rgb, s.width, s.height, q).then((j) => [q, j] as const));
    Promise.all(encodes).then(
      (frames) => {
        s.encodeMs = average(s.encodeMs, performance.now() - started);
        for (const [q, jpeg] of frames) s.sizes.set(q, average(s.sizes.get(q), jpeg.length));
        this.encoded(s, new Map(frames), captureMm);
      },
      (err: unknown) => {
        this.stats.failures++;
        this.host.log.warn(`stream ${s.id}: JPEG encoding failed (${errorMessage(err)}); sending images instead`);
        s.busy = false;
        this.end(s, true);
      },
    );
  }

  private encoded(s: StreamState, frame: EncodedFrame, captureMm: number): void {
    s.busy = false;
    if (s.ended) return;
    s.frames++;
    this.stats.frames++;
    for (const v of this.host.viewers()) v.frame(s, frame, captureMm);
    if (s.dirty) this.markDirty(s);
  }

  /** Stop everything (server shutdown). */
  close(): void {
    for (const s of [...this.streams.values()]) this.end(s, false);
  }
}

function sameClip(a: Rect[] | undefined, b: Rect[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((r, i) => rectsEqual(r, b[i]!));
}
