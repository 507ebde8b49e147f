/**
 * The video bench's measuring viewer: the project's headless client announcing MJPEG and sending
 * stream reports as spice-gtk does, against spiced or spice-server alike. It notes, per numbered
 * frame of the clip, when the frame arrived (a stream frame, decoded here only to read its number;
 * or an image drawn into its framebuffer) and when spice-gtk would show it (at its stamp on the
 * viewer's multimedia clock; a frame arriving after that is late and dropped), types into the
 * xterm beside the video and times each glyph's arrival, and checks the final frame once the
 * video stops.
 */
import type net from 'node:net';
import sharp from 'sharp';
import { SpiceClient, type ArrivedFrame } from '../src/client/client.js';
import { ChannelType } from '../src/protocol/constants.js';
import type { Rect } from '../src/protocol/geometry.js';
import type { PixelImage } from '../src/display/pixels.js';
import { readFrameNumber } from './video-clip.js';
import { monoMs } from './x11-server.js';

/** A frame of the clip as the viewer got it. */
export interface SeenFrame {
  n: number;
  arrivedMs: number;
  /** When spice-gtk would show it: its stamp on the viewer's clock (arrival for images). */
  shownMs: number;
  late: boolean;
}

const KEY_A = 0x1e;

/** Sum of the region's pixels: changes when anything in it is drawn. */
function regionSum(img: PixelImage, r: Rect): number {
  let sum = 0;
  for (let y = r.top; y < r.bottom; y += 1) {
    const row = y * img.stride;
    for (let x = r.left; x < r.right; x += 1) sum = (sum + img.data[row + 4 * x]! * (x + 1)) % 1_000_000_007;
  }
  return sum;
}

/** Pixels whose colour differs between two 32-bit images of the same size (the X byte ignored). */
export function differingPixels(a: PixelImage, b: PixelImage): number {
  if (a.width !== b.width || a.height !== b.height) return a.width * a.height;
  let n = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const pa = y * a.stride + 4 * x;
      const pb = y * b.stride + 4 * x;
      if (a.data[pa] !== b.data[pb] || a.data[pa + 1] !== b.data[pb + 1] || a.data[pa + 2] !== b.data[pb + 2]) n++;
    }
  }
  return n;
}

export class MeasuringViewer {
  readonly client: SpiceClient;
  /** Each frame number's first arrival since the last reset, in arrival order. */
  readonly seen: SeenFrame[] = [];
  private readonly seenNumbers = new Set<number>();
  private readingFramebuffer = false;
  private decoding = 0;
  streamsCreated = 0;
  /** Display messages (arrival, kind, body bytes) and keys (sent, glyph ms), kept for `--trace`. */
  readonly trace: { at: number; kind: string; bytes: number }[] = [];
  readonly keyTrace: { at: number; ms: number | undefined }[] = [];

  constructor(
    port: number,
    private readonly stripe: Rect,
    reportStreams = true,
  ) {
    this.client = new SpiceClient({
      port,
      channels: [ChannelType.Display, ChannelType.Inputs],
      streams: true,
      reportStreams,
    });
    this.client.on('streamFrame', (f) => this.onStreamFrame(f));
    this.client.on('display', (kind, bytes) => {
      this.trace.push({ at: monoMs(), kind, bytes });
      if (kind === 'streamCreate') this.streamsCreated++;
      if (kind === 'drawCopy') this.readFramebufferSoon();
    });
  }

  async connect(): Promise<void> {
    await this.client.connect();
  }

  /** Bytes received on the display channel so far. */
  get displayBytes(): number {
    const ch = this.client.channels.get(ChannelType.Display);
    return ch ? (ch.socket as net.Socket).bytesRead : 0;
  }

  /** Forget the frames seen so far (the measurement starts). */
  reset(): void {
    this.seen.length = 0;
    this.seenNumbers.clear();
  }

  private note(n: number | undefined, arrivedMs: number, shownMs: number, late: boolean): void {
    if (n === undefined || this.seenNumbers.has(n)) return;
    this.seenNumbers.add(n);
    this.seen.push({ n, arrivedMs, shownMs, late });
  }

  /** A stream frame: its number read from the decoded JPEG where the stripe lies in it. */
  private onStreamFrame(f: ArrivedFrame): void {
    const arrivedMs = monoMs();
    const x = this.stripe.left - f.dest.left;
    const y = this.stripe.top - f.dest.top;
    const w = this.stripe.right - this.stripe.left;
    const h = this.stripe.bottom - this.stripe.top;
    if (x < 0 || y < 0 || x + w > f.dest.right - f.dest.left || y + h > f.dest.bottom - f.dest.top) return;
    this.decoding++;
    void sharp(f.data)
      .extract({ left: x, top: y, width: w, height: h })
      .raw()
      .toBuffer({ resolveWithObject: true })
      .then(({ data, info }) => {
        const n = readFrameNumber({ data, stride: info.width * info.channels, channels: info.channels }, 0, 0);
        this.note(n, arrivedMs, arrivedMs + Math.max(0, f.latency), f.latency < 0);
      })
      .catch((err: unknown) => this.client.errors.push(`stream frame: ${(err as Error).message}`))
      .finally(() => this.decoding--);
  }

  /** Images: the stripe read from the framebuffer once per turn that brought copies. */
  private readFramebufferSoon(): void {
    if (this.readingFramebuffer) return;
    this.readingFramebuffer = true;
    const arrivedMs = monoMs();
    setImmediate(() => {
      this.readingFramebuffer = false;
      const s = this.client.display.primary;
      if (!s || s.width < this.stripe.right || s.height < this.stripe.bottom) return;
      const n = readFrameNumber({ data: s.data, stride: s.stride, channels: 4 }, this.stripe.left, this.stripe.top);
      this.note(n, arrivedMs, arrivedMs, false);
    });
  }

  /** Type a key into `region` and resolve with the ms until its glyph was drawn, or undefined. */
  async typeKey(region: Rect, waitMs: number): Promise<number | undefined> {
    const s = this.client.display.primary;
    if (!s) return undefined;
    const before = regionSum(s, region);
    const sent = monoMs();
    this.client.tapKey(KEY_A);
    const key = { at: sent, ms: undefined as number | undefined };
    this.keyTrace.push(key);
    try {
      await this.client.waitFor(() => regionSum(s, region) !== before, waitMs, 'glyph');
      key.ms = monoMs() - sent;
      return key.ms;
    } catch {
      // waitFor rejects only when its time is up: the glyph did not come, the key counts as lost.
      return undefined;
    }
  }

  /** Stream frames still being decoded (their numbers not noted yet). */
  get pending(): number {
    return this.decoding;
  }

  close(): void {
    this.client.close();
  }
}
