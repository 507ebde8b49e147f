import { describe, expect, it } from 'vitest';
import { makeDesktopImage, makeNoiseImage, makePhotoImage } from '../bench/lz.js';
import { SharedImage, encodeStats } from '../src/channels/display-items.js';
import { SpiceClient } from '../src/client/client.js';
import { chooseImageCodec, lz4Pays } from '../src/display/image-choice.js';
import { encodeLz4 } from '../src/display/lz4.js';
import { decodeLz4 } from '../src/display/lz4-decode.js';
import { allocImage, countRgbDifferences, cropImage, sameRgb, type PixelImage } from '../src/display/pixels.js';
import { BitmapFormat, ChannelType } from '../src/protocol/constants.js';
import { SpiceServer } from '../src/server/server.js';
import { ManualSource } from './helpers/pattern-source.js';
import { renderLandscape } from '../src/sources/demo/photo.js';
import { expectBadImage } from './helpers/bad-image.js';

function imageOf(width: number, height: number, pixel: (i: number) => number): PixelImage {
  const img = allocImage(width, height);
  for (let i = 0; i < width * height; i++) img.data.writeUInt32LE(pixel(i) >>> 0, i * 4);
  return img;
}

/** Distinct 24-bit colours (an odd multiplier is a bijection modulo 2^24), X bytes set to junk. */
const distinct = (i: number): number => (Math.imul(i + 1, 0x9e3779) & 0xffffff) | 0xab000000;

function roundTrip(img: PixelImage): Buffer {
  const encoded = encodeLz4(img);
  const decoded = decodeLz4(encoded, img.width, img.height);
  expect(countRgbDifferences(decoded, img)).toBe(0);
  // X is 0 in what the decoder gives, as every other decoder of RGB images does.
  for (let i = 0; i < img.width * img.height; i++) if (decoded.data[i * 4 + 3] !== 0) throw new Error(`X of ${i}`);
  return encoded;
}

