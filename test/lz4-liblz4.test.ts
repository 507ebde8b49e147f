import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeDesktopImage } from '../bench/lz.js';
import { encodeLz4 } from '../src/display/lz4.js';
import { decodeLz4 } from '../src/display/lz4-decode.js';
import { allocImage, countRgbDifferences, type PixelImage } from '../src/display/pixels.js';
import { BitmapFormat } from '../src/protocol/constants.js';
import { renderLandscape } from '../src/sources/demo/photo.js';
import { lacking, skipNote, SYSTEM_PYTHON } from './helpers/probes.js';

/*
 * spiced's LZ4 against liblz4 (the library spice-gtk decodes with), through python's ctypes
 * (helpers/lz4-ref.py): an interop test, apart from the codec's own tests in lz4.test.ts.
 */

const REF = join(import.meta.dirname, 'helpers', 'lz4-ref.py');
const why = lacking('liblz4');

/** An image of `pixel(i)` for each pixel i in row order. */
function imageOf(width: number, height: number, pixel: (i: number) => number): PixelImage {
  const img = allocImage(width, height);
  for (let i = 0; i < width * height; i++) img.data.writeUInt32LE(pixel(i) >>> 0, i * 4);
  return img;
}

/** The B,G,R bytes of every pixel, rows packed: what a 24BIT LZ4 payload decodes to. */
function rgb24(img: PixelImage): Buffer {
  const out = Buffer.alloc(img.width * img.height * 3);
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++)
      img.data.copy(out, (y * img.width + x) * 3, y * img.stride + x * 4, y * img.stride + x * 4 + 3);
  return out;
}

describe.skipIf(why !== '')(`SPICE LZ4 against liblz4, the library spice-gtk decodes with${skipNote(why)}`, () => {
  it('liblz4 decodes every block this encoder writes to the exact 24-bit pixels', () => {
    for (const img of [
      makeDesktopImage(),
      renderLandscape(320, 240, 5),
      imageOf(17, 3, (i) => [0xab102030, 0xab405060, 0xab708090, 0xaba0b0c0][i % 4]!),
    ]) {
      const encoded = encodeLz4(img);
      const raw = rgb24(img);
      const r = spawnSync(SYSTEM_PYTHON, [REF, 'decompress', String(raw.length)], {
        input: encoded.subarray(6),
        maxBuffer: 64 << 20,
      });
      expect(r.status, r.stderr.toString()).toBe(0);
      expect(r.stdout.equals(raw)).toBe(true);
    }
  });

  it("this decoder reads liblz4's streamed blocks (spice-server's way: one per chunk, referring back)", () => {
    const img = makeDesktopImage();
    const raw = img.data; // 32BIT: B,G,R,X as the surface holds it
    const r = spawnSync(SYSTEM_PYTHON, [REF, 'compress', String(64 * 1024)], { input: raw, maxBuffer: 64 << 20 });
    expect(r.status, r.stderr.toString()).toBe(0);
    expect(r.stdout.length).toBeLessThan(raw.length / 4); // it did compress, across blocks
    const payload = Buffer.concat([Buffer.from([1, BitmapFormat.Bit32]), r.stdout]);
    expect(countRgbDifferences(decodeLz4(payload, img.width, img.height), img)).toBe(0);
  });
});
