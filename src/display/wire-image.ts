import { BitmapFormat, ImageType } from '../protocol/constants.js';
import { encodeBinaryImage, encodeBitmapImage, type ImageDescriptor } from '../protocol/image.js';
import { encodeLz } from './lz.js';
import { cropImage, type PixelImage } from './pixels.js';

/**
 * How images travel to viewers. `lz` (SPICE LZ, RGB32) is lossless and decoded by spice-gtk and
 * spice-html5 alike; `off` sends uncompressed 32-bit bitmaps (stride = 4 x width, as html5 needs).
 */
export type ImageCompression = 'lz' | 'off';

export function parseImageCompression(s: string): ImageCompression {
  if (s === 'lz' || s === 'off') return s;
  throw new Error(`unknown image compression "${s}" (expected lz|off)`);
}

let lastImageId = 0;

/** Image ids stay below 2^31: spice-html5 reads them as signed 32-bit numbers. */
export function nextImageId(): bigint {
  lastImageId = lastImageId >= 0x7fffffff ? 1 : lastImageId + 1;
  return BigInt(lastImageId);
}

/** The part of `img` starting at (sx, sy) of the given size, as a packed image (no copy if it already is). */
export function imageRegion(img: PixelImage, sx: number, sy: number, width: number, height: number): PixelImage {
  if (sx === 0 && sy === 0 && width === img.width && height === img.height) return img;
  return cropImage(img, sx, sy, width, height);
}

/** A SpiceImage for `img` as iovecs: [descriptor + header, payload]. */
export function encodeWireImage(img: PixelImage, compression: ImageCompression): Buffer[] {
  const id = nextImageId();
  if (compression === 'lz') {
    const data = encodeLz(img);
    const d: ImageDescriptor = { id, type: ImageType.LzRgb, flags: 0, width: img.width, height: img.height };
    return encodeBinaryImage(d, data);
  }
  const packed = img.stride === img.width * 4 ? img : cropImage(img, 0, 0, img.width, img.height);
  const d: ImageDescriptor = { id, type: ImageType.Bitmap, flags: 0, width: img.width, height: img.height };
  const bytes = packed.data.subarray(0, packed.width * packed.height * 4);
  return encodeBitmapImage(d, BitmapFormat.Bit32, packed.width * 4, bytes);
}
