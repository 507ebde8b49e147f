import type { PipeItem } from '../channel-core/pipe.js';
import { ImageFlags, ImageType, SurfaceFlags, SurfaceFormat } from '../protocol/constants.js';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import {
  encodeCopyBits,
  encodeDrawCopy,
  encodeDrawFill,
  encodeInvalList,
  encodeMonitorsConfig,
  encodeSurfaceCreate,
  encodeSurfaceDestroy,
  type DisplayBase,
} from '../protocol/display.js';
import { encodeFromCacheImage } from '../protocol/image.js';
import { makeRect, type Point, type Rect } from '../protocol/geometry.js';
import type { OutMessage } from '../protocol/message.js';
import { cropImage, packedImage, pixelWords, type PixelImage } from '../display/pixels.js';
import type { Surface } from '../display/surface.js';
import { chooseImageCodec, type ImageCodec, type ImageCompression } from '../display/image-choice.js';
import { captureRgb, encodeJpeg } from '../video/jpeg.js';
import {
  encodeImagePayload,
  imageParts,
  imageRegion,
  jpegPayload,
  nextImageId,
  type ImagePayload,
} from '../display/wire-image.js';
import type { ViewerImageCache } from './image-cache.js';

/**
 * Pipe items of the display channel that draw into a rectangle of the primary surface. Fills and
 * copies set every pixel of it; copy-bits reads the surface too.
 */
export interface DrawItem extends PipeItem {
  readonly rect: Rect;
  readonly kind: 'fill' | 'copy' | 'copyBits';
}

export function isDrawItem(item: PipeItem): item is DrawItem {
  return 'rect' in item;
}

function base(rect: Rect): DisplayBase {
  return { surfaceId: 0, box: rect, clip: { type: 'none' } };
}

function rectSize(r: Rect): { w: number; h: number } {
  return { w: r.right - r.left, h: r.bottom - r.top };
}

/**
 * Fills and copy-bits are the same bytes for every viewer: one item is made per draw and queued
 * for all of them, and it is encoded once, when it first leaves.
 */
export function fillItem(rect: Rect, color: number): DrawItem {
  let m: OutMessage | undefined;
  return { rect, kind: 'fill', weight: 64, marshal: () => (m ??= encodeDrawFill(base(rect), color)) };
}

export function copyBitsItem(rect: Rect, src: Point): DrawItem {
  let m: OutMessage | undefined;
  return { rect, kind: 'copyBits', weight: 64, marshal: () => (m ??= encodeCopyBits(base(rect), src)) };
}

/** Images encoded for viewers in this process, and the time it took (stats and tests: encode once). */
export const encodeStats = { images: 0, ms: 0, jpegs: 0, byCodec: new Map<ImageCodec, number>() };

/** A JPEG of a shared image being made on the threadpool, or made (payload), or failed (none). */
interface LossyPayload {
  settled: boolean;
  payload: ImagePayload | undefined;
  readonly done: Promise<void>;
}

/**
 * An image update shared by every viewer that sends it: the pixels are cropped, hashed and
 * encoded once, on first use; each viewer only adds a descriptor with its own id and flags.
 */
export class SharedImage {
  /** The source's image, until the box has been cropped out of it. */
  private image: PixelImage | undefined;
  private region: PixelImage | undefined;
  /** Encoded once per codec, whichever compression modes of the viewers chose it. */
  private payloads = new Map<ImageCodec, ImagePayload>();
  private jpegs = new Map<number, LossyPayload>();
  /** DRAW_COPY of each JPEG, by quality. */
  private readonly lossyDraws = new Map<number, OutMessage>();
  private digest: string | undefined;
  private uniform: number | null | undefined;
  /** The image's id on the wire, the same for every viewer (each viewer's cache is its own). */
  private id: bigint | undefined;
  /** DRAW_COPY messages by compression and cache flags, shared by every viewer. */
  private readonly copies: { compression: ImageCompression; codec: ImageCodec; flags: number; message: OutMessage }[] =
    [];
  /** DRAW_COPY messages from a viewer's cache, by the id it caches the image under. */
  private readonly cacheHits: { id: bigint; message: OutMessage }[] = [];
  /** The DRAW_FILL of a uniform image. */
  private fill: OutMessage | undefined;
  /** Whether viewers' caches take it (cacheAdmits), once decided. */
  private admit: boolean | undefined;
  /** The image cut into bands of rows (bands()), once cut: shared by every viewer that takes bands. */
  private cut: SharedImage[] | undefined;

