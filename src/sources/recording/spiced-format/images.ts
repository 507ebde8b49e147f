import { decodeLz } from '../../../display/lz-decode.js';
import { encodeLz, LzImageType } from '../../../display/lz.js';
import { packedImage, type PixelImage } from '../../../display/pixels.js';
import { RecordingFormatError, type ByteCursor, type ByteWriter } from './bytes.js';

/*
 * Pixel images inside records (copy images and cursor shapes).
 *
 *   Image := coding u8 | width uvarint | height uvarint | length uvarint | data[length]
 *     coding 0  raw       data = width * height * 4 bytes: B, G, R, X per pixel, rows top-down, packed
 *     coding 1  lz-rgb32  data = a SPICE LZ stream of type RGB32 (lz.ts); every X byte is 0
 *     coding 2  lz-rgba   data = a SPICE LZ stream of type RGBA; the X byte (alpha) is kept
 *
 * Every coding reproduces the image's pixel bytes exactly (all four bytes of every pixel); only row
 * padding (stride > 4 * width) is not kept, since it holds no pixels.
 *
 * The recorder stores raw pixels by default: the brotli body then finds the repetition across
 * images (the same glyphs, the same window redrawn) that LZ output hides, the files come out
 * smaller over the sample recordings, and the live path pays only a copy instead of an LZ encode.
 * LZ ('lz') is smaller for text-only sessions and keeps the decompressed stream much smaller.
 * docs/recording-format.md has the measurements.
 */

export const ImageCoding = { Raw: 0, LzRgb32: 1, LzRgba: 2 } as const;

/** How the writer stores images: raw pixels left to the body compression (default), or SPICE LZ. */
export type ImageStorage = 'lz' | 'raw';

/** Is the fourth byte of every pixel zero (so RGB32 LZ, which drops it, loses nothing)? */
function xBytesAreZero(img: PixelImage): boolean {
  const { width, height, stride, data } = img;
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    for (let x = 3; x < width * 4; x += 4) if (data[row + x] !== 0) return false;
  }
  return true;
}

export function writeImage(w: ByteWriter, img: PixelImage, storage: ImageStorage, what: string): void {
  const n = img.width * img.height;
  if (storage === 'raw' || n === 0) {
    const packed = packedImage(img);
    w.u8(ImageCoding.Raw).uvarint(img.width, `${what} width`).uvarint(img.height, `${what} height`);
    w.uvarint(n * 4, `${what} length`).bytes(packed.data.subarray(0, n * 4));
    return;
  }
  const rgb32 = xBytesAreZero(img);
  const data = encodeLz(img, { type: rgb32 ? 'rgb32' : 'rgba' });
  w.u8(rgb32 ? ImageCoding.LzRgb32 : ImageCoding.LzRgba)
    .uvarint(img.width, `${what} width`)
    .uvarint(img.height, `${what} height`);
  w.uvarint(data.length, `${what} length`).bytes(data);
}

export function readImage(c: ByteCursor, where: string): PixelImage {
  const coding = c.u8('image coding');
  const width = c.uvarint('image width');
  const height = c.uvarint('image height');
  const length = c.uvarint('image length');
  const data = c.bytes(length, 'image data');
  switch (coding) {
    case ImageCoding.Raw:
      if (length !== width * height * 4)
        throw new RecordingFormatError(
          `${where}: raw ${width}x${height} image has ${length} bytes, expected ${width * height * 4}`,
        );
      // Copy: the payload is a view into a decompression buffer that is reused.
      return { width, height, stride: width * 4, data: Buffer.from(data) };
    case ImageCoding.LzRgb32:
    case ImageCoding.LzRgba:
      return decodeLzImage(data, coding, width, height, where);
    default:
      throw new RecordingFormatError(`${where}: unknown image coding ${coding}`);
  }
}

function decodeLzImage(data: Buffer, coding: number, width: number, height: number, where: string): PixelImage {
  let decoded;
  try {
    // The record's own size caps the allocation (the LZ header must agree with it anyway).
    decoded = decodeLz(data, { maxPixels: width * height });
  } catch (err) {
    throw new RecordingFormatError(`${where}: bad LZ image: ${err instanceof Error ? err.message : String(err)}`);
  }
  const expectedType = coding === ImageCoding.LzRgb32 ? LzImageType.Rgb32 : LzImageType.Rgba;
  if (decoded.type !== expectedType || decoded.width !== width || decoded.height !== height) {
    throw new RecordingFormatError(
      `${where}: LZ image is type ${decoded.type} ${decoded.width}x${decoded.height}, the record says type ${expectedType} ${width}x${height}`,
    );
  }
  return decoded.image;
}
