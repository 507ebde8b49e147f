/**
 * The server of bench/viewers.ts, in a process of its own so that its CPU and memory can be read
 * from /proc: spiced with the demo desktop or a recording (looped), drawing a marker every
 * MARKER_MS (viewers-markers.ts). IPC (serialization 'advanced'):
 *   child -> parent  { ready: { port, fdLimit } }  then { marker: { seq, t } } for each marker
 *   parent -> child  { freeze: true } -> the source and the markers stop; reply { frozen: { digest, streams } }
 *                    { traffic: true } -> reply { traffic: { [channel]: { connections, messages, flushes, units, received } } }
 *                    { stop: true }
 */
import { parseArgs } from 'node:util';
import { Logger, stderrSink } from '../src/util/log.js';
import { DemoSource, RecordingSource, SpiceServer } from '../src/index.js';
import type { DisplaySource } from '../src/seam/index.js';
import { raiseFdLimit } from '../src/util/fd-limit.js';
import { channelName } from '../src/protocol/constants.js';
import { encodeStats } from '../src/channels/display-items.js';
import { IMAGE_QUALITIES, type ImageQuality } from '../src/display/wire-image.js';
import { MARKER_MS, MARKER_RECT, monotonicNowMs, rgbDigest } from './viewers-markers.js';

const { values } = parseArgs({
  options: {
    play: { type: 'string' },
    size: { type: 'string', default: '1024x768' },
    'image-quality': { type: 'string', default: 'auto' },
  },
});
const [width, height] = values.size!.split('x').map(Number) as [number, number];
const source: DisplaySource = values.play
  ? new RecordingSource(values.play, { pace: 'realtime', loop: true })
  : new DemoSource({ width, height, sound: false });
if (source instanceof RecordingSource) await source.preload(256 << 20);

function parseImageQuality(q: string): ImageQuality {
  if ((IMAGE_QUALITIES as readonly string[]).includes(q)) return q as ImageQuality;
  throw new Error(`--image-quality ${q}: expected ${IMAGE_QUALITIES.join('|')}`);
}

const limit = raiseFdLimit();
const fdLimit = typeof limit === 'string' ? limit : `${limit.soft} (was ${limit.before}, hard ${limit.hard})`;
const server = new SpiceServer({
  source,
  port: 0,
  listen: '127.0.0.1',
  audio: false,
  web: false,
  log: new Logger('warn', stderrSink),
  // Hundreds of viewers link from one address at once.
  preAuth: { perAddress: 8192, total: 8192 },
  display: { imageQuality: parseImageQuality(values['image-quality']!) },
});
await server.start();

let seq = 0;
const markers = setInterval(() => {
  const primary = server.desktop.primary;
  if (!primary) return;
  seq = (seq + 1) & 0xffffff;
  server.desktop.display({ kind: 'fill', surfaceId: primary.id, rect: MARKER_RECT, color: seq });
  process.send!({ marker: { seq, t: monotonicNowMs() } });
}, MARKER_MS);

/** What the server's connections have sent and received so far, summed by channel. */
function traffic(): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const c of server.clients()) {
    const t = (out[channelName(c.channelType)] ??= { connections: 0, messages: 0, flushes: 0, units: 0, received: 0 });
    const s = c.stream.counters;
    t.connections!++;
    t.messages! += s.messages;
    t.flushes! += s.flushes;
    t.units! += s.units;
    t.received! += c.received;
    t.readings = (t.readings ?? 0) + c.kernelReadings;
    // Display viewers sent photos as JPEG now (their link measured under the lossy threshold).
    const lossy = (c as { lossyQuality?: () => number | undefined }).lossyQuality?.();
    if (lossy !== undefined) t.lossy = (t.lossy ?? 0) + 1;
    // Draws the viewer took from the display channel's shared draw log, of all it was given.
    const d = c as { draws?: number; drawsFromLog?: number };
    if (d.draws !== undefined) {
      t.draws = (t.draws ?? 0) + d.draws;
      t.drawsFromLog = (t.drawsFromLog ?? 0) + (d.drawsFromLog ?? 0);
    }
    const cache = (c as { cacheStats?: { hits: number; misses: number } }).cacheStats;
    if (cache) {
      t.cacheHits = (t.cacheHits ?? 0) + cache.hits;
      t.cacheMisses = (t.cacheMisses ?? 0) + cache.misses;
    }
  }
  // Flushes written from a buffer shared with other viewers (SharedFlushes), where the server has them.
  const shared = (server.display as { sharedFlushes?: { hits: number } }).sharedFlushes;
  if (out.display && shared) out.display.shared = shared.hits;
  // Images encoded (lossless and JPEG) by the whole server: shared ones count once, whatever the viewers.
  if (out.display) out.display.encodes = encodeStats.images + encodeStats.jpegs;
  return out;
}

process.on('message', (m: { freeze?: boolean; stop?: boolean; traffic?: boolean }) => {
  if (m.traffic) {
    process.send!({ traffic: traffic() });
  } else if (m.freeze) {
    clearInterval(markers);
    void Promise.resolve(source.stop()).then(() => {
      const p = server.desktop.primary!;
      const streams = server.display.video.stats.started;
      process.send!({ frozen: { digest: rgbDigest(p.data), width: p.width, height: p.height, streams } });
    });
  } else if (m.stop) {
    clearInterval(markers);
    void Promise.resolve(source.stop())
      .then(() => server.stop())
      .then(() => process.exit(0));
  }
});
process.send!({ ready: { port: server.port, fdLimit } });