  constructor(
    image: PixelImage,
    private readonly src: Point,
    readonly rect: Rect,
  ) {
    this.image = image;
    // Items are weighed by their box, so a queued item must not keep a much larger image alive: the
    // X11 source hands whole captured rects and sends only the rows that changed (a lagging viewer's
    // 32 MB of queued boxes could otherwise hold gigabytes of captures).
    if (image.data.length > 2 * this.pixels * 4) this.pixelsOfBox();
  }

  get pixels(): number {
    const { w, h } = rectSize(this.rect);
    return w * h;
  }

  /** Exactly the box: spice-html5 ignores src_area and draws the whole image at the box. */
  private pixelsOfBox(): PixelImage {
    if (!this.region) {
      const { w, h } = rectSize(this.rect);
      this.region = imageRegion(this.image!, this.src.x, this.src.y, w, h);
      this.image = undefined; // the region holds all that is needed
    }
    return this.region;
  }

  /**
   * The image as bands of whole rows of about BAND_PIXELS each, top to bottom (itself when it is no
   * taller than one band): each its own DRAW_COPY, so that a viewer decodes and shows the first band
   * while the next ones are encoded and on their way. Cut once, shared by every viewer that takes
   * bands; each band is a view of this image's rows, not a copy.
   */
  bands(): SharedImage[] {
    if (this.cut) return this.cut;
    const { w, h } = rectSize(this.rect);
    const rows = Math.max(MIN_BAND_ROWS, Math.ceil(BAND_PIXELS / w));
    if (h <= rows) return (this.cut = [this]);
    const img = this.pixelsOfBox();
    this.cut = [];
    for (let top = 0; top < h; top += rows) {
      const n = Math.min(rows, h - top);
      const band: PixelImage = {
        width: w,
        height: n,
        stride: img.stride,
        data: img.data.subarray(top * img.stride, (top + n) * img.stride),
      };
      const r = makeRect(this.rect.top + top, this.rect.left, this.rect.top + top + n, this.rect.right);
      this.cut.push(new SharedImage(band, { x: 0, y: 0 }, r));
    }
    return this.cut;
  }

  /** The codec this image travels in to a viewer taking `compression`. */
  codec(compression: ImageCompression): ImageCodec {
    return chooseImageCodec(this.pixelsOfBox(), compression);
  }

  payload(codec: ImageCodec): ImagePayload {
    let p = this.payloads.get(codec);
    if (!p) {
      const start = performance.now();
      p = encodeImagePayload(this.pixelsOfBox(), codec);
      encodeStats.ms += performance.now() - start;
      encodeStats.images++;
      encodeStats.byCodec.set(codec, (encodeStats.byCodec.get(codec) ?? 0) + 1);
      this.payloads.set(codec, p);
    }
    return p;
  }

  /** Photo-like (what the codec choice sends as QUIC): the images that may go as JPEG. */
  isPhotoLike(): boolean {
    return chooseImageCodec(this.pixelsOfBox(), 'auto') === 'quic';
  }

  /** The image as JPEG at `quality`, encoded once for every viewer that takes it lossy. */
  jpeg(quality: number): LossyPayload {
    let j = this.jpegs.get(quality);
    if (!j) {
      const img = this.pixelsOfBox();
      const rgb = captureRgb(img, { top: 0, left: 0, bottom: img.height, right: img.width });
      const state: LossyPayload = {
        settled: false,
        payload: undefined,
        done: encodeJpeg(rgb, img.width, img.height, quality).then(
          (data) => {
            encodeStats.jpegs++;
            state.payload = jpegPayload(img, data);
            state.settled = true;
          },
          () => {
            state.settled = true; // sent losslessly instead
          },
        ),
      };
      j = state;
      this.jpegs.set(quality, j);
    }
    return j;
  }

