import { afterEach, describe, expect, it } from 'vitest';
import { encodeStats } from '../src/channels/display-items.js';
import { sameRgb } from '../src/display/pixels.js';
import type { Rect } from '../src/protocol/index.js';
import { idle, makeFrames, play, streamViewerRig, type StreamViewerRig } from './helpers/video-rig.js';

/*
 * Video to a viewer that takes lossy images (a thin link): what the viewer is sent besides the
 * stream's frames. Through the real server and sockets with the project's viewer; `lossy` stands in
 * for a link measured thin, which `auto` would need a shaped link to see.
 */

const WAIT_MS = 20_000;
const W = 640;
const H = 480;
const VIDEO: Rect = { top: 64, left: 96, bottom: 64 + 192, right: 96 + 320 };

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function start(): Promise<StreamViewerRig> {
  const background = {
    kind: 'fill',
    surfaceId: 0,
    rect: { top: 0, left: 0, bottom: H, right: W },
    color: 0x336699,
  } as const;
  const rig = await streamViewerRig(W, H, background, 'lossy', WAIT_MS);
  cleanup = rig.stop;
  return rig;
}

describe('video to a viewer that takes lossy images', () => {
  it('no lossless refresh under a playing stream; once it stops, the area goes once, losslessly, in bands', async () => {
    const { feed, server, viewer } = await start();
    // What the viewer was sent, in order: the images before the stream are JPEG (lossy), and the
    // one that started the stream leaves a lossy area under it.
    const kinds: string[] = [];
    const copies: Rect[] = [];
    viewer.on('display', (kind, _bytes, m) => {
      kinds.push(kind);
      if (m.kind === 'drawCopy') copies.push(m.base.box);
    });
    await play(feed, VIDEO, makeFrames(VIDEO, 40), 25);
    await viewer.waitFor(() => (viewer.display.streamLog[0]?.frames ?? 0) >= 3, WAIT_MS, 'stream frames');
    const s = viewer.display.streamLog[0]!;
    // The lossy areas' quiet time (150 ms) passed many times over while the stream played: an area
    // under the stream is the stream's to refresh, so nothing else was drawn there meanwhile.
    const created = kinds.indexOf('streamCreate');
    expect(created).toBeGreaterThanOrEqual(0);
    expect(kinds.slice(created).filter((k) => k === 'drawCopy')).toEqual([]);
    const jpegs = encodeStats.jpegs;
    // A 25 fps video has stopped once it missed six frames (250 ms), not after a fixed 500 ms; its
    // area may go losslessly from three missed frames on, once the last frame was shown.
    await idle(300);
    await viewer.waitFor(() => s.ended && sameRgb(viewer.display.primary!, server.desktop.primary!), WAIT_MS, 'exact');
    // After the last frame: the area once, losslessly (no JPEG of it first, no second image after),
    // in bands of whole rows from its top down, so that a glyph drawn meanwhile waits for one band.
    const lastFrame = kinds.lastIndexOf('streamData');
    const after = kinds.slice(lastFrame).filter((k) => k === 'drawCopy').length;
    const bands = copies.slice(-after);
    expect(bands.length).toBeGreaterThan(1);
    let top = VIDEO.top;
    for (const b of bands) {
      expect(b).toEqual({ ...VIDEO, top, bottom: b.bottom });
      top = b.bottom;
    }
    expect(top).toBe(VIDEO.bottom);
    expect(encodeStats.jpegs).toBe(jpegs);
  });
});
