import { BitmapFlags, BitmapFormat, ImageType } from '../protocol/constants.js';
import { encodeImageDescriptor, IMAGE_DESCRIPTOR_SIZE } from '../protocol/image.js';
import type { ImageCodec } from './image-choice.js';
import { encodeLz } from './lz.js';
import { encodeLz4 } from './lz4.js';
import { encodeQuic } from './quic.js';
import { cropImage, type PixelImage } from './pixels.js';

let lastImageId = 0;

/** Image ids stay below 2^31: spice-html5 reads them as signed 32-bit numbers. */
export function nextImageId(): bigint {
  lastImageId = lastImageId >= 0x7fffffff ? 1 : lastImageId + 1;
  return BigInt(lastImageId);
}

/** The part of `img` starting at (sx, sy) of the given size, as a packed image (no copy if it already is). */
export function imageRegion(img: PixelImage, sx: number, sy: number, width: number, height: number): PixelImage {
  if (sx === 0 && sy === 0 && width === img.width && height === img.height && img.stride === width * 4) return img;
  return cropImage(img, sx, sy, width, height);
}

/**
 * An encoded image without its descriptor: the type-specific header (LZ: u32 data_size; BITMAP:
 * format, flags, size, stride, palette ptr) and the payload. Shared between viewers, which each
 * add a descriptor with their own id and cache flags.
 */
export interface ImagePayload {
  type: number;
  width: number;
  height: number;
  head: Buffer;
  data: Buffer;
}

function binaryPayload(type: number, img: PixelImage, data: Buffer): ImagePayload {
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32LE(data.length, 0);
  return { type, width: img.width, height: img.height, head, data };
}

/** A JPEG image (SPICE_IMAGE_TYPE_JPEG: u32 data_size, the JFIF bytes), lossy: `jpeg` encodes `img`. */
export function jpegPayload(img: PixelImage, jpeg: Buffer): ImagePayload {
  return binaryPayload(ImageType.Jpeg, img, jpeg);
}

/**
 * Whether images may go lossy: `auto` (the default) sends photo-like images as JPEG to viewers whose
 * link is measured under a threshold, `lossy` to every viewer, `lossless` never. Lossy areas are
 * sent again losslessly once they stay unchanged for a moment.
 */
export type ImageQuality = 'auto' | 'lossless' | 'lossy';

export const IMAGE_QUALITIES: readonly ImageQuality[] = ['auto', 'lossless', 'lossy'];

/** `img` encoded as `codec` (chosen by chooseImageCodec). */
export function encodeImagePayload(img: PixelImage, codec: ImageCodec): ImagePayload {
  if (codec === 'quic') return binaryPayload(ImageType.Quic, img, encodeQuic(img));
  if (codec === 'lz') return binaryPayload(ImageType.LzRgb, img, encodeLz(img));
  if (codec === 'lz4') return binaryPayload(ImageType.Lz4, img, encodeLz4(img));
  const packed = img.stride === img.width * 4 ? img : cropImage(img, 0, 0, img.width, img.height);
  const head = Buffer.allocUnsafe(18);
  head[0] = BitmapFormat.Bit32;
  head[1] = BitmapFlags.TopDown;
  head.writeUInt32LE(img.width, 2);
  head.writeUInt32LE(img.height, 6);
  head.writeUInt32LE(img.width * 4, 10);
  head.writeUInt32LE(0, 14); // no palette
  return {
    type: ImageType.Bitmap,
    width: img.width,
    height: img.height,
    head,
    data: packed.data.subarray(0, img.width * img.height * 4),
  };
}

/** A SpiceImage as iovecs: [descriptor + type header, payload]. */
export function imageParts(p: ImagePayload, id: bigint, flags: number): Buffer[] {
  const head = Buffer.allocUnsafe(IMAGE_DESCRIPTOR_SIZE + p.head.length);
  encodeImageDescriptor(head, 0, { id, type: p.type, flags, width: p.width, height: p.height });
  p.head.copy(head, IMAGE_DESCRIPTOR_SIZE);
  return [head, p.data];
}