  /** DRAW_COPY of the JPEG made by jpeg(quality), never cached by viewers (their cache holds exact pixels). */
  drawLossy(quality: number, payload: ImagePayload): OutMessage {
    let m = this.lossyDraws.get(quality);
    if (!m) {
      const { w, h } = rectSize(this.rect);
      m = encodeDrawCopy(
        base(this.rect),
        { top: 0, left: 0, bottom: h, right: w },
        imageParts(payload, this.imageId, 0),
      );
      this.lossyDraws.set(quality, m);
    }
    return m;
  }

  get imageId(): bigint {
    this.id ??= nextImageId();
    return this.id;
  }

  /** DRAW_COPY of the whole image into its box with this viewer-independent id and flags, encoded once. */
  drawCopy(compression: ImageCompression, flags: number): OutMessage {
    // A short list, not a map keyed by a string made per call: this runs for every viewer of every copy.
    for (const c of this.copies) if (c.compression === compression && c.flags === flags) return c.message;
    // Settings that choose the same codec get the same message object (so the same shared flushes).
    const codec = this.codec(compression);
    const { w, h } = rectSize(this.rect);
    const message =
      this.copies.find((c) => c.codec === codec && c.flags === flags)?.message ??
      encodeDrawCopy(
        base(this.rect),
        { top: 0, left: 0, bottom: h, right: w },
        imageParts(this.payload(codec), this.imageId, flags),
      );
    this.copies.push({ compression, codec, flags, message });
    return message;
  }

  /**
   * DRAW_COPY of the image from a viewer's cache, where it is kept as `cachedId`: encoded once per
   * id (viewers that cached the image from the same draw hold it under the same id), so viewers
   * with the same cache state get the same message, and so can share their flush (SharedFlushes).
   */
  fromCache(cachedId: bigint): OutMessage {
    for (const c of this.cacheHits) if (c.id === cachedId) return c.message;
    const { w, h } = rectSize(this.rect);
    const message = encodeDrawCopy(
      base(this.rect),
      { top: 0, left: 0, bottom: h, right: w },
      encodeFromCacheImage({ id: cachedId, type: ImageType.FromCache, flags: 0, width: w, height: h }),
    );
    this.cacheHits.push({ id: cachedId, message });
    return message;
  }

  /** DRAW_FILL of a uniform image (see uniformColor), encoded once. */
  drawFill(color: number): OutMessage {
    this.fill ??= encodeDrawFill(base(this.rect), color);
    return this.fill;
  }

  /**
   * Whether viewers' caches take this image (CACHE_ME), decided once for every viewer so that their
   * messages stay the same: always when `onFirstSight` (few viewers), otherwise only when its
   * content was seen before (see Sightings).
   */
  cacheAdmits(onFirstSight: boolean): boolean {
    this.admit ??= sightings.note(this.key()) || onFirstSight;
    return this.admit;
  }

  /** Content key for viewer caches: size and every pixel's RGB (the fourth byte does not show). */
  key(): string {
    this.digest ??= contentKey(this.pixelsOfBox());
    return this.digest;
  }

  /** The colour when every pixel is the same (then a fill says it in 47 bytes), else null. */
  uniformColor(): number | null {
    if (this.uniform === undefined) this.uniform = uniformRgb(this.pixelsOfBox());
    return this.uniform;
  }
}

/**
 * Bands (SharedImage.bands) of about this many pixels: 128 rows of a 1024-pixel screen, some 300 kB
 * of a photo as LZ4, which a browser decodes in a few ms.
 */
const BAND_PIXELS = 128 * 1024;
/** No band is thinner (QUIC and LZ need rows to predict from; a thin band is mostly overhead). */
const MIN_BAND_ROWS = 16;

