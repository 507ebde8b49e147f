import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { estimateCodecCosts, sharedCodecEstimate } from '../src/display/image-choice.js';
import type { PixelImage } from '../src/display/pixels.js';
import { makeDesktopImage, makeNoiseImage, makePhotoImage } from '../bench/lz.js';
import { gradient } from './helpers/pattern-source.js';

/** The same pixels at an odd byte offset: no 32-bit view is possible, so the byte-wise sampler runs. */
function unaligned(img: PixelImage): PixelImage {
  const bytes = img.stride * img.height;
  const data = Buffer.alloc(bytes + 1).subarray(1);
  img.data.copy(data, 0, 0, bytes);
  return { width: img.width, height: img.height, stride: img.stride, data };
}

describe('the codec estimate', () => {
  it('is the same whether pixels are read as words or as bytes', () => {
    const images = [
      makePhotoImage(320, 240, 2),
      makeDesktopImage(640, 400, 1),
      makeNoiseImage(97, 61, 3),
      gradient(33, 17, 5),
    ];
    for (const img of images) {
      const words = estimateCodecCosts(img);
      expect(words.samples).toBeGreaterThan(0);
      expect(estimateCodecCosts(unaligned(img))).toEqual(words);
    }
  });

  it('of any image, flat runs, repeated rows and noise mixed, is the same to the last bit on words and on bytes', () => {
    // Pixels drawn from a few colours (flat runs, rows that repeat the one above) or at random.
    const image = fc.record({
      w: fc.integer({ min: 1, max: 90 }),
      h: fc.integer({ min: 1, max: 70 }),
      seed: fc.integer(),
      palette: fc.integer({ min: 0, max: 6 }),
    });
    fc.assert(
      fc.property(image, ({ w, h, seed, palette }) => {
        const img = makeNoiseImage(w, h, seed);
        const px = new Uint32Array(img.data.buffer, img.data.byteOffset, w * h);
        // palette 0: noise as it is; otherwise each pixel one of `palette` colours, or the one above.
        if (palette > 0)
          for (let i = 0; i < px.length; i++)
            px[i] = i >= w && px[i]! % 3 === 0 ? px[i - w]! : (px[i]! % palette) * 0x3f2a1b;
        expect(estimateCodecCosts(img)).toEqual(estimateCodecCosts(unaligned(img)));
      }),
      { numRuns: 500 },
    );
  });

  it('of an image is computed once for the detector and the codec choice', () => {
    const img = makePhotoImage(64, 64, 4);
    const first = sharedCodecEstimate(img);
    expect(sharedCodecEstimate(img)).toBe(first);
    expect(first).toEqual(estimateCodecCosts(img));
  });
});
