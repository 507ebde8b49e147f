import { ImageCompressionPref, Ropd } from '../protocol/constants.js';
import {
  encodeDisplayInit,
  encodePreferredCompression,
  type Clip,
  type DisplayBase,
  type DisplayServerMessage,
} from '../protocol/display.js';
import type { OutMessage } from '../protocol/message.js';
import { intersectRect, rectIsEmpty, type Rect } from '../protocol/geometry.js';
import { Surface } from '../display/surface.js';
import type { PixelImage } from '../display/pixels.js';
import { decodeClientImage, type ImageCache } from './images.js';
import { ProtocolError } from '../protocol/errors.js';

/** The largest surface spiced creates (desktop.ts): a bigger one is refused before allocation. */
const MAX_SURFACE_SIDE = 16384;

function checkSurfaceSize(id: number, width: number, height: number): void {
  if (width < 1 || height < 1 || width > MAX_SURFACE_SIDE || height > MAX_SURFACE_SIDE) {
    throw new ProtocolError('BAD_MESSAGE', `surface ${id} of ${width}x${height} (limit ${MAX_SURFACE_SIDE} a side)`);
  }
}

export interface ClientStream {
  create: Extract<DisplayServerMessage, { kind: 'streamCreate' }>;
  clip: Clip;
  /** Every clip the stream had, in order: STREAM_CREATE's, then each STREAM_CLIP's. */
  clips: Clip[];
  frames: number;
  lastFrame: Buffer | undefined;
  lastMmTime: number;
  report?: { uniqueId: number; maxWindow: number; timeoutMs: number };
  ended: boolean;
}

/**
 * A viewer's first messages on the display channel: LZ4 asked for when it wants photos so (it
 * announced DISPLAY_CAP_LZ4_COMPRESSION), then DISPLAY_INIT with a 20 MiB image cache.
 */
export function displayGreeting(lz4: boolean): OutMessage[] {
  const init = encodeDisplayInit({
    pixmapCacheId: 1,
    pixmapCacheSize: 20_971_520n,
    glzDictionaryId: 0,
    glzWindowSize: 0,
  });
  return lz4 ? [encodePreferredCompression(ImageCompressionPref.Lz4), init] : [init];
}

/**
 * A viewer's framebuffer: applies display messages to client-side surfaces the way spice-gtk
 * does for everything spiced sends (fills, copies, copy bits, clips, caches), and counts what it
 * could not draw instead of guessing.
 */
export class ClientDisplay {
  readonly surfaces = new Map<number, Surface>();
  readonly cache: ImageCache = new Map();
  marks = 0;
  draws = 0;
  readonly unsupported = new Map<string, number>();
  /** Video streams as the server described them, with their frames (recorded, not decoded: tests decode them). */
  readonly streams = new Map<number, ClientStream>();
  /** Every stream this client was told about, ended ones included, in order. */
  readonly streamLog: ClientStream[] = [];

  get primary(): Surface | undefined {
    return this.surfaces.get(0);
  }

