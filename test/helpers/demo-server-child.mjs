// A spiced server with the animated demo desktop in a process of its own, so that a test can hold
// it to a small heap (--max-old-space-size) and see it die there instead of taking the machine.
// It runs the built package (dist/, made by `npm run build`), as an installed spiced would.
//
// IPC with the parent (serialization 'advanced'):
//   child -> parent  { port }                                   once listening
//   parent -> child  { frameAfterKeys: n }                      wait for n key events, draw a frame
//   child -> parent  { frame: {width, height, stride, data}, heapUsed, maxRssKb, keys }
import { DemoSource, SpiceServer } from '../../dist/src/index.js';

/** The animated demo without its timer: frames are drawn when the parent asks, so they can be compared. */
class CountingDemo extends DemoSource {
  keys = 0;

  input(ev) {
    super.input(ev);
    if (ev.kind === 'key') this.keys++;
  }
}

const demo = new CountingDemo({ width: 800, height: 600, fps: 0, sound: false });
const server = new SpiceServer({ source: demo, port: 0, listen: '127.0.0.1' });
await server.start();
process.send({ port: server.port });

function whenKeys(n) {
  return new Promise((resolve) => {
    const check = () => (demo.keys >= n ? resolve() : setTimeout(check, 10));
    check();
  });
}

process.on('message', async (m) => {
  if (m.stop) {
    await server.stop();
    process.exit(0);
  }
  await whenKeys(m.frameAfterKeys);
  demo.renderFrame();
  const p = server.desktop.primary;
  globalThis.gc?.();
  process.send({
    frame: { width: p.width, height: p.height, stride: p.stride, data: p.data },
    heapUsed: process.memoryUsage().heapUsed,
    maxRssKb: process.resourceUsage().maxRSS,
    keys: demo.keys,
  });
});
