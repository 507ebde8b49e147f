/**
 * The server of bench/agent-viewers.ts, in a process of its own so that its CPU and memory are its
 * own: spiced with a still demo desktop (the agent with clipboard and resize, nothing animating).
 * IPC:
 *   child -> parent  { ready: { port } }
 *   parent -> child  { copy: bytes } -> the desktop copies that much text; reply { copied: true }
 *                    { usage: true } -> a full collection (the child runs with --expose-gc), then
 *                                     reply { usage: process.memoryUsage() }: what is still held
 *                    { stop: true }
 */
import { DemoSource, SpiceServer } from '../src/index.js';
import { raiseFdLimit } from '../src/util/fd-limit.js';
import { Logger, stderrSink } from '../src/util/log.js';
import { benchText } from './agent-text.js';

raiseFdLimit();
const source = new DemoSource({ width: 800, height: 600, still: true, sound: false });
// Hostile viewers are the point: their resets and closes are expected, not worth a line each. All
// viewers link from one address, more at once than the pre-authentication limits let through.
const preAuth = { perAddress: 1024, total: 1024 };
const server = new SpiceServer({ source, port: 0, log: new Logger('error', stderrSink), preAuth });
await server.start();

process.on('message', (m: { copy?: number; usage?: boolean; stop?: boolean }) => {
  if (m.copy !== undefined) {
    source.clipboard.copy(benchText(m.copy, 3).toString('latin1'));
    process.send!({ copied: true });
  } else if (m.usage) {
    globalThis.gc?.();
    process.send!({ usage: process.memoryUsage() });
  } else if (m.stop) {
    void server.stop().then(() => process.exit(0));
  }
});
process.send!({ ready: { port: server.port } });
