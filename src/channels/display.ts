import { Channel } from '../channel-core/channel.js';
import { SendRounds } from '../channel-core/send-rounds.js';
import { LinkSampler, type LinkSampled } from '../channel-core/link-sampler.js';
import { SharedFlushes } from '../channel-core/shared-flush.js';
import { ChannelClient, type ChannelClientOptions, type ChannelConnection } from '../channel-core/channel-client.js';
import { messageItem, type PipeItem } from '../channel-core/pipe.js';
import type { Session } from '../channel-core/session.js';
import { unknownMessage } from '../protocol/common.js';
import { ChannelType, DisplayCap, ImageCompressionPref } from '../protocol/constants.js';
import { decodeDisplayClientMessage, encodeMark } from '../protocol/display.js';
import { rectContains, type Rect } from '../protocol/geometry.js';
import { TileDamage } from '../display/damage.js';
import type { Desktop, DesktopListener, PrimaryUpdate } from '../display/desktop.js';
import type { Surface } from '../display/surface.js';
import { lz4Pays, type ImageCompression } from '../display/image-choice.js';
import type { ImageQuality } from '../display/wire-image.js';
import type { Logger } from '../util/log.js';
import type { Timer } from '../util/clock.js';
import {
  copyItem,
  fillItem,
  isDrawItem,
  lossyCopyItem,
  monitorsConfigItem,
  snapshotImage,
  surfaceCreateItem,
  surfaceDestroyItem,
  type DrawItem,
  type SharedImage,
  type ViewerImaging,
} from './display-items.js';
import { LossyAreas } from './lossy-areas.js';
import { ExactRefresh } from './exact-refresh.js';
import { SharedSnapshots } from './shared-snapshots.js';
import { ViewerImageCache } from './image-cache.js';
import { KeyFrame, type LoggedDraw } from './key-frame.js';
import { ViewerPaceTracker } from './viewer-pace.js';
import { SharedDrawLog } from './draw-log.js';
import { monotonicMs } from '../util/mm-time.js';
import { DEFAULT_VIDEO_OPTIONS, VideoStreams, type VideoOptions } from '../video/streams.js';
import { ViewerVideo } from '../video/viewer-video.js';
import { channelStreamHost, loggedDraw, takesStreams, viewerVideoHost } from './display-video.js';

/** A flush of this many bytes is written before more items are marshalled (flushSplitBytes). */
const FLUSH_SPLIT_BYTES = 64 * 1024;

export interface DisplayOptions {
  compression: ImageCompression;
  /** Raw pixel bytes a viewer may have queued before its updates turn into damage. */
  maxQueuedBytes: number;
  /**
   * Draws a viewer may have queued before they turn into damage, whatever their pixels: fills and
   * copy-bits weigh next to nothing, so without a count a lagging viewer could hold half a million
   * small items (some 100 MB of heap) before reaching `maxQueuedBytes`.
   */
  maxQueuedDraws: number;
  /** How long to wait for DISPLAY_INIT before sending the screen anyway. */
  initTimeoutMs: number;
  ackWindow: number;
  /** Send repeated images from the viewer's cache (FROM_CACHE) instead of their pixels. */
  imageCache: boolean;
  /** Photo-like images as JPEG: to viewers on thin links (auto), to all (lossy), or never (lossless). */
  imageQuality: ImageQuality;
  /** A lossy area nothing lossy was drawn into for this long is sent again losslessly. */
  lossyQuietMs: number;
  /** Video areas as MJPEG streams (src/video/). */
  video: VideoOptions;
  /** The multimedia clock viewers were given in MAIN_INIT; stream frames are stamped on it. */
  mmTime: () => number;
}

export const DEFAULT_DISPLAY_OPTIONS: DisplayOptions = {
  compression: 'auto',
  maxQueuedBytes: 32 << 20,
  maxQueuedDraws: 8192,
  initTimeoutMs: 1000,
  ackWindow: 20,
  imageCache: true,
  imageQuality: 'auto',
  lossyQuietMs: 500,
  video: DEFAULT_VIDEO_OPTIONS,
  mmTime: monotonicMs,
};

/**
 * Up to this many viewers an image enters their caches the first time it is sent; with more, from
 * the second time its content is seen (display-items.ts, Sightings): the per-viewer cache work on
 * images that never come back then grows with the viewers, the bytes it could save do not.
 */
