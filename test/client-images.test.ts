import { describe, expect, it } from 'vitest';
import { decodeClientImage } from '../src/client/images.js';
import { ImageType } from '../src/protocol/constants.js';
import { ProtocolError } from '../src/protocol/errors.js';
import { encodeJpeg } from '../src/video/jpeg.js';

/*
 * Image kinds the project's viewer decodes besides its own server's: spice-server sends lossy images
 * with alpha (JPEG_ALPHA) on links it takes as WAN, and the video bench watches it with this viewer.
 */

/** A 16x8 JPEG, left half red and right half blue. */
async function redBlue(): Promise<Buffer> {
  const rgb = Buffer.alloc(16 * 8 * 3);
  for (let i = 0; i < 16 * 8; i++) rgb.set(i % 16 < 8 ? [255, 0, 0] : [0, 0, 255], 3 * i);
  return encodeJpeg(rgb, 16, 8, 90);
}

function jpegAlpha(jpeg: Buffer, jpegSize: number) {
  const alpha = Buffer.from([1, 2, 3, 4]); // the alpha plane's LZ bytes, never read
  return {
    kind: 'jpegAlpha' as const,
    descriptor: { id: 1n, type: ImageType.JpegAlpha, flags: 0, width: 16, height: 8 },
    alphaFlags: 0,
    jpegSize,
    data: Buffer.concat([jpeg, alpha]),
  };
}

describe('client images', () => {
  it('draws the colour of a JPEG_ALPHA image (its JPEG part)', async () => {
    const jpeg = await redBlue();
    const out = decodeClientImage(jpegAlpha(jpeg, jpeg.length), new Map(), () => undefined);
    expect([out.width, out.height]).toEqual([16, 8]);
    const px = (x: number, y: number) => [...out.data.subarray(y * out.stride + 4 * x, y * out.stride + 4 * x + 3)];
    // BGR bytes, within JPEG's error of pure red and pure blue.
    const [b0, g0, r0] = px(2, 4);
    const [b1, g1, r1] = px(13, 4);
    expect(r0).toBeGreaterThan(230);
    expect(Math.max(g0!, b0!)).toBeLessThan(30);
    expect(b1).toBeGreaterThan(230);
    expect(Math.max(g1!, r1!)).toBeLessThan(30);
  });

  it('refuses one whose JPEG size runs past its data', async () => {
    const jpeg = await redBlue();
    expect(() => decodeClientImage(jpegAlpha(jpeg, jpeg.length + 10), new Map(), () => undefined)).toThrow(
      ProtocolError,
    );
  });
});
