import { describe, expect, it } from 'vitest';
import type { PipeItem } from '../src/channel-core/pipe.js';
import { DisplayCap } from '../src/protocol/constants.js';
import { silentLogger } from '../src/util/log.js';
import { ViewerVideo, type ViewerVideoHost } from '../src/video/viewer-video.js';
import type { VideoStream } from '../src/video/streams.js';

/* One viewer's side of the streams, against a host that records what it is given. */

const stream: VideoStream = {
  id: 2,
  rect: { top: 0, left: 0, bottom: 96, right: 128 },
  clip: undefined,
  width: 128,
  height: 96,
  frames: 0,
};

function host(backlog: { bytes: number }): ViewerVideoHost & { pushed: PipeItem[] } {
  const pushed: PipeItem[] = [];
  return {
    pushed,
    push: (item) => pushed.push(item),
    dropQueued: () => 0,
    hasChannelCap: (cap) => ([DisplayCap.MultiCodec, DisplayCap.CodecMjpeg] as number[]).includes(cap),
    lagging: () => false,
    backlog: () => backlog.bytes,
    refresh: () => {},
    peer: 'test',
    log: silentLogger,
  };
}

const frames = (items: PipeItem[]): number => items.filter((i) => 'streamFrame' in i).length;

describe('a viewer on a thin link', () => {
  it('drops frames while more than a frame waits to leave, and takes the newest once it drained', () => {
    const backlog = { bytes: 0 };
    const h = host(backlog);
    const v = new ViewerVideo(h, true);
    const jpeg = Buffer.alloc(5000);
    v.frame(stream, jpeg, 1000);
    expect(frames(h.pushed)).toBe(1);
    backlog.bytes = 20_000; // the socket still holds four frames' worth
    v.frame(stream, jpeg, 1040);
    v.frame(stream, jpeg, 1080);
    expect(frames(h.pushed)).toBe(1);
    expect(v.dropped).toBe(2);
    backlog.bytes = 3000;
    v.frame(stream, jpeg, 1120);
    expect(frames(h.pushed)).toBe(2);
  });
});