const CACHE_ON_FIRST_SIGHT_VIEWERS = 4;
/**
 * With more viewers than this, caught-up viewers take their draws from the channel's shared log
 * (draw-log.ts) instead of each having every draw queued in its pipe; with fewer the gain is
 * nothing, and a lone viewer's sending stays exactly as it was.
 */
const SHARED_LOG_MIN_VIEWERS = 5;
/** `auto` sends images lossy to a viewer whose link is measured under this many bytes a second (20 Mbit/s). */
const LOSSY_BELOW_BANDWIDTH = 20e6 / 8;
/** JPEG quality of lossy images (spice-server's default is 85; these are refreshed losslessly later). */
const LOSSY_QUALITY = 80;
/**
 * Draws are handed to the kernel only while what waits there drains within this long by the link
 * estimate: the rest wait in the pipe, where a newer draw still replaces the ones it covers and a
 * typed glyph overtakes stream frames. The kernel's buffer takes megabytes at once: at 2 Mbit/s a
 * viewer's first seconds (the whole screen, then the video as lossless images before its stream
 * began) queued 1.4 MB there, 6 s that every later draw waited behind.
 */
const LINK_QUEUE_MS = 40;
/**
 * The kernel may always hold this much, whatever the estimate: about TCP's initial window (10
 * segments). Bounded below it, a link never looks full, so its estimate (which rises only while
 * bytes wait) cannot recover from a low reading: 500 viewers of one desktop, measured slow while
 * they joined on a busy machine, then got no change within seconds (bench/viewers.ts). At 2 Mbit/s
 * it is 64 ms of queue, inside the typing budget.
 */
const LINK_QUEUE_FLOOR_BYTES = 16 * 1024;
/**
 * A drained pipe whose link was never seen full (loopback, a LAN) has it read (LinkSampler) when the
 * guess says bytes may still wait, and otherwise once this long after the last reading. Each viewer
 * flushed about 20 times a second with 500 viewers, and a reading after each was 10,000 system calls
 * a second that found nothing waiting. A link seen full (a thin one) is read after every drain, as
 * before: its capacity samples need readings on both sides of each busy period.
 */
const RESAMPLE_MS = 200;
/** While the link holds draws back, look again after at least (and at most) this long. */
const LINK_RETRY_MIN_MS = 2;
const LINK_RETRY_MAX_MS = 40;

/** When to look again while `over` bytes more than the link queue allows wait: when they will have left. */
function retryMs(over: number, bandwidth: number): number {
  return Math.min(LINK_RETRY_MAX_MS, Math.max(LINK_RETRY_MIN_MS, (over * 1000) / bandwidth));
}
/**
 * A guess at the bytes a pixel of an owed area's band takes (QUIC of a photo; bench video's grainy
 * 640x360 frame took 1.7): a band goes when the link has room for this much. Text and UI take far
 * less, so their bands go a little early, never late.
 */
const BAND_BYTES_PER_PIXEL = 2;
/** How often lossy areas are looked at for a lossless refresh. */
const LOSSY_CHECK_MS = 100;

/** SpiceImageCompression values a client may prefer (PREFERRED_COMPRESSION); GLZ is not offered. */
const PREFERRED: Record<number, ImageCompression | undefined> = {
  [ImageCompressionPref.Off]: 'off',
  [ImageCompressionPref.AutoGlz]: 'auto',
  [ImageCompressionPref.AutoLz]: 'auto',
  [ImageCompressionPref.Quic]: 'quic',
  [ImageCompressionPref.Lz]: 'lz',
  [ImageCompressionPref.Lz4]: 'lz4',
};

/**
 * The display channel: every change to the primary surface becomes draw messages for every
 * viewer. Images are encoded once and shared. A viewer that falls behind stops receiving
 * commands: its queued draws collapse into tile damage, re-sent as fresh images when it catches up.
 */