/** Content keys remembered by Sightings: a few minutes of a busy desktop's distinct images. */
const MAX_SIGHTINGS = 16384;

/**
 * The content keys of images marshalled lately, process-wide, to tell an image's first sighting
 * from a repeat. With many viewers, keeping an image in every viewer's cache model costs a model
 * entry, lookups and later an eviction per viewer, and most images of a moving desktop (a clock's
 * hands, scrolled text, video-like areas) never come back; so there an image enters viewers'
 * caches from its second sighting on (as a cache's doorkeeper admits only what recurs): what
 * repeats (glyphs, icons, windows drawn again) is cached at its second sending instead of its first.
 */
class Sightings {
  private readonly keys = new Set<string>();

  /** Whether `key` was seen before; it is noted as seen either way (the oldest forgotten past the bound). */
  note(key: string): boolean {
    if (this.keys.has(key)) return true;
    this.keys.add(key);
    if (this.keys.size > MAX_SIGHTINGS) this.keys.delete(this.keys.values().next().value!);
    return false;
  }
}

const sightings = new Sightings();

/**
 * Images of at most this many bytes are keyed with SHA-256 (cheap to set up: glyphs and icons,
 * most repeats); larger ones with keyed Poly1305, whose setup costs more but which hashes several
 * times faster per byte (docs/performance.md has the figures).
 */
const SHA_KEY_MAX_BYTES = 16 << 10;

/**
 * Poly1305 key of this process. The content key only has to tell our own images apart, not resist
 * forgery by someone who sees the keys (nobody does: they never leave the process). Poly1305 is a
 * universal hash: under a random key two different inputs of n 16-byte blocks collide with
 * probability at most 8n/2^106 (about 2^-81 for 64 MiB), whatever the images.
 */
const POLY_KEY = randomBytes(32);
const POLY_NONCE = Buffer.alloc(12);

/** Poly1305 of `data` under POLY_KEY: Node's ChaCha20-Poly1305 with the data as AAD, nothing encrypted. */
function poly1305(data: Buffer): Buffer {
  const mac = createCipheriv('chacha20-poly1305', POLY_KEY, POLY_NONCE, { authTagLength: 16 });
  mac.setAAD(data, { plaintextLength: 0 });
  mac.final();
  return mac.getAuthTag();
}

/** ChaCha20-Poly1305 is missing from FIPS builds of OpenSSL: there every key is SHA-256. */
const POLY_AVAILABLE = ((): boolean => {
  try {
    return poly1305(Buffer.alloc(1)).length === 16;
  } catch {
    return false;
  }
})();

/**
 * Content key for viewer caches: the size, and a digest of every pixel's bytes. Different
 * algorithms by size never mix up (the size is in the key). Rows are contiguous for every image
 * the display channel keys (imageRegion crops into a packed copy); others are packed first.
 */
function contentKey(img: PixelImage): string {
  const packed = packedImage(img);
  const bytes = packed.data.subarray(0, packed.width * 4 * packed.height);
  const size = `${img.width}x${img.height}:`;
  if (bytes.length <= SHA_KEY_MAX_BYTES || !POLY_AVAILABLE)
    return size + createHash('sha256').update(bytes).digest('base64');
  return size + poly1305(bytes).toString('base64');
}

function uniformRgb(img: PixelImage): number | null {
  // Whole 32-bit words where the buffer allows it (4-byte aligned): several times faster.
  const words = pixelWords(img);
  if (words) {
    const first = words[0]! & 0xffffff;
    const perRow = img.stride / 4;
    for (let y = 0; y < img.height; y++) {
      for (let i = y * perRow, end = i + img.width; i < end; i++) if ((words[i]! & 0xffffff) !== first) return null;
    }
    return first;
  }
  const d = img.data;
  const b0 = d[0]!;
  const b1 = d[1]!;
  const b2 = d[2]!;
  for (let y = 0; y < img.height; y++) {
    for (let o = y * img.stride, end = o + 4 * img.width; o < end; o += 4)
      if (d[o] !== b0 || d[o + 1] !== b1 || d[o + 2] !== b2) return null;
  }
  return b0 | (b1 << 8) | (b2 << 16);
}

