/**
 * A process of light viewers for bench/viewers.ts (a hundred or so per process, so that the
 * clients do not share one event loop with the server's other viewers). IPC:
 *   parent -> worker  { connect: { port, count } }  -> { connected: { count, ms } } once every one has its first frame
 *                     { stall: { port } }            -> one more viewer that stops reading after its first frame
 *                     { collect: true }              -> { arrivals: [seq, last arrival ms, viewers][], rssKb }
 *                     { close: true }
 */
import { LightViewer } from './light-viewer.js';
import { MarkerArrivals, markerSeq } from './viewers-markers.js';

const viewers: LightViewer[] = [];
const arrivals = new MarkerArrivals();

/** Links at most this many viewers at a time: a burst of hundreds would only queue in the kernel. */
const CONCURRENT_LINKS = 25;

async function connectOne(port: number, watch: boolean): Promise<LightViewer> {
  const v = new LightViewer(port);
  if (watch) {
    const seen = arrivals.viewer();
    v.onDisplay = (type, body) => {
      const s = markerSeq(type, body);
      if (s !== undefined) seen(s);
    };
  }
  viewers.push(v);
  await v.connect();
  await v.firstFrame(60_000);
  return v;
}

async function connectMany(port: number, count: number): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      next++;
      await connectOne(port, true);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_LINKS, count) }, lane));
}

type Command = {
  connect?: { port: number; count: number };
  stall?: { port: number };
  collect?: boolean;
  close?: boolean;
};

process.on('message', (m: Command) => {
  void handle(m).catch((err: unknown) => {
    process.stderr.write(`viewers worker: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
});

async function handle(m: Command): Promise<void> {
  if (m.connect) {
    const t0 = performance.now();
    await connectMany(m.connect.port, m.connect.count);
    process.send!({ connected: { count: m.connect.count, ms: performance.now() - t0 } });
  } else if (m.stall) {
    const v = await connectOne(m.stall.port, false);
    // Stops reading: the kernel buffers fill, then the server's stream backs up.
    v.displayChannel!.socket.pause();
    process.send!({ stalled: true });
  } else if (m.collect) {
    process.send!({ arrivals: arrivals.drain(), rssKb: Math.round(process.memoryUsage().rss / 1024) });
  } else if (m.close) {
    for (const v of viewers) v.close();
    setTimeout(() => process.exit(0), 100);
  }
}