export class DisplayChannel extends Channel<DisplayChannelClient> implements DesktopListener {
  readonly type = ChannelType.Display;
  /** Every viewer gets the same messages: flushes that match go out as one shared buffer. */
  override readonly sharedFlushes = new SharedFlushes();
  /** Its viewers are pushed together, in rounds spaced by how many there are. */
  override readonly sendRounds = new SendRounds(() => this.clients.size, this.clientOptions.writesPerSecond);
  /** Called whenever a viewer's display becomes ready (DISPLAY_INIT received). */
  onViewerReady: (() => void) | undefined;
  /** Whether viewers keep up, for sources that pace their frames (desktop.pace). */
  readonly pace = new ViewerPaceTracker(() => this.clients);
  /** The current screen for joiners: a key frame encoded once for all of them, and the draws since. */
  readonly screen = new KeyFrame();
  /** Video streams, the same for every viewer that takes them. */
  readonly video: VideoStreams;
  /** Snapshots of the current screen (damage, lossless refreshes), shared by viewers asking for the same area. */
  readonly snapshots = new SharedSnapshots();
  /** Reads the kernel's counters for the link estimates of viewers whose bytes wait: one timer, a budget of reads. */
  readonly linkSampler = new LinkSampler();
  /**
   * Draws for the caught-up viewers, kept once with a cursor each (they take them at their send
   * round): one log for viewers that take video streams (they get the draws `VideoStreams.route`
   * leaves them while a stream plays) and one for those that take images only.
   */
  readonly drawLogs = {
    streams: new SharedDrawLog<DisplayChannelClient>(this.sendRounds),
    images: new SharedDrawLog<DisplayChannelClient>(this.sendRounds),
  };

  constructor(
    log: Logger,
    clientOptions: ChannelClientOptions,
    readonly desktop: Desktop,
    readonly options: DisplayOptions = DEFAULT_DISPLAY_OPTIONS,
  ) {
    super(log, clientOptions);
    desktop.addListener(this);
    desktop.pace = this.pace;
    const host = channelStreamHost(
      () => this.clients,
      () => this.desktop.primary,
      options.mmTime,
      log.child('video'),
    );
    this.video = new VideoStreams(host, options.video);
    this.video.reset(desktop.primary?.width, desktop.primary?.height);
  }

  caps(): number[] {
    return [DisplayCap.MonitorsConfig, DisplayCap.PrefCompression];
  }

  protected createClient(conn: ChannelConnection, _session: Session): DisplayChannelClient {
    const client = new DisplayChannelClient(conn, this.clientOptions, this);
    // A viewer that leaves no longer holds the source back.
    client.onClose(() => queueMicrotask(() => this.pace.progress()));
    return client;
  }

  onPrimaryUpdate(update: PrimaryUpdate): void {
    if (update.kind === 'primaryCreated' || update.kind === 'primaryDestroyed') {
      this.screen.reset();
      this.snapshots.clear();
      // Streams end (viewers told) before the surface they play on goes.
      const created = update.kind === 'primaryCreated' ? update.surface : undefined;
      this.video.reset(created?.width, created?.height);
      for (const c of this.clients) c.surfaceChanged(update);
      return;
    }
    // Before anything else can take a snapshot: the surface already holds the new pixels.
    this.snapshots.onDraw(update.rect);
    // What viewers that take streams get instead: nothing inside a stream, the rest of a video copy.
    const routed = this.videoMatters() ? this.video.route(update)?.map(loggedDraw) : undefined;
    // One SharedImage per copy and one item per fill or copy-bits, shared by all viewers (and those who join later).
    const draw = loggedDraw(update);
    this.screen.record(draw);
    const logs = this.drawLogs;
    // A follower of the streams log that was sent back to images takes its draws and leaves, before
    // it would be given routed draws (they differ only while a stream plays).
    if (routed) for (const c of logs.streams.members()) if (!takesStreams(c)) c.leaveLog();
    for (const c of this.clients) {
      if (c.followsLog || c.followLog()) continue;
      if (routed && takesStreams(c)) for (const d of routed) c.draw(d);
      else c.draw(draw);
    }
    logs.images.append(draw);
    for (const d of routed ?? [draw]) logs.streams.append(d);
  }

  /**
   * The ACK window for a viewer joining now: twice the configured one (40 by default, spice-server's
   * window for its low-bandwidth clients) when the channel's writes are spaced into rounds (about
   * 20 viewers or more, send-rounds.ts), else the configured one. Each ACK costs the server a read,
   * and with 500 viewers the ACKs were an eighth of its profile; a round's flush then holds several
   * frames' draws, so the wider window still sees an ACK every few rounds. A viewer keeps its window.
   */
  ackWindowForJoiner(): number {
    const window = this.options.ackWindow;
    return this.sendRounds.spacingMs > 0 ? 2 * window : window;
  }