describe('SPICE LZ4 images', () => {
  it('round-trips UI, photo, noise and landscape images exactly, photos at memory-speed sizes', () => {
    for (const img of [makeDesktopImage(), makePhotoImage(), makeNoiseImage(), renderLandscape(640, 480, 2)]) {
      const encoded = roundTrip(img);
      // Header: top-down, 24BIT; then one block whose length is the rest of the payload.
      expect(encoded[0]).toBe(1);
      expect(encoded[1]).toBe(BitmapFormat.Bit24);
      expect(encoded.readUInt32BE(2)).toBe(encoded.length - 6);
      // Never much above the raw 24-bit size (LZ4's literal overhead is 1 byte in 255).
      expect(encoded.length).toBeLessThan(img.width * img.height * 3 * 1.01 + 32);
    }
  });

  it('compresses repeats: a flat screen and a repeated tile are a small fraction of their pixels', () => {
    const flat = imageOf(1024, 768, () => 0x336699);
    // LZ4 spends a length byte per 255 bytes of a match: a 2.3 MB run is some 9 KB.
    expect(roundTrip(flat).length).toBeLessThan((1024 * 768 * 3) / 250);
    const tiles = imageOf(512, 256, (i) => distinct((i % 512) % 16));
    expect(roundTrip(tiles).length).toBeLessThan(512 * 256 * 3 * 0.02);
  });

  it('handles the smallest images and the block-end rules at every width up to 40 pixels', () => {
    for (let w = 1; w <= 40; w++) {
      roundTrip(imageOf(w, 1, distinct));
      roundTrip(imageOf(w, 1, () => 0x010203)); // all one run: the end rules cut it short
      roundTrip(imageOf(w, 3, (i) => distinct(i % 3)));
    }
  });

  it('reads a padded image (stride above 4 x width) and an odd byte offset', () => {
    const big = makePhotoImage();
    const padded: PixelImage = { width: 300, height: 200, stride: big.stride, data: big.data };
    const decoded = decodeLz4(encodeLz4(padded), 300, 200);
    expect(countRgbDifferences(decoded, cropImage(big, 0, 0, 300, 200))).toBe(0);
    const packed = cropImage(big, 0, 0, 50, 40);
    const odd = Buffer.alloc(packed.data.length + 1);
    packed.data.copy(odd, 1);
    const shifted: PixelImage = { ...packed, data: odd.subarray(1) };
    expect(countRgbDifferences(decodeLz4(encodeLz4(shifted), 50, 40), packed)).toBe(0);
  });

  it('decodes 32BIT, RGBA and bottom-up payloads and several blocks referring back', () => {
    // 2x2 pixels, 32BIT bottom-up (the bottom row comes first), as two blocks.
    const rows = Buffer.from([1, 2, 3, 9, 4, 5, 6, 9, 7, 8, 9, 9]);
    const first = Buffer.concat([Buffer.from([0x80]), rows.subarray(0, 8)]); // 8 literals, nothing else
    const block2 = Buffer.concat([
      Buffer.from([0x40]), // 4 literals, then a match of 4 (low nibble 0)
      rows.subarray(8, 12),
      Buffer.from([12, 0]), // offset 12: back into the first block, to its first pixel
      Buffer.from([0x00]), // the closing sequence, without literals
    ]);
    const payload = Buffer.concat([
      Buffer.from([0, BitmapFormat.Bit32]),
      u32be(first.length),
      first,
      u32be(block2.length),
      block2,
    ]);
    const img = decodeLz4(payload, 2, 2);
    // Top row = the second block: 7,8,9 then the copy of 1,2,3; bottom row = the first block.
    expect([...img.data]).toEqual([7, 8, 9, 0, 1, 2, 3, 0, 1, 2, 3, 0, 4, 5, 6, 0]);
    const rgba = Buffer.concat([Buffer.from([1, BitmapFormat.Rgba]), u32be(5), Buffer.from([0x40, 1, 2, 3, 200])]);
    expect([...decodeLz4(rgba, 1, 1).data]).toEqual([1, 2, 3, 200]);
  });

  it('refuses broken payloads with BAD_IMAGE, as spice-gtk refuses them', () => {
    const ok = encodeLz4(imageOf(8, 8, distinct));
    const decode = (w: number, h: number) => (d: Buffer) => decodeLz4(d, w, h);
    expectBadImage(decode(8, 8), ok.subarray(0, 1), /header needs 2/);
    expectBadImage(decode(8, 8), Buffer.from([1, BitmapFormat.Bit16, 0, 0, 0, 0]), /format 6 is not decoded/);
    expectBadImage(decode(8, 8), ok.subarray(0, ok.length - 3), /block of \d+ bytes/);
    expectBadImage(decode(8, 9), ok, /decode to 192 bytes, a 8x9 image has 216/);
    expectBadImage(decode(8, 7), ok, /overrun the image/);
    const block = (b: number[]): Buffer =>
      Buffer.concat([Buffer.from([1, BitmapFormat.Bit24]), u32be(b.length), Buffer.from(b)]);
    expectBadImage(decode(2, 1), block([0x10, 1, 0, 0]), /match offset 0/);
    expectBadImage(decode(3, 1), block([0x30, 1, 2, 3, 4, 0, 0x10, 1]), /match offset 4 at output byte 3/);
    expectBadImage(decode(2, 1), block([0x30, 1, 2, 3, 3]), /ends inside a match offset/);
    expectBadImage(decode(2, 1), block([0xf0]), /inside a literal length/);
    expectBadImage(decode(2, 1), block([0x70, 1, 2]), /7 literals at byte/);
    expectBadImage(decode(1, 1), block([0x00]), /an empty block/);
  });
});

describe('LZ4 in the image choice', () => {
  it('a viewer asking for LZ4 gets photos as LZ4 and UI content as LZ, the others QUIC and LZ', () => {
    const photo = renderLandscape(320, 240, 1);
    const ui = makeDesktopImage();
    expect(chooseImageCodec(photo, 'auto')).toBe('quic');
    expect(chooseImageCodec(photo, 'lz4')).toBe('lz4');
    expect(chooseImageCodec(ui, 'auto')).toBe('lz');
    expect(chooseImageCodec(ui, 'lz4')).toBe('lz');
  });

  it('an image is encoded once per codec: LZ4 and auto viewers share the LZ payload of UI content', () => {
    const rect = (img: PixelImage) => ({ top: 0, left: 0, bottom: img.height, right: img.width });
    const ui = makeDesktopImage();
    const shared = new SharedImage(ui, { x: 0, y: 0 }, rect(ui));
    const before = encodeStats.images;
    const a = shared.drawCopy('auto', 0);
    const b = shared.drawCopy('lz4', 0);
    expect(encodeStats.images - before).toBe(1);
    expect(b).toBe(a);
    const photo = renderLandscape(320, 240, 3);
    const sp = new SharedImage(photo, { x: 0, y: 0 }, rect(photo));
    const quic = sp.drawCopy('auto', 0);
    const lz4 = sp.drawCopy('lz4', 0);
    expect(encodeStats.images - before).toBe(3);
    expect(lz4).not.toBe(quic);
  });
});

