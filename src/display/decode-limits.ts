import { ProtocolError } from '../protocol/errors.js';

/**
 * How big an image a decoder of peer bytes may produce. LZ and QUIC can describe a large uniform
 * image in a few bytes, so checking the header against the data's length alone still lets a small
 * message claim gigabytes; the caller, which knows where the image goes (a surface, a record of
 * known size), caps it, and the check comes before the pixels are allocated.
 */
export interface ImageDecodeLimits {
  /** Largest width x height accepted; default MAX_DECODED_PIXELS. */
  maxPixels?: number;
}

/** The largest surface spiced makes (16384 x 16384, 1 GiB of pixels): nothing it draws is bigger. */
const MAX_DECODED_PIXELS = 16384 * 16384;

/** Throws BAD_IMAGE when `width` x `height` is above the caller's limit. */
export function checkPixelLimit(
  codec: string,
  width: number,
  height: number,
  limits: ImageDecodeLimits | undefined,
): void {
  const max = limits?.maxPixels ?? MAX_DECODED_PIXELS;
  if (width * height > max)
    throw new ProtocolError('BAD_IMAGE', `${codec}: ${width}x${height} is above the limit of ${max} pixels`);
}