/** What an item needs from the viewer it is sent to, asked at send time. */
export interface ViewerImaging {
  compression(): ImageCompression;
  cache(): ViewerImageCache | undefined;
  /** Whether an image may enter the cache the first time its content is seen (few viewers; default yes). */
  cacheOnFirstSight?(): boolean;
}

/**
 * DRAW_COPY of a shared image. At send time: a uniform image becomes DRAW_FILL; an image the
 * viewer already caches goes as FROM_CACHE (a descriptor, no pixels); otherwise the pixels go with
 * CACHE_ME, after an INVAL_LIST for whatever the viewer's cache must drop to make room. The image
 * has one id for every viewer, so all but FROM_CACHE and INVAL_LIST are the same bytes for
 * everybody and are encoded once (SharedImage.drawCopy).
 */
export function copyItem(shared: SharedImage, viewer: ViewerImaging): DrawItem {
  const rect = shared.rect;
  return {
    rect,
    kind: 'copy',
    weight: shared.pixels * 4,
    marshal: (): OutMessage | OutMessage[] => {
      const color = shared.uniformColor();
      if (color !== null) return shared.drawFill(color);
      const cache = viewer.cache();
      if (!cache || !cache.accepts(shared.pixels) || !shared.cacheAdmits(viewer.cacheOnFirstSight?.() ?? true))
        return shared.drawCopy(viewer.compression(), 0);
      const key = shared.key();
      const cached = cache.lookup(key);
      if (cached !== undefined) return shared.fromCache(cached);
      const evicted = cache.insert(key, shared.imageId, shared.pixels);
      const draw = shared.drawCopy(viewer.compression(), ImageFlags.CacheMe);
      return evicted.length > 0 ? [encodeInvalList(evicted), draw] : draw;
    },
  };
}

/**
 * DRAW_COPY of a shared image as JPEG. The encode starts now, on the threadpool, shared by every
 * viewer at this quality; the item holds its pipe until it is done (pending), so later draws keep
 * their order behind it. An image the encoder refuses goes losslessly.
 */
export function lossyCopyItem(shared: SharedImage, quality: number, viewer: ViewerImaging): DrawItem {
  const jpeg = shared.jpeg(quality);
  return {
    rect: shared.rect,
    kind: 'copy',
    weight: shared.pixels * 4,
    get pending() {
      return jpeg.settled ? undefined : jpeg.done;
    },
    marshal: () => (jpeg.payload ? shared.drawLossy(quality, jpeg.payload) : copyItem(shared, viewer).marshal()),
  };
}

/** A fresh image of the surface's current pixels in `rect` (captured now, encoded when sent). */
export function snapshotImage(surface: Surface, rect: Rect): SharedImage {
  const { w, h } = rectSize(rect);
  return new SharedImage(cropImage(surface, rect.left, rect.top, w, h), { x: 0, y: 0 }, rect);
}

function fixedItem(m: OutMessage): PipeItem {
  return { weight: 0, marshal: () => m };
}

export function surfaceCreateItem(surface: Surface): PipeItem {
  return fixedItem(
    encodeSurfaceCreate({
      surfaceId: 0,
      width: surface.width,
      height: surface.height,
      format: SurfaceFormat.Xrgb32,
      flags: SurfaceFlags.Primary,
    }),
  );
}

export function surfaceDestroyItem(): PipeItem {
  return fixedItem(encodeSurfaceDestroy(0));
}

export function monitorsConfigItem(surface: Surface): PipeItem {
  return fixedItem(
    encodeMonitorsConfig(
      [{ id: 0, surfaceId: 0, width: surface.width, height: surface.height, x: 0, y: 0, flags: 0 }],
      1,
    ),
  );
}