describe('LZ4 photos by the link', () => {
  it('pay on a measured link of 100 Mbit/s and more, or on a LAN-like round trip before any measure', () => {
    const MBIT = 1e6 / 8;
    expect(lz4Pays({ bandwidth: 1000 * MBIT, measured: true, minRttMs: 0.05 })).toBe(true);
    expect(lz4Pays({ bandwidth: 100 * MBIT, measured: true, minRttMs: 30 })).toBe(true);
    // A namespace link shaped to 10 Mbit/s has a tiny idle round trip: the measure decides.
    expect(lz4Pays({ bandwidth: 10 * MBIT, measured: true, minRttMs: 0.05 })).toBe(false);
    expect(lz4Pays({ bandwidth: 10 * MBIT, measured: false, minRttMs: 0.3 })).toBe(true);
    expect(lz4Pays({ bandwidth: 10 * MBIT, measured: false, minRttMs: 25 })).toBe(false);
    expect(lz4Pays({ bandwidth: 10 * MBIT, measured: false, minRttMs: undefined })).toBe(false);
  });

  /**
   * A photo of `width` x `height` drawn to viewers that ask for LZ4 or not (`lz4s`), each then
   * pixel-exact: the encodes it cost by codec and the draws each viewer got.
   */
  async function photoTo(
    lz4s: boolean[],
    width: number,
    height: number,
    seed: number,
  ): Promise<{ lz4: number; quic: number; draws: number[] }> {
    const source = new ManualSource(width, height);
    const server = new SpiceServer({ source, port: 0, listen: '127.0.0.1', warmUp: false });
    await server.start();
    const count = (c: 'lz4' | 'quic'): number => encodeStats.byCodec.get(c) ?? 0;
    const viewers = lz4s.map((lz4) => new SpiceClient({ port: server.port, channels: [ChannelType.Display], lz4 }));
    try {
      for (const v of viewers) await v.connect();
      for (const v of viewers) await v.waitFor(() => v.display.marks > 0, 5000, 'first screen');
      const before = { lz4: count('lz4'), quic: count('quic'), draws: viewers.map((v) => v.display.draws) };
      const dest = { top: 0, left: 0, bottom: height, right: width };
      source.sink.display({ kind: 'copy', surfaceId: 0, dest, image: renderLandscape(width, height, seed) });
      for (const v of viewers)
        await v.waitFor(() => sameRgb(v.display.primary!, server.desktop.primary!), 10_000, 'the photo');
      return {
        lz4: count('lz4') - before.lz4,
        quic: count('quic') - before.quic,
        draws: viewers.map((v, i) => v.display.draws - before.draws[i]!),
      };
    } finally {
      for (const v of viewers) v.close();
      await server.stop();
    }
  }

  it('a loopback viewer asking for LZ4 gets photos as LZ4, pixel-exact; one that cannot decode it gets QUIC', async () => {
    // One encode per codec: LZ4 for the viewer that asked, QUIC for the other.
    expect(await photoTo([true, false], 320, 240, 7)).toMatchObject({ lz4: 1, quic: 1 });
  });

  it('viewers asking for LZ4 get a full-screen photo in bands (encoded once for both), the others whole', async () => {
    // 128 rows of 1024 pixels a band: six DRAW_COPYs for each LZ4 viewer, the same six encodes for both.
    expect(await photoTo([true, true, false], 1024, 768, 8)).toEqual({ lz4: 6, quic: 1, draws: [6, 6, 1] });
  });
});

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
