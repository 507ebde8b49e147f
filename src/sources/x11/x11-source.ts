import type { DisplaySink, DisplaySource, InputEvent } from '../../seam/index.js';
import { openCapture, type Capture } from './capture.js';
import { XConnection, type ExtensionInfo, type XEvent } from './connection.js';
import { getGeometry, getKeyboardMapping, type PointerState } from './core.js';
import { CursorTracker } from './cursor.js';
import { DamageWatcher } from './damage-watcher.js';
import { BAD_MATCH, XConnectionLost, XError } from './errors.js';
import { RR_SCREEN_CHANGE_NOTIFY, decodeScreenChangeNotify, randrQueryVersion, randrSelectInput } from './ext-randr.js';
import { xfixesQueryVersion } from './ext-xfixes.js';
import { xtestGetVersion } from './ext-xtest.js';
import { RandrResizer, type ResizeLimits } from './randr-resize.js';
import { X11Clipboard } from './x11-clipboard.js';
import { FrameScheduler, type FramePacing } from './frame-scheduler.js';
import { InputInjector, findLockKeys, locksFromMask, type LockKeys } from './input.js';
import { KeyMapper } from './keymap.js';
import { rootPixelLayout, type PixelLayout } from './pixel-format.js';
import { TileHasher, pollTiles } from './tile-poller.js';
import { ScreenUpdater, type UpdateStats } from './updater.js';

/*
 * A real X display as a spiced display source (what x11spice does in C): the root window becomes
 * primary surface 0. DAMAGE (or, without it, tile-hash polling) says where to look; changed pixels
 * go out as copy/copyBits commands at most once per frame; XFIXES supplies the cursor; XTEST
 * injects the viewers' input; RandR size changes recreate the surface.
 */

/** 60 frames a second at most: what displays refresh at. */
const DEFAULT_FRAME_INTERVAL_MS = 1000 / 60;
/**
 * Frames that may follow each other without waiting an interval (the desktop's bursts: see
 * frame-scheduler.ts); three cover an erase-then-draw and a frame-then-contents without letting a
 * busy screen exceed the average rate for long.
 */
const FRAME_BURST = 3;
/** When viewers lag, still at least 10 frames a second (a lagging viewer's queue turns into damage). */
const DEFAULT_MAX_PACE_WAIT_MS = 100;

export type X11LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface X11SourceOptions {
  /** An X DISPLAY string: ":1", "unix:1.0", "host:0". */
  display: string;
  /** Polling interval when the server has no DAMAGE (default 100 ms). */
  pollFallbackMs?: number;
  /** Called once when the X connection drops without stop(). */
  onLost?: (err: Error) => void;
  log?: (level: X11LogLevel, msg: string) => void;
  /** Xauthority file (default $XAUTHORITY, else ~/.Xauthority). */
  xauthority?: string;
  /** Average time between frames (default 1000/60 ms: at most 60 frames a second). */
  frameIntervalMs?: number;
  /** Frames that may run back to back after a quiet moment before the interval applies (default 3). */
  frameBurst?: number;
  /**
   * Wait for viewers to send on the previous frame before capturing the next (default true; the
   * sink must offer `pace`), but never longer than `maxPaceWaitMs` (default 100).
   */
  paceByViewers?: boolean;
  maxPaceWaitMs?: number;
  /** Pointer position poll interval (default 33 ms). */
  cursorPollMs?: number;
  /** Set false to capture with GetImage even where MIT-SHM works. */
  useShm?: boolean;
  /** Set false to poll tiles even where DAMAGE exists. */
  useDamage?: boolean;
  /** Emit copyBits for vertical scrolls (default true). */
  detectScroll?: boolean;
  /** At most this many rects fetched per frame (default 16). */
  maxRectsPerFrame?: number;
  /**
   * Bridge CLIPBOARD and PRIMARY for the agent (default on); false leaves the selections alone.
   * An X11Clipboard instance is used as it is (a source that reconnects keeps one for its life).
   */
  clipboard?: boolean | X11Clipboard;
  /**
   * Let viewers resize the X screen with RandR (default off: the display may be someone else's).
   * Limits bound what a viewer may ask for.
   */
  resize?: boolean | ResizeLimits;
}