  /**
   * Apply one display message. `decoded` is the pixels of a DRAW_COPY's compressed image when they
   * were decoded elsewhere (the browser viewer's worker): they go in as the image would have.
   */
  apply(m: DisplayServerMessage, decoded?: PixelImage): void {
    switch (m.kind) {
      case 'surfaceCreate':
        checkSurfaceSize(m.surfaceId, m.width, m.height);
        this.surfaces.set(m.surfaceId, new Surface(m.surfaceId, m.width, m.height));
        return;
      case 'surfaceDestroy':
        this.surfaces.delete(m.surfaceId);
        return;
      case 'mark':
        this.marks++;
        return;
      case 'reset':
        this.marks = 0;
        return;
      case 'drawFill':
        return this.fill(m);
      case 'drawCopy':
        return this.copy(m, decoded);
      case 'copyBits': {
        const s = this.surfaces.get(m.base.surfaceId);
        if (!s) return this.skip('copyBits to unknown surface');
        this.draws++;
        for (const clip of this.clips(m.base)) {
          const src = { x: m.srcPos.x + clip.left - m.base.box.left, y: m.srcPos.y + clip.top - m.base.box.top };
          s.copyBits(src, clip);
        }
        return;
      }
      case 'invalList':
        for (const r of m.resources) this.cache.delete(r.id);
        return;
      case 'invalAllPixmaps':
        this.cache.clear();
        return;
      case 'streamCreate': {
        const s: ClientStream = {
          create: m,
          clip: m.clip,
          clips: [m.clip],
          frames: 0,
          lastFrame: undefined,
          lastMmTime: 0,
          ended: false,
        };
        this.streams.set(m.id, s);
        this.streamLog.push(s);
        return;
      }
      case 'streamData':
      case 'streamDataSized': {
        const s = this.streams.get(m.id);
        if (!s) return this.skip('frame of an unknown stream');
        s.frames++;
        s.lastFrame = m.data;
        s.lastMmTime = m.mmTime;
        return;
      }
      case 'streamClip': {
        const s = this.streams.get(m.id);
        if (!s) return this.skip('clip of an unknown stream');
        s.clip = m.clip;
        s.clips.push(m.clip);
        return;
      }
      case 'streamActivateReport': {
        const s = this.streams.get(m.streamId);
        if (s) s.report = { uniqueId: m.uniqueId, maxWindow: m.maxWindow, timeoutMs: m.timeoutMs };
        return;
      }
      case 'streamDestroy': {
        const s = this.streams.get(m.id);
        if (s) s.ended = true;
        this.streams.delete(m.id);
        return;
      }
      case 'streamDestroyAll':
        for (const s of this.streams.values()) s.ended = true;
        this.streams.clear();
        return;
      case 'monitorsConfig':
      case 'invalPalette':
      case 'invalAllPalettes':
        return;
      default:
        return this.skip(m.kind === 'other' ? `message ${m.type}` : m.kind);
    }
  }

  private skip(what: string): void {
    this.unsupported.set(what, (this.unsupported.get(what) ?? 0) + 1);
  }

  /** The box intersected with each clip rect (one rect when unclipped). */
  private clips(base: DisplayBase): Rect[] {
    if (base.clip.type === 'none') return [base.box];
    return base.clip.rects.map((r) => intersectRect(r, base.box)).filter((r) => !rectIsEmpty(r));
  }

  private fill(m: Extract<DisplayServerMessage, { kind: 'drawFill' }>): void {
    const s = this.surfaces.get(m.base.surfaceId);
    if (!s) return this.skip('fill to unknown surface');
    if (m.brush.type !== 'solid' || m.ropd !== Ropd.OpPut || m.mask.bitmap)
      return this.skip('fill with pattern, ROP or mask');
    this.draws++;
    for (const r of this.clips(m.base)) s.fill(r, m.brush.color);
  }

  private copy(m: Extract<DisplayServerMessage, { kind: 'drawCopy' }>, decoded: PixelImage | undefined): void {
    const s = this.surfaces.get(m.base.surfaceId);
    if (!s || !m.image) return this.skip('copy to unknown surface or without image');
    if (m.ropd !== Ropd.OpPut || m.mask.bitmap) return this.skip('copy with ROP or mask');
    const box = m.base.box;
    const sa = m.srcArea;
    if (sa.right - sa.left !== box.right - box.left || sa.bottom - sa.top !== box.bottom - box.top)
      return this.skip('scaled copy');
    // An image bigger than the surface it is drawn on is never needed: that is the cap on its size.
    const limits = { maxPixels: s.width * s.height };
    const img = decodeClientImage(m.image, this.cache, (id) => this.surfaces.get(id), limits, decoded);
    this.draws++;
    for (const r of this.clips(m.base))
      s.putImage(r, img, { x: sa.left + r.left - box.left, y: sa.top + r.top - box.top });
  }
}