  /** Whether a viewer that caught up may follow the shared draw log. */
  get sharesDrawLog(): boolean {
    return this.clients.size >= SHARED_LOG_MIN_VIEWERS;
  }

  /**
   * The current pixels of `rect`, to send to a viewer: with several viewers the snapshot another
   * one took of the same unchanged area (SharedSnapshots), so it is cropped and encoded once; a
   * lone viewer takes its own, as it always did.
   */
  snapshot(s: Surface, rect: Rect): SharedImage {
    return this.clients.size > 1 ? this.snapshots.take(s, rect) : snapshotImage(s, rect);
  }

  /**
   * Whether video detection has anyone to serve: a viewer that takes streams, or a stream still
   * playing. Detection judges every copy by a codec estimate of its pixels, the largest per-draw
   * cost after the encoders on a busy terminal, so it rests while every viewer takes images only
   * (spiced's own client, viewers without MJPEG); one that takes streams has video found from
   * when it joins.
   */
  private videoMatters(): boolean {
    for (const c of this.clients) if (takesStreams(c)) return true;
    return this.video.active.length > 0;
  }
}

export class DisplayChannelClient extends ChannelClient implements LinkSampled {
  private ready = false;
  private initTimer: NodeJS.Timeout | undefined;
  private compression: ImageCompression;
  private imageCache: ViewerImageCache | undefined;
  private damage: TileDamage | undefined;
  private hasSurface = false;
  /** Draw commands turned into damage because this viewer lagged (reported in stats). */
  damagedCommands = 0;
  /** Queued draws dropped unsent because a later fill or copy covered them. */
  coveredDraws = 0;
  /** Draws given to this viewer, and those of them it took from the shared draw log (stats). */
  draws = 0;
  drawsFromLog = 0;
  /** This viewer's side of the video streams. */
  readonly video: ViewerVideo;
  /** Where this viewer shows JPEG pixels, refreshed losslessly once quiet. */
  readonly lossy = new LossyAreas();
  /** Looks for lossy areas that stayed quiet (on the client clock, which tests move). */
  private lossyTimer: Timer | undefined;
  /** Areas owed losslessly (a stream ended), sent in bands as the link has room. */
  private readonly owed = new ExactRefresh();
  /** Looks again for room for the next owed band. */
  private bandTimer: NodeJS.Timeout | undefined;
  /** The channel's shared draw log this viewer follows, if it does (its draws wait there). */
  private drawLog: SharedDrawLog<DisplayChannelClient> | undefined;

  constructor(
    conn: ChannelConnection,
    options: ChannelClientOptions,
    private readonly channel: DisplayChannel,
  ) {
    super(conn, options);
    this.compression = channel.options.compression;
    const host = viewerVideoHost({
      push: (item) => this.push(item),
      pushBackground: (item) => this.pushBackground(item),
      extract: (pred) => {
        this.leaveLog();
        return this.pipe.extract(pred).length;
      },
      hasChannelCap: (cap) => this.hasChannelCap(cap),
      lagging: () => this.damage !== undefined,
      drainMs: () => this.linkEstimate.drainMs(this.waitingBytes()),
      bandwidth: () => this.linkEstimate.bandwidth,
      refreshExact: (rect) => this.refreshExact(rect),
      forgetExact: (rect) => this.owed.covered(rect),
      peer: this.stream.peer,
      log: this.log,
    });
    this.video = new ViewerVideo(host, channel.options.video.enabled, channel.options.video.quality);
    this.onClose(() => {
      this.video.close();
      this.lossyTimer?.cancel();
      channel.linkSampler.forget(this);
      this.drawLog?.forget(this);
      clearTimeout(this.bandTimer);
    });
  }

  /** Not the generic item count: queued draws are bounded by pixels and count, past which they become damage. */
  protected override get queueLimit(): number {
    return Number.POSITIVE_INFINITY;
  }

  /**
   * A flush leaves once it holds this much: after each band of a large image (bandsOf), so the
   * viewer has a band while the next is encoded. Small draws seldom add up to it.
   */
  protected override get flushSplitBytes(): number {
    return FLUSH_SPLIT_BYTES;
  }

  /** True once the viewer has sent DISPLAY_INIT (or the wait for it timed out). */
  get isReady(): boolean {
    return this.ready;
  }