interface Running {
  readonly conn: XConnection;
  readonly sink: DisplaySink;
  readonly root: number;
  readonly layout: PixelLayout;
  readonly capture: Capture;
  updater: ScreenUpdater;
  hasher: TileHasher | null;
  watcher: DamageWatcher | null;
  scheduler: FrameScheduler;
  pollTimer: NodeJS.Timeout | null;
  cursor: CursorTracker | null;
  injector: InputInjector | null;
  locks: LockKeys | null;
  resizePending: boolean;
}

export class X11Source implements DisplaySource {
  readonly name: string;
  private run: Running | null = null;
  /** The run being set up, so a failing start() can stop its timers. */
  private starting: Running | null = null;
  private stopping = false;
  private lockFlags: number | undefined;
  /** The display's selections for the agent (its own X connection, opened by start()). */
  readonly clipboard: X11Clipboard | undefined;
  /** Present with the `resize` option: RandR on this source's X connection. */
  readonly resizer: RandrResizer | undefined;

  constructor(private readonly opts: X11SourceOptions) {
    this.name = `x11 ${opts.display}`;
    if (opts.clipboard instanceof X11Clipboard) this.clipboard = opts.clipboard;
    else if (opts.clipboard !== false) this.clipboard = new X11Clipboard({ log: (level, msg) => this.log(level, msg) });
    if (opts.resize) {
      const limits = typeof opts.resize === 'object' ? opts.resize : {};
      const target = (): { conn: XConnection; root: number } | null =>
        this.run ? { conn: this.run.conn, root: this.run.root } : null;
      this.resizer = new RandrResizer(target, limits, (m) => this.log('warn', m));
    }
  }

  /** Lock keys (SPICE KeyModifier flags) as the X server has them. */
  get modifiers(): number | undefined {
    return this.lockFlags;
  }

  /** 'mit-shm' or 'get-image' once started. */
  get captureMethod(): Capture['method'] | undefined {
    return this.run?.capture.method;
  }

  /** 'damage' or 'poll' once started. */
  get changeDetection(): 'damage' | 'poll' | undefined {
    if (!this.run) return undefined;
    return this.run.watcher ? 'damage' : 'poll';
  }

  get stats(): UpdateStats | undefined {
    return this.run?.updater.stats;
  }

  async start(sink: DisplaySink): Promise<void> {
    if (this.run) throw new Error(`${this.name} already started`);
    this.stopping = false;
    const conn = await XConnection.connect(this.opts.display, { xauthority: this.opts.xauthority });
    try {
      this.run = await this.setUp(conn, sink);
      await this.startClipboard();
    } catch (err) {
      const partial = this.starting;
      if (partial) {
        this.halt(partial);
        await partial.scheduler.stop();
        await this.closeCapture(partial);
      }
      conn.close();
      throw err;
    } finally {
      this.starting = null;
    }
  }

  input(ev: InputEvent): void {
    this.run?.injector?.handle(ev);
  }

  async stop(): Promise<void> {
    const run = this.run;
    if (!run || this.stopping) return;
    this.stopping = true;
    this.halt(run);
    this.clipboard?.stop();
    await run.scheduler.stop();
    if (!run.conn.isClosed) {
      run.injector?.releaseAll();
      run.watcher?.close();
      await this.closeCapture(run);
    }
    run.conn.close();
    this.run = null;
  }

  /** The clipboard is a convenience: a display whose selections cannot be bridged is still served. */
  private async startClipboard(): Promise<void> {
    try {
      await this.clipboard?.start(this.opts.display, this.opts.xauthority);
    } catch (err) {
      this.log('warn', `clipboard unavailable: ${(err as Error).message}`);
    }
  }

  private log(level: X11LogLevel, msg: string): void {
    this.opts.log?.(level, `${this.name}: ${msg}`);
  }

