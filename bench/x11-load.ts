/**
 * Server cost of screen changes through X11Source:
 * - full-screen changes driven as fast as the viewer takes them (closed loop: the next change is
 *   drawn once the viewer shows the previous one, so changes never merge): a solid fill in a new
 *   colour each time, a photo-like 1280x800 image put in PutImage bands alternating two images
 *   (repeats: the viewer's image cache can answer them), and the photo shifted by a new offset each
 *   time (every change new content);
 * - a screen left alone for a while (an idle root window, an xterm blinking its cursor).
 * Server CPU is the child's process.cpuUsage over the window; bytes are what the viewer's display
 * channel received; frames are X11Source frames that fetched something.
 */
import { pixelAt, type PixelImage } from '../src/display/pixels.js';
import { XDrawer, flushed } from './x11-draw.js';
import { monoMs, type ServerSnapshot } from './x11-server.js';
import { gridPoints, percentile, procCpuMs, sleep, type Rig, type Viewer } from './x11-viewer.js';

/** One full-screen change: what to send, and the colour the viewer must show at (x, y). */
interface Change {
  send(drawer: XDrawer): void;
  expect(x: number, y: number): number;
}

export type ChangeKind = 'solid' | 'photo, 2 alternating' | 'photo, each new';

export interface LoadWindow {
  wallMs: number;
  serverCpuMs: number;
  /** This process's CPU: the viewer decoding and drawing, and the X drawer. */
  viewerCpuMs: number;
  /** Xvfb's CPU: executing the drawing and answering the capture (ShmGetImage, QueryPointer...). */
  xCpuMs: number;
  bytes: number;
  messages: number;
  serverFrames: number;
  pixelsFetched: number;
}

export interface FullScreenResult extends LoadWindow {
  kind: ChangeKind;
  changes: number;
  /** Median flush -> shown of one change. */
  changeMsP50: number;
}

const CHANGE_TIMEOUT_MS = 10_000;
const WARMUP_CHANGES = 3;
const SHIFT_STEP = 37;

/** A window of measurement: counters before, counters after. */
class Meter {
  private constructor(
    private readonly rig: Rig,
    private readonly s0: ServerSnapshot,
    private readonly bytes0: number,
    private readonly messages0: number,
    private readonly cpu0: NodeJS.CpuUsage,
    private readonly x0: number,
  ) {}

  static async begin(rig: Rig): Promise<Meter> {
    const s0 = await rig.server.snapshot();
    return new Meter(rig, s0, rig.viewer.bytes, rig.viewer.messages, process.cpuUsage(), procCpuMs(rig.xvfbPid));
  }

  async end(): Promise<LoadWindow> {
    const cpu = process.cpuUsage(this.cpu0);
    const xCpuMs = procCpuMs(this.rig.xvfbPid) - this.x0;
    const bytes = this.rig.viewer.bytes - this.bytes0;
    const messages = this.rig.viewer.messages - this.messages0;
    const s1 = await this.rig.server.snapshot();
    return {
      wallMs: s1.atMs - this.s0.atMs,
      serverCpuMs: s1.cpuMs - this.s0.cpuMs,
      viewerCpuMs: (cpu.user + cpu.system) / 1000,
      xCpuMs,
      bytes,
      messages,
      serverFrames: s1.frames - this.s0.frames,
      pixelsFetched: s1.pixelsFetched - this.s0.pixelsFetched,
    };
  }
}

/** Solid colours, a different one each change. */
function solidChanges(width: number, height: number): (i: number) => Change {
  return (i) => {
    const colour = (((i * 53 + 40) & 0xff) << 16) | (((i * 97 + 80) & 0xff) << 8) | ((i * 193 + 120) & 0xff);
    return { send: (d) => d.fill(colour, [{ x: 0, y: 0, width, height }]), expect: () => colour };
  };
}

/** Two pre-encoded images, alternating. */
function alternatingChanges(drawer: XDrawer, a: PixelImage, b: PixelImage): (i: number) => Change {
  const encoded = [drawer.encodeFullScreen(a), drawer.encodeFullScreen(b)];
  const images = [a, b];
  return (i) => ({
    send: (d) => d.sendAll(encoded[i % 2]!),
    expect: (x, y) => pixelAt(images[i % 2]!, x, y) & 0xffffff,
  });
}

/** One image shifted left by a new offset each change (encoded when the change is made). */
function shiftedChanges(drawer: XDrawer, img: PixelImage): (i: number) => Change {
  return (i) => {
    const shift = ((i + 1) * SHIFT_STEP) % img.width;
    const reqs = drawer.encodeFullScreen(img, shift);
    return { send: (d) => d.sendAll(reqs), expect: (x, y) => pixelAt(img, (x + shift) % img.width, y) & 0xffffff };
  };
}

export function changeSource(
  kind: ChangeKind,
  drawer: XDrawer,
  photos: readonly [PixelImage, PixelImage],
): (i: number) => Change {
  if (kind === 'solid') return solidChanges(drawer.width, drawer.height);
  if (kind === 'photo, 2 alternating') return alternatingChanges(drawer, photos[0], photos[1]);
  return shiftedChanges(drawer, photos[0]);
}

/** Draw `change` and resolve with the time from flush to the viewer showing all grid points. */
async function makeChange(drawer: XDrawer, viewer: Viewer, change: Change, label: string): Promise<number> {
  const pts = gridPoints(drawer.width, drawer.height, 8);
  const shown = viewer.until(
    () => pts.every((p) => viewer.pixel(p.x, p.y) === change.expect(p.x, p.y)),
    CHANGE_TIMEOUT_MS,
    label,
  );
  change.send(drawer);
  await flushed();
  const flushAt = monoMs();
  return (await shown) - flushAt;
}

export async function measureFullScreen(
  rig: Rig,
  kind: ChangeKind,
  changes: number,
  photos: readonly [PixelImage, PixelImage],
): Promise<FullScreenResult> {
  const { viewer } = rig;
  const drawer = await XDrawer.open(rig.display);
  try {
    const make = changeSource(kind, drawer, photos);
    let i = 0;
    for (; i < WARMUP_CHANGES; i++) await makeChange(drawer, viewer, make(i), `${kind} change ${i}`);
    await viewer.settle(100);
    const meter = await Meter.begin(rig);
    const times: number[] = [];
    // Each change is prepared (encoded) before it is timed, not while the previous one is on its
    // way: 4 MB of PutImage do not fit the socket buffer, and a busy event loop here would hold
    // back the last bands and stretch the change out. The preparation (a few ms for a photo)
    // stays in the loop's wall time.
    for (let n = 0; n < changes; n++, i++) times.push(await makeChange(drawer, viewer, make(i), `${kind} change ${i}`));
    const window = await meter.end();
    return { kind, changes, changeMsP50: percentile(times, 50), ...window };
  } finally {
    drawer.close();
  }
}

/** Leave the screen alone (or to its own devices) for `seconds` and count what it costs. */
export async function measureIdle(rig: Rig, seconds: number): Promise<LoadWindow> {
  const meter = await Meter.begin(rig);
  await sleep(seconds * 1000);
  return meter.end();
}