  /**
   * Nothing is owed to this viewer: besides the pipe and the stream, no damage collapsed from a
   * lagging queue, no lossy area waiting for its lossless refresh and no band of an exact refresh
   * (a measurement or a test that took an empty pipe for done read a frame still short of those).
   */
  override get idle(): boolean {
    return (
      super.idle &&
      this.damage === undefined &&
      this.lossy.size === 0 &&
      !this.owed.pending &&
      !this.drawLog?.pending(this)
    );
  }

  /** Nothing waits in the pipe or the shared log; a viewer not yet ready or lagging (damage) is served at its own pace. */
  get keepsUp(): boolean {
    if (!this.ready || this.isClosed || this.damage !== undefined) return true;
    return this.pipe.length === 0 && !this.drawLog?.pending(this);
  }

  /**
   * Queued for this viewer: a follower of the shared draw log first takes the draws waiting there
   * (into its pipe, in order), so that what is queued now goes after them.
   */
  override push(item: PipeItem): void {
    this.catchUp();
    super.push(item);
  }

  override pushBackground(item: PipeItem): void {
    this.catchUp();
    super.pushBackground(item);
  }

  /** Its send round: the draws waiting in the shared log join the pipe first. */
  override runRound(): void {
    this.catchUp();
    super.runRound();
  }

  /**
   * Stop following the shared draw log: its draws this viewer has not taken go into its pipe,
   * through the same per-viewer path as a draw queued directly (lossy choice, owed bands, damage
   * past the queue bounds), but without scheduling a push (the caller pushes or schedules one) and
   * without looking for covered draws (the log dropped them, and the pipe was empty).
   */
  private catchUp(): boolean {
    const log = this.drawLog;
    if (!log) return false;
    this.drawLog = undefined;
    this.coveredDraws += log.take(this, (d) => this.draw(d, true));
    return true;
  }

  /** Whether this viewer follows one of the channel's shared draw logs. */
  get followsLog(): boolean {
    return this.drawLog !== undefined;
  }

  /** Stop following the shared draw log (the draws it has not taken join its pipe) and push soon. */
  leaveLog(): void {
    if (this.catchUp()) this.schedulePush();
  }

  /**
   * Follow the shared draw log if this viewer may: its pipe is empty and it is in the plain state
   * (ready, no damage, no streams). Asked when its pipe drains and, for a viewer whose pipe stayed
   * empty since (it drained before there were enough viewers), at the next draw.
   */
  followLog(): boolean {
    if (this.pipe.length > 0 || this.damage || !this.ready || this.isClosed) return false;
    if (this.drawLog || !this.channel.sharesDrawLog) return false;
    const logs = this.channel.drawLogs;
    this.drawLog = takesStreams(this) ? logs.streams : logs.images;
    this.drawLog.follow(this);
    return true;
  }

  private get surface(): Surface | undefined {
    return this.channel.desktop.primary;
  }

  /** How this viewer wants images, asked by items when they leave. */
  private readonly imaging: ViewerImaging = {
    compression: () => this.currentCompression(),
    cache: () => this.imageCache,
    cacheOnFirstSight: () => this.channel.clients.size <= CACHE_ON_FIRST_SIGHT_VIEWERS,
  };

  /** The viewer's mode, LZ4 only while its link is fast enough for the bigger photos (lz4Pays). */
  private currentCompression(): ImageCompression {
    if (this.compression !== 'lz4') return this.compression;
    this.waitingBytes(); // reads the kernel's counters into the estimate: its round trip, a full link
    return lz4Pays(this.linkEstimate.figures()) ? 'lz4' : 'auto';
  }

  /** Cache statistics (hits = images sent as FROM_CACHE). */
  get cacheStats(): { hits: number; misses: number; entries: number } | undefined {
    const c = this.imageCache;
    return c ? { hits: c.hits, misses: c.misses, entries: c.size } : undefined;
  }

  start(): void {
    this.startAckWindow(this.channel.ackWindowForJoiner());
    // spice-server waits for DISPLAY_INIT before the first surface; so do we, briefly.
    this.initTimer = setTimeout(() => this.becomeReady(), this.channel.options.initTimeoutMs);
    this.initTimer.unref();
  }

