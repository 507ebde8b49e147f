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

  it('of an image is computed once for the detector and the codec choice', () => {
    const img = makePhotoImage(64, 64, 4);
    const first = sharedCodecEstimate(img);
    expect(sharedCodecEstimate(img)).toBe(first);
    expect(first).toEqual(estimateCodecCosts(img));
  });
});