  private async setUp(conn: XConnection, sink: DisplaySink): Promise<Running> {
    conn.onUnhandledError((err) => this.log('warn', err.message));
    const screen = conn.screen;
    const layout = rootPixelLayout(conn.info, screen);
    const { width, height } = await getGeometry(conn, screen.root);
    const xfixes = await this.negotiateXfixes(conn);
    const capture = await openCapture(conn, screen.root, layout, width, height, {
      useShm: this.opts.useShm ?? true,
      log: (m) => this.log('info', m),
    });
    const run: Running = {
      conn,
      sink,
      root: screen.root,
      layout,
      capture,
      updater: this.newUpdater(sink, capture, width, height),
      hasher: null,
      watcher: null,
      scheduler: new FrameScheduler(
        this.opts.frameIntervalMs ?? DEFAULT_FRAME_INTERVAL_MS,
        (viewersReady) => this.frame(run, viewersReady),
        (err) => this.frameFailed(run, err),
        this.pacing(sink),
        this.opts.frameBurst ?? FRAME_BURST,
      ),
      pollTimer: null,
      cursor: null,
      injector: null,
      locks: null,
      resizePending: false,
    };
    this.starting = run;
    conn.onClose((err, expected) => this.connectionClosed(run, err, expected));
    // Damage is watched before the first full capture, so nothing drawn in between is missed.
    await this.watchChanges(run);
    await this.watchScreenSize(run);
    await run.updater.sendFullScreen();
    // Frames may only diff against the shadow once the full screen is in it.
    run.scheduler.release();
    this.log(
      'info',
      `${width}x${height} depth ${layout.depth}, capture ${capture.method}, changes by ${run.watcher ? 'DAMAGE' : 'polling'}`,
    );
    run.cursor = new CursorTracker(conn, xfixes, run.root, sink, {
      pollMs: this.opts.cursorPollMs ?? 33,
      onPointerState: (s) => this.pointerState(run, s),
      onError: (err) => this.log('warn', `cursor: ${err.message}`),
    });
    await this.setUpInput(run);
    await run.cursor.start();
    return run;
  }

  private pacing(sink: DisplaySink): FramePacing | undefined {
    const pace = sink.pace;
    if (!pace || this.opts.paceByViewers === false) return undefined;
    return { pace, maxWaitMs: this.opts.maxPaceWaitMs ?? DEFAULT_MAX_PACE_WAIT_MS };
  }

  private newUpdater(sink: DisplaySink, capture: Capture, width: number, height: number): ScreenUpdater {
    return new ScreenUpdater(sink, capture, width, height, {
      maxRects: this.opts.maxRectsPerFrame ?? 16,
      detectScroll: this.opts.detectScroll ?? true,
    });
  }

  /** XFIXES 2 gives cursor shapes (SelectCursorInput, GetCursorImage); returns null if unusable. */
  private async negotiateXfixes(conn: XConnection): Promise<ExtensionInfo | null> {
    const ext = await conn.extension('XFIXES');
    if (!ext) {
      this.log('warn', 'X server has no XFIXES: no cursor shape');
      return null;
    }
    const v = await xfixesQueryVersion(conn, ext);
    if (v.major < 2) {
      this.log('warn', `XFIXES ${v.major}.${v.minor} is too old (need 2.0)`);
      return null;
    }
    return ext;
  }

  private async watchChanges(run: Running): Promise<void> {
    if (this.opts.useDamage ?? true) {
      run.watcher = await DamageWatcher.open(run.conn, run.root, () => run.scheduler.request());
      if (!run.watcher) this.log('warn', 'X server has no DAMAGE extension; polling the screen for changes');
    }
    if (run.watcher) return;
    run.hasher = new TileHasher(run.updater.width, run.updater.height);
    await pollTiles(run.capture, run.hasher); // baseline hashes (the full screen is sent separately)
    const every = this.opts.pollFallbackMs ?? 100;
    run.pollTimer = setInterval(() => run.scheduler.request(), every);
  }