  protected handleMessage(type: number, body: Buffer): void {
    const m = decodeDisplayClientMessage(type, body);
    if (!m) throw unknownMessage('display', type, body.length);
    switch (m.kind) {
      case 'init':
        // The viewer tells how many pixels its image cache holds; spiced fills it (never beyond).
        if (this.channel.options.imageCache && m.pixmapCacheSize > 0n) {
          this.imageCache = new ViewerImageCache(Number(m.pixmapCacheSize > 1n << 40n ? 1n << 40n : m.pixmapCacheSize));
        }
        this.becomeReady();
        return;
      case 'preferredCompression': {
        let c = PREFERRED[m.compression];
        // LZ4 only to a viewer that said it decodes it (spice-gtk built without liblz4 does not).
        if (c === 'lz4' && !this.hasChannelCap(DisplayCap.Lz4Compression)) c = undefined;
        this.log.debug(
          `viewer prefers image compression ${m.compression}${c ? ` (using ${c})` : ' (not offered; keeping ' + this.compression + ')'}`,
        );
        if (c) this.compression = c;
        return;
      }
      case 'streamReport':
        this.linkEstimate.streamReport(m.lastFrameDelay, m.numDrops);
        this.video.report(m, this.channel.video.active);
        return;
      case 'glDrawDone':
      case 'preferredVideoCodecType':
        return;
    }
  }

  private becomeReady(): void {
    if (this.ready || this.isClosed) return;
    this.ready = true;
    if (this.initTimer) clearTimeout(this.initTimer);
    // The screen as it is first, then the news: a source that starts on this call (--wait-for-viewer)
    // draws synchronously, and its primaryCreated already sends the whole surface to this viewer;
    // sending it again afterwards would encode and ship a second full screen.
    const s = this.surface;
    if (s) this.sendWholeSurface(s);
    this.channel.onViewerReady?.();
  }

  /** SURFACE_CREATE, the whole screen (the shared key frame and the draws since), MONITORS_CONFIG, MARK. */
  private sendWholeSurface(s: Surface): void {
    if (this.hasSurface) this.push(surfaceDestroyItem());
    this.push(surfaceCreateItem(s));
    this.hasSurface = true;
    // A surface nothing has drawn on yet is all zeros: a fill says so without copying or scanning it.
    if (s.blank) {
      this.push(fillItem(s.bounds, 0));
    } else {
      const frame = this.channel.screen.take(s);
      this.push(this.imageItem(frame.image));
      for (const d of frame.draws) this.draw(d);
    }
    if (this.hasChannelCap(DisplayCap.MonitorsConfig)) this.push(monitorsConfigItem(s));
    this.push(messageItem(encodeMark()));
  }

  /** The primary surface was created (the whole of it goes out) or destroyed. */
  surfaceChanged(u: Extract<PrimaryUpdate, { kind: 'primaryCreated' | 'primaryDestroyed' }>): void {
    if (!this.ready || this.isClosed) return;
    this.damage = undefined;
    this.owed.takeAll(); // the whole screen goes, or none is left
    if (u.kind === 'primaryCreated') {
      this.sendWholeSurface(u.surface);
      return;
    }
    if (this.hasSurface) this.push(surfaceDestroyItem());
    this.hasSurface = false;
  }

  /**
   * A draw on the primary surface: queued, or only noted as damage while this viewer lags.
   * `fromLog`: taken from the shared draw log (catchUp).
   */
  draw(d: LoggedDraw, fromLog = false): void {
    if (!this.ready || this.isClosed) return;
    this.draws++;
    if (fromLog) this.drawsFromLog++;
    if (this.damage) {
      this.damage.add(d.rect);
      this.damagedCommands++;
      return;
    }
    this.queueDraw(d, fromLog);
  }

  private queueDraw(d: LoggedDraw, fromLog: boolean): void {
    if (d.kind === 'copyBits') {
      this.lossy.copied(d.rect, d.src, this.options.clock.now());
      this.owed.copied(d.rect, d.src);
      this.queueItem(d.item, fromLog);
    } else {
      if (!fromLog) this.dropCovered(d.rect);
      this.owed.covered(d.rect);
      if (d.kind === 'fill') this.lossy.covered(d.rect);
      if (d.kind === 'fill') this.queueItem(d.item, fromLog);
      else for (const band of this.bandsOf(d.shared)) this.queueItem(this.imageItem(band), fromLog);
    }
    const { maxQueuedBytes, maxQueuedDraws } = this.channel.options;
    if (this.pipe.weight > maxQueuedBytes || this.pipe.length > maxQueuedDraws) this.collapseIntoDamage();
  }

