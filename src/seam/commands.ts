import type { Point, Rect } from '../protocol/geometry.js';
import type { PixelImage } from './pixel-image.js';

/*
 * The display-command seam. Every source (demo desktop, X11, recordings) speaks only this; the
 * server applies each command to its surfaces and turns it into draw messages for every viewer;
 * recordings are taken here (docs/architecture.md). Commands are immutable once emitted: an image
 * handed over in `copy` must not be modified afterwards (it is encoded lazily and shared between
 * viewers).
 *
 * Colours are 0x00RRGGBB; rects are SPICE rects (top, left, bottom, right exclusive) in surface
 * pixels and are clipped to the surface by the server.
 */
export type DisplayCommand =
  /** Create (or replace) a surface. `primary` surfaces are what viewers see (one at a time). */
  | { kind: 'surfaceCreate'; surfaceId: number; width: number; height: number; primary: boolean }
  | { kind: 'surfaceDestroy'; surfaceId: number }
  /** Solid fill of `rect`. */
  | { kind: 'fill'; surfaceId: number; rect: Rect; color: number }
  /** Copy `image` into `dest`; `src` is the top-left of the used area inside the image (default 0,0). */
  | { kind: 'copy'; surfaceId: number; dest: Rect; image: PixelImage; src?: Point }
  /** Copy a region of surface `srcSurfaceId` (at `src`) into `dest` of `surfaceId`. */
  | { kind: 'blitSurface'; surfaceId: number; dest: Rect; srcSurfaceId: number; src: Point }
  /** Move pixels inside one surface: the area at `src` (the size of `dest`) is copied to `dest`. */
  | { kind: 'copyBits'; surfaceId: number; src: Point; dest: Rect };

/** Cursor shapes: straight-alpha BGRA pixels (PixelImage whose X byte is alpha), at most 64x64 for html5. */
export interface CursorShape {
  /** Stable identity of the shape (the same id means the same pixels). */
  readonly id: number;
  readonly image: PixelImage;
  readonly hotX: number;
  readonly hotY: number;
}

export type CursorCommand =
  | { kind: 'cursorSet'; shape: CursorShape }
  | { kind: 'cursorMove'; x: number; y: number }
  | { kind: 'cursorHide' }
  | { kind: 'cursorShow' };

/**
 * Sound: 48 kHz stereo signed 16-bit PCM in 10 ms frames (960 interleaved samples), the one format
 * every viewer can be served (Opus-encoded or raw by the playback channel).
 */
export type AudioCommand = { kind: 'audioStart' } | { kind: 'audioFrame'; pcm: Int16Array } | { kind: 'audioStop' };

/**
 * How viewers keep up with what is drawn. A source that chooses how often to draw (a screen
 * capture) draws again when viewers have caught up, instead of on a fixed clock: as often as they
 * take it, and less often, not into a growing queue, when they do not.
 */
export interface ViewerPace {
  /** True when every viewer has sent on all it was given (nothing waits in its queue). */
  caughtUp(): boolean;
  /** Call `listener` once, the next time viewers catch up. Returns a function that cancels it. */
  whenCaughtUp(listener: () => void): () => void;
}

/** Where sources deliver their output. */
export interface DisplaySink {
  display(cmd: DisplayCommand): void;
  cursor(cmd: CursorCommand): void;
  /** Optional: sinks that do not carry sound ignore it. */
  audio?(cmd: AudioCommand): void;
  /** Optional: sinks without viewers (a recording, a test) do not pace their sources. */
  readonly pace?: ViewerPace;
}

/** Any command of the seam (what recordings hold). */
export type SeamCommand = DisplayCommand | CursorCommand | AudioCommand;
