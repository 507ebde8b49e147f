import type { PipeItem } from '../channel-core/pipe.js';
import { cropImage } from '../display/pixels.js';
import type { Surface } from '../display/surface.js';
import type { Rect } from '../protocol/geometry.js';
import type { Logger } from '../util/log.js';
import type { DrawUpdate, StreamHost, StreamViewer } from '../video/streams.js';
import type { ViewerVideoHost } from '../video/viewer-video.js';
import { copyBitsItem, fillItem, SharedImage } from './display-items.js';
import type { LoggedDraw } from './key-frame.js';

/*
 * The display channel's side of video streams (src/video/): what the streams and each viewer's
 * stream state need from the channel, kept out of display.ts.
 */

/** A display viewer as the video glue sees it. */
export interface VideoViewer {
  readonly video: StreamViewer & { readonly enabled: boolean };
  readonly isReady: boolean;
  readonly isClosed: boolean;
  draw(d: LoggedDraw): void;
}

/**
 * A draw as viewers are given it: a copy's image shared, a fill or copy-bits one item queued for
 * every viewer (each encoded once for all of them).
 */
export function loggedDraw(u: DrawUpdate): LoggedDraw {
  switch (u.kind) {
    case 'copy':
      return { kind: 'copy', rect: u.rect, shared: new SharedImage(u.image, u.src, u.rect) };
    case 'fill':
      return { kind: 'fill', rect: u.rect, item: fillItem(u.rect, u.color) };
    case 'copyBits':
      return { kind: 'copyBits', rect: u.rect, src: u.src, item: copyBitsItem(u.rect, u.src) };
  }
}

/**
 * `rect` of the surface as it is now, as a lossless copy every viewer given it shares: it replaces a
 * stream's lossy frames, so it is the exact final picture. Sent as JPEG first on a thin link, it cost
 * a second image and the lossy areas' quiet time before the lossless one (1.5 s at 10 Mbit/s).
 */
function snapshotDraw(surface: Surface, rect: Rect): LoggedDraw {
  const image = cropImage(surface, rect.left, rect.top, rect.right - rect.left, rect.bottom - rect.top);
  return { kind: 'copy', rect, shared: new SharedImage(image, { x: 0, y: 0 }, rect), exact: true };
}

export function takesStreams(v: VideoViewer): boolean {
  return v.isReady && !v.isClosed && v.video.enabled;
}

export function channelStreamHost(
  viewers: () => Iterable<VideoViewer>,
  surface: () => Surface | undefined,
  mmTime: () => number,
  log: Logger,
): StreamHost {
  function* taking(): Iterable<StreamViewer> {
    for (const v of viewers()) if (takesStreams(v)) yield v.video;
  }
  return {
    viewers: taking,
    surface,
    mmTime,
    log,
    refresh(rect) {
      const s = surface();
      if (!s) return;
      const d = snapshotDraw(s, rect);
      for (const v of viewers()) if (takesStreams(v)) v.draw(d);
    },
  };
}

/** What one viewer's stream state needs from its display connection. */
export interface ViewerHostParts {
  push(item: PipeItem): void;
  pushBackground(item: PipeItem): void;
  extract(pred: (item: PipeItem) => boolean): number;
  hasChannelCap(cap: number): boolean;
  lagging(): boolean;
  drainMs(): number;
  bandwidth(): number;
  surface(): Surface | undefined;
  draw(d: LoggedDraw): void;
  peer: string;
  log: Logger;
}

export function viewerVideoHost(p: ViewerHostParts): ViewerVideoHost {
  return {
    push: p.push,
    pushBackground: p.pushBackground,
    dropQueued: p.extract,
    hasChannelCap: p.hasChannelCap,
    lagging: p.lagging,
    drainMs: p.drainMs,
    bandwidth: p.bandwidth,
    peer: p.peer,
    log: p.log,
    refresh(rect) {
      const s = p.surface();
      if (s) p.draw(snapshotDraw(s, rect));
    },
  };
}