  /** Into the pipe: straight in for a draw taken from the shared log (catchUp), else pushed (a push scheduled). */
  private queueItem(item: PipeItem, fromLog: boolean): void {
    if (fromLog) this.pipe.push(item);
    else this.push(item);
  }

  /**
   * A fill or copy about to be queued hides every queued fill or copy inside its rectangle: those
   * go unsent (and unencoded), as spice-server drops covered drawables. Only back to the first
   * copy-bits (it reads what is under it) or non-draw item, and 64 items at most.
   */
  private dropCovered(rect: Rect): void {
    if (this.pipe.length === 0) return;
    this.coveredDraws += this.pipe.dropFromTail(
      (it) => (!isDrawItem(it) || it.kind === 'copyBits' ? 'stop' : rectContains(rect, it.rect) ? 'drop' : 'keep'),
      64,
    );
  }

  /** The viewer lags: queued draws become tile damage (memory stays bounded whatever it does). */
  private collapseIntoDamage(): void {
    const s = this.surface;
    if (!s) return;
    this.damage = new TileDamage(s.width, s.height);
    const dropped = this.pipe.extract(isDrawItem);
    for (const item of dropped) this.damage.add(item.rect);
    for (const r of this.owed.takeAll()) this.damage.add(r);
    this.damagedCommands += dropped.length;
    this.log.debug(`viewer ${this.stream.peer} lags: ${dropped.length} queued draws collapsed into damage`);
  }

  /** When the pipe has drained, damage goes out as fresh images of the current surface; else the next owed band. */
  protected override onPipeDrained(): void {
    this.channel.pace.progress();
    if (this.linkEstimate.measured || this.worthReading(RESAMPLE_MS)) this.channel.linkSampler.watch(this);
    if (this.damage) this.sendDamage();
    else this.sendOwedBand();
    this.followLog();
  }

  private sendDamage(): void {
    if (!this.damage || this.pipe.length > 0 || this.stream.congested) return;
    const s = this.surface;
    const rects = this.damage.take();
    this.damage = undefined;
    if (!s) return;
    for (const r of rects) this.push(this.imageItem(this.channel.snapshot(s, r)));
  }

  /**
   * `rect` must reach this viewer losslessly as it is now (a stream ended there, or this viewer was
   * sent back to images): in bands, each captured when it goes, as the link has room, so what is
   * drawn meanwhile (a typed glyph) waits for one band at most, not for the whole area.
   */
  refreshExact(rect: Rect): void {
    if (!this.ready || this.isClosed) return;
    if (this.damage) {
      this.damage.add(rect);
      return;
    }
    // The bands make it exact: the lossy areas' own refresh would send it again, whole.
    this.lossy.covered(rect);
    this.owed.add(rect);
    this.sendOwedBand();
  }

  /**
   * The next owed band, captured now, once nothing but stream frames waits in the pipe (a glyph
   * drawn meanwhile goes first; the next drain comes back here) and what waits for the link leaves
   * room for it. Captured as it goes, it holds the surface's current pixels and every draw after it
   * is queued behind it; copy-bits sent before it that read an area still owed were noted (owed.copied).
   */
  private sendOwedBand(): void {
    if (!this.owed.pending || this.bandTimer || this.isClosed || this.pipe.foregroundLength > 0) return;
    if (this.drawLog?.pending(this)) return; // its draws first, as if they were in the pipe
    const s = this.surface;
    if (!s) {
      this.owed.takeAll();
      return;
    }
    const { queue, waiting, bandwidth } = this.linkQueue(true);
    const pixels = queue / 2 / BAND_BYTES_PER_PIXEL;
    const band = this.owed.peek(pixels)!;
    const over = waiting + (band.right - band.left) * (band.bottom - band.top) * BAND_BYTES_PER_PIXEL - queue;
    if (waiting > 0 && over > 0) {
      const ms = retryMs(over, bandwidth);
      this.bandTimer = setTimeout(() => {
        this.bandTimer = undefined;
        this.sendOwedBand();
      }, ms);
      this.bandTimer.unref();
      return;
    }
    this.owed.take(pixels);
    this.push(this.imageItem(this.channel.snapshot(s, band), true));
  }

