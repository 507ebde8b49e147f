/**
 * The measuring viewer's own thread. The soak's main thread also watches the desktop's damage,
 * drives xdotool, talks to Chromium and keeps the server's stats: a viewer on that event loop
 * timestamps a draw when the loop gets round to it, which adds the bench's own lag to the
 * viewer's side of key-to-glyph and bunches drag updates into fewer 1/60 s slots. Here the client
 * has a loop to itself, as a real viewer process has; the clock (hrtime) is the process's, shared
 * with the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SpiceClient } from '../src/client/client.js';
import { ChannelType } from '../src/protocol/constants.js';
import type { DisplayServerMessage } from '../src/protocol/display.js';
import type { Drawn } from './session-desktop.js';
import { monoMs } from './x11-server.js';
import type { ViewerReply, ViewerRequest } from './session-viewer.js';

const LOG_LIMIT = 500_000;
const DRAW_KINDS = new Set<DisplayServerMessage['kind']>(['drawFill', 'drawCopy', 'copyBits']);

const port = parentPort;
if (!port) throw new Error('session-viewer-worker: not started as a worker');
const { serverPort } = workerData as { serverPort: number };

let log: Drawn[] = [];
const client = new SpiceClient({ port: serverPort, channels: [ChannelType.Display] });
const display = client.display;
const apply = display.apply.bind(display);
// Timestamped after the draw is applied: that is when this viewer shows it.
display.apply = (m: DisplayServerMessage): void => {
  apply(m);
  if (!DRAW_KINDS.has(m.kind) || !('base' in m) || log.length >= LOG_LIMIT) return;
  log.push({ atMs: monoMs(), rect: m.base.box });
};

function reply(r: ViewerReply): void {
  port!.postMessage(r);
}

async function connect(): Promise<void> {
  await client.connect();
  const shown = (): boolean => client.display.primary !== undefined && client.display.marks > 0;
  await client.waitFor(shown, 15_000, 'the first frame');
}

/** Resolves once no display message has arrived for `quietMs` (or after `maxMs`). */
function settle(quietMs: number, maxMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(quiet);
      clearTimeout(limit);
      client.off('display', bump);
      resolve();
    };
    let quiet = setTimeout(done, quietMs);
    const limit = setTimeout(done, maxMs);
    const bump = (): void => {
      clearTimeout(quiet);
      quiet = setTimeout(done, quietMs);
    };
    client.on('display', bump);
  });
}

function state(): { kind: 'state'; bytes: number; problems: string[]; closed: boolean } {
  const problems = [...client.errors, ...[...client.display.unsupported].map(([what, n]) => `${n} x ${what}`)];
  const channel = client.channels.get(ChannelType.Display);
  return { kind: 'state', bytes: channel?.stats.bytes ?? 0, problems, closed: channel?.isClosed ?? true };
}

async function handle(req: ViewerRequest): Promise<void> {
  switch (req.op) {
    case 'take': {
      const out = log;
      log = [];
      return reply({ kind: 'take', id: req.id, drawn: out });
    }
    case 'state':
      return reply({ ...state(), id: req.id });
    case 'primary': {
      const s = client.display.primary;
      const image = s ? { width: s.width, height: s.height, stride: s.stride, data: new Uint8Array(s.data) } : null;
      return reply({ kind: 'primary', id: req.id, image });
    }
    case 'settle':
      await settle(req.quietMs, req.maxMs);
      return reply({ kind: 'settled', id: req.id });
    case 'close':
      client.close();
      return reply({ kind: 'closed', id: req.id });
  }
}

port.on('message', (req: ViewerRequest) => {
  handle(req).catch((err: unknown) => reply({ kind: 'error', id: req.id, message: String(err) }));
});

connect().then(
  () => reply({ kind: 'ready', id: 0 }),
  (err: unknown) => reply({ kind: 'error', id: 0, message: err instanceof Error ? err.message : String(err) }),
);