  private async watchScreenSize(run: Running): Promise<void> {
    const ext = await run.conn.extension('RANDR');
    if (!ext) {
      this.log('info', 'X server has no RandR: the screen size is fixed');
      return;
    }
    await randrQueryVersion(run.conn, ext);
    run.conn.onEvent((ev: XEvent) => {
      if (ev.code !== ext.firstEvent + RR_SCREEN_CHANGE_NOTIFY) return;
      const change = decodeScreenChangeNotify(ev.data);
      if (change.root !== run.root) return;
      this.log('info', `RandR: screen is now ${change.width}x${change.height}`);
      run.resizePending = true;
      run.scheduler.request();
    });
    randrSelectInput(run.conn, ext, run.root);
  }

  private async setUpInput(run: Running): Promise<void> {
    const ext = await run.conn.extension('XTEST');
    if (!ext) {
      this.log('warn', 'X server has no XTEST extension: viewer input is ignored');
      return;
    }
    await xtestGetVersion(run.conn, ext);
    const { minKeycode, maxKeycode } = run.conn.info;
    const keys = new KeyMapper(await getKeyboardMapping(run.conn, minKeycode, maxKeycode - minKeycode + 1));
    for (const p of keys.problems) this.log('info', `keymap: ${p}`);
    run.locks = await findLockKeys(run.conn, keys);
    const size = (): { width: number; height: number } => ({ width: run.updater.width, height: run.updater.height });
    run.injector = new InputInjector(run.conn, ext, run.root, keys, run.locks, size, (m) => this.log('warn', m));
  }

  private pointerState(run: Running, state: PointerState): void {
    if (run.locks) this.lockFlags = locksFromMask(state.mask, run.locks);
  }

  /** One frame: handle a pending resize, then fetch what changed and send it once viewers are ready. */
  private async frame(run: Running, viewersReady: () => Promise<void>): Promise<void> {
    if (run.resizePending) {
      run.resizePending = false;
      await this.resize(run);
    }
    if (run.watcher) {
      await run.updater.refresh(run.watcher.takeRects(), viewersReady);
    } else if (run.hasher) {
      const areas = await pollTiles(run.capture, run.hasher);
      await viewersReady();
      for (const area of areas) run.updater.apply(area.rect, area.image);
    }
  }

  private async resize(run: Running): Promise<void> {
    const { width, height } = await getGeometry(run.conn, run.root);
    if (width === run.updater.width && height === run.updater.height) return;
    await run.capture.resize(width, height);
    const stats = run.updater.stats;
    run.updater = this.newUpdater(run.sink, run.capture, width, height);
    Object.assign(run.updater.stats, stats);
    if (run.hasher) run.hasher = new TileHasher(width, height);
    await run.updater.sendFullScreen();
    if (run.hasher) await pollTiles(run.capture, run.hasher);
  }

  private frameFailed(run: Running, err: Error): void {
    if (err instanceof XConnectionLost) return; // reported through onLost
    if (err instanceof XError && err.code === BAD_MATCH) {
      // GetImage outside the root: the screen shrank under us; RandR's event may still be queued.
      this.log('info', `capture outside the screen (${err.message}); re-reading the screen size`);
      run.resizePending = true;
      run.scheduler.request();
      return;
    }
    this.log('error', `frame failed: ${err.message}`);
  }

  private halt(run: Running): void {
    if (run.pollTimer) clearInterval(run.pollTimer);
    run.pollTimer = null;
    run.cursor?.stop();
  }

  private async closeCapture(run: Running): Promise<void> {
    try {
      await run.capture.close();
    } catch (err) {
      this.log('warn', `releasing the capture: ${(err as Error).message}`);
    }
  }

  private connectionClosed(run: Running, err: XConnectionLost, expected: boolean): void {
    // During start() the failure surfaces as start()'s rejection instead.
    if (expected || this.stopping || this.run !== run) return;
    this.halt(run);
    this.clipboard?.stop();
    void run.scheduler.stop();
    void this.closeCapture(run);
    this.run = null;
    const lost = new Error(`X server ${this.opts.display} went away`, { cause: err });
    this.log('error', lost.message);
    this.opts.onLost?.(lost);
  }
}
