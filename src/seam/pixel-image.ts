/**
 * Pixel images in SPICE's 32-bit surface layout: each pixel is a little-endian u32 0xXXRRGGBB, i.e.
 * bytes B, G, R, X in memory, rows top-down, `stride` bytes apart (stride >= 4 * width).
 * The X byte is alpha for images that carry one (cursors, RGBA bitmaps) and ignored otherwise.
 * It lives in the seam because commands carry images; the operations on them are in
 * src/display/pixels.ts.
 */
export interface PixelImage {
  readonly width: number;
  readonly height: number;
  readonly stride: number;
  /** At least stride * (height - 1) + 4 * width bytes. */
  readonly data: Buffer;
}
