/**
 * The measuring viewer of the session soak: the project's headless SpiceClient (display channel
 * only) connected next to remote-viewer and the browser. It applies every message to its
 * framebuffer, as a viewer does, and timestamps every draw with the rectangle it covers, so its
 * update rate and the moment a glyph reached it can be compared with what the desktop drew.
 */
import { SpiceClient } from '../src/client/client.js';
import type { Surface } from '../src/display/surface.js';
import { ChannelType } from '../src/protocol/constants.js';
import type { DisplayServerMessage } from '../src/protocol/display.js';
import type { Drawn } from './session-desktop.js';
import { monoMs } from './x11-server.js';

const LOG_LIMIT = 500_000;
const DRAW_KINDS = new Set<DisplayServerMessage['kind']>(['drawFill', 'drawCopy', 'copyBits']);

export class MeasuringViewer {
  private log: Drawn[] = [];

  private constructor(private readonly client: SpiceClient) {
    const display = client.display;
    const apply = display.apply.bind(display);
    // Timestamped after the draw is applied: that is when this viewer shows it.
    display.apply = (m: DisplayServerMessage): void => {
      apply(m);
      if (!DRAW_KINDS.has(m.kind) || !('base' in m) || this.log.length >= LOG_LIMIT) return;
      this.log.push({ atMs: monoMs(), rect: m.base.box });
    };
  }

  static async connect(port: number): Promise<MeasuringViewer> {
    const client = new SpiceClient({ port, channels: [ChannelType.Display] });
    await client.connect();
    const shown = (): boolean => client.display.primary !== undefined && client.display.marks > 0;
    await client.waitFor(shown, 15_000, 'the first frame');
    return new MeasuringViewer(client);
  }

  /** Draws applied since the last call (emptied). */
  take(): Drawn[] {
    const out = this.log;
    this.log = [];
    return out;
  }

  get primary(): Surface {
    const s = this.client.display.primary;
    if (!s) throw new Error('session soak: the measuring viewer has no primary surface');
    return s;
  }

  get bytes(): number {
    return this.client.channels.get(ChannelType.Display)?.stats.bytes ?? 0;
  }

  /** Messages the client could not apply, and kinds it does not draw (both should stay empty). */
  get problems(): string[] {
    return [...this.client.errors, ...[...this.client.display.unsupported].map(([what, n]) => `${n} x ${what}`)];
  }

  get closed(): boolean {
    return this.client.channels.get(ChannelType.Display)?.isClosed ?? true;
  }

  /** Resolves once no display message has arrived for `quietMs` (or after `maxMs`). */
  settle(quietMs: number, maxMs: number): Promise<void> {
    return new Promise((resolve) => {
      const client = this.client;
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

  close(): void {
    this.client.close();
  }
}
