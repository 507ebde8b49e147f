import { fork, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import { countRgbDifferences, sameRgb, type PixelImage } from '../src/display/pixels.js';

/*
 * Issue 12.1: one inputs message with many Enter presses. Each Enter scrolls the demo terminal,
 * and each scroll used to copy the pending damage it moved, doubling the damage list per Enter
 * until the next frame (22 Enters: 4.7 GB, then "JavaScript heap out of memory"). The server runs
 * in a child process held to a small heap so that a regression fails the test, not the machine.
 */

const HEAP_LIMIT_MB = 256;
const ENTERS = 40;
const ENTER = 0x1c;

interface FrameReply {
  frame: { width: number; height: number; stride: number; data: Uint8Array };
  heapUsed: number;
  maxRssKb: number;
  keys: number;
}

/** The child's IPC messages, and its exit as an error naming code, signal and the end of stderr. */
class ServerChild {
  readonly proc: ChildProcess;
  private stderr = '';

  constructor() {
    this.proc = fork(new URL('./helpers/demo-server-child.mjs', import.meta.url), [], {
      execArgv: [`--max-old-space-size=${HEAP_LIMIT_MB}`, '--expose-gc'],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-2000)));
  }

  /** The next IPC message, or a rejection when the child exits first or `ms` pass. */
  next<T>(what: string, ms: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.proc.off('message', onMessage);
        this.proc.off('exit', onExit);
      };
      const onMessage = (m: unknown): void => {
        done();
        resolve(m as T);
      };
      const onExit = (code: number | null, signal: string | null): void => {
        done();
        reject(
          new Error(`the server process exited (code ${code}, signal ${signal}) waiting for ${what}: ${this.stderr}`),
        );
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} from the server process within ${ms} ms: ${this.stderr}`));
      }, ms);
      this.proc.on('message', onMessage);
      this.proc.once('exit', onExit);
    });
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

function asImage(f: FrameReply['frame']): PixelImage {
  return {
    width: f.width,
    height: f.height,
    stride: f.stride,
    data: Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength),
  };
}

describe('a burst of key presses in one inputs message', () => {
  let child: ServerChild | undefined;
  let viewer: SpiceClient | undefined;

  afterEach(() => {
    viewer?.close();
    child?.kill();
  });

  it(`${ENTERS} Enters in one KEY_SCANCODE message: bounded heap, and the viewer ends with the server's frame`, async () => {
    child = new ServerChild();
    const { port } = await child.next<{ port: number }>('the listening port', 20_000);
    viewer = new SpiceClient({ port });
    await viewer.connect();
    await viewer.waitFor(() => viewer!.display.marks > 0, 10_000, 'the first frame');
    const bytes = Array.from({ length: ENTERS }, () => [ENTER, ENTER | 0x80]).flat();
    viewer.sendInput({ kind: 'keyScancode', data: Buffer.from(bytes) });
    child.proc.send({ frameAfterKeys: 2 * ENTERS });
    const reply = await child.next<FrameReply>('the frame after the burst', 30_000);
    expect(reply.keys).toBe(2 * ENTERS);
    // A demo server idles at about 20 MB of heap; the doubling damage list needed gigabytes.
    expect(reply.heapUsed, `heap after the burst: ${(reply.heapUsed / 1e6).toFixed(1)} MB`).toBeLessThan(100 << 20);
    const server = asImage(reply.frame);
    const v = viewer;
    await v
      .waitFor(
        () => !!v.display.primary && sameRgb(v.display.primary, server),
        10_000,
        "the viewer to show the server's frame",
      )
      .catch((err: Error) => {
        const off = v.display.primary ? countRgbDifferences(v.display.primary, server) : 'all';
        throw new Error(`${err.message} (${off} pixels differ)`);
      });
    expect(v.errors).toEqual([]);
  });
});