  /**
   * The JPEG quality images go at to this viewer now, or undefined for lossless: `lossy` always,
   * `auto` once its link was measured under LOSSY_BELOW_BANDWIDTH.
   */
  lossyQuality(): number | undefined {
    const mode = this.channel.options.imageQuality;
    if (mode === 'lossy') return LOSSY_QUALITY;
    if (mode === 'lossless') return undefined;
    const link = this.linkEstimate;
    return link.measured && link.bandwidth < LOSSY_BELOW_BANDWIDTH ? LOSSY_QUALITY : undefined;
  }

  /**
   * A copy as this viewer takes it: in bands (SharedImage.bands) when it asked for LZ4, which says a
   * viewer that decodes in JavaScript (spiced's web viewer): its worker decodes and its canvas shows
   * a large image band by band while the rest is still being encoded and sent, instead of all at
   * once after the whole of it (docs/performance.md, "Full-screen photos: where the time goes").
   * Whole for the others, as spice-server sends it.
   */
  private bandsOf(shared: SharedImage): SharedImage[] {
    return this.compression === 'lz4' ? shared.bands() : [shared];
  }

  /** A copy of `shared` for this viewer: JPEG when it takes lossy images, the image is photo-like and not `exact`. */
  private imageItem(shared: SharedImage, exact = false): DrawItem {
    const quality = exact ? undefined : this.lossyQuality();
    if (quality === undefined || !shared.isPhotoLike()) {
      this.lossy.covered(shared.rect);
      return copyItem(shared, this.imaging);
    }
    this.lossy.add(shared.rect, this.options.clock.now());
    this.lossyTimer ??= this.options.clock.interval(() => this.refreshQuietLossy(), LOSSY_CHECK_MS);
    return lossyCopyItem(shared, quality, this.imaging);
  }

  /** Lossy areas that stayed quiet go again, losslessly, once this viewer's pipe is empty. */
  private refreshQuietLossy(): void {
    const s = this.surface;
    if (this.pipe.length > 0 || this.damage || this.drawLog?.pending(this)) return;
    if (this.owed.pending) return; // the owed bands first: an area of them would go whole
    const due = s ? this.lossy.takeQuiet(this.options.clock.now(), this.channel.options.lossyQuietMs) : [];
    const rects = this.outsideStreams(due);
    for (const r of rects) this.push(copyItem(this.channel.snapshot(s!, r), this.imaging));
    if (this.lossy.size === 0) {
      this.lossyTimer?.cancel();
      this.lossyTimer = undefined;
    }
  }

  /**
   * The lossy areas not under a stream this viewer takes. One under a stream (the copy that started
   * it, drawn as JPEG) is the stream's to replace: its end sends the area losslessly to every viewer
   * taking streams. Refreshed while the stream played, it was 470 kB of lossless photo beneath the
   * video (2 s of a 2 Mbit/s link) that frames and typed glyphs waited behind.
   */
  private outsideStreams(areas: Rect[]): Rect[] {
    if (areas.length === 0 || !takesStreams(this)) return areas;
    const streams = this.channel.video.active;
    return areas.filter((a) => !streams.some((s) => rectContains(s.rect, a)));
  }

  /**
   * Bytes this push may hand on: what LINK_QUEUE_MS of the link carries, less what waits already
   * (guessed without a syscall when that says there is room, read from the kernel otherwise).
   */
  protected override sendAllowance(): { bytes: number; retryMs: number } {
    const { queue, waiting, bandwidth } = this.linkQueue(false);
    return { bytes: queue - waiting, retryMs: retryMs(waiting - queue, bandwidth) };
  }

  /**
   * Feed the link estimate the kernel's counters now (the channel's LinkSampler calls this while
   * bytes wait to leave); true while some still wait.
   */
  sampleLink(): boolean {
    return !this.isClosed && this.waitingBytes() > 0;
  }

  /**
   * The bytes that may wait for the link (LINK_QUEUE_MS of it, at least LINK_QUEUE_FLOOR_BYTES) and
   * those waiting: guessed without a syscall, read from the kernel when the guess says the queue is
   * full (or, `exact`, when it says anything waits at all).
   */
  private linkQueue(exact: boolean): { queue: number; waiting: number; bandwidth: number } {
    const bandwidth = this.linkEstimate.bandwidth;
    const queue = Math.max((bandwidth * LINK_QUEUE_MS) / 1000, LINK_QUEUE_FLOOR_BYTES);
    let waiting = this.guessWaitingBytes();
    if (waiting > (exact ? 0 : queue)) waiting = this.waitingBytes();
    return { queue, waiting, bandwidth };
  }
}
