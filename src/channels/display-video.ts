import type { PipeItem } from '../channel-core/pipe.js';
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
  /** `rect` as the surface has it, losslessly, in bands as the viewer's link has room (DisplayChannelClient). */
  refreshExact(rect: Rect): void;
  /** The JPEG quality photo-like images go at to this viewer now, undefined while they go losslessly. */
  lossyQuality(): number | undefined;
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
    gradualIsVideo() {
      for (const v of viewers()) if (takesStreams(v) && v.lossyQuality() !== undefined) return true;
      return false;
    },
    refresh(rect, except) {
      for (const v of viewers()) if (takesStreams(v) && !except.has(v.video)) v.refreshExact(rect);
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
  refreshExact(rect: Rect): void;
  forgetExact(rect: Rect): void;
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
    refresh: p.refreshExact,
    forgetRefresh: p.forgetExact,
  };
}
