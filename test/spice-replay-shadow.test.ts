import { describe, expect, it } from 'vitest';
import type { PixelImage } from '../src/display/pixels.js';
import { Surface } from '../src/display/surface.js';
import type { Rect } from '../src/protocol/geometry.js';
import { ShadowSurfaces } from '../src/sources/recording/spice-replay/shadow.js';

/*
 * The importer's shadow surfaces defer the exact ops until pixels are read, and blits read their
 * source as it was when the blit came (pinned versions). Random op sequences over a few surfaces
 * - fills, copies, copy-bits, blits between them, direct drawing (as rendering does), reads,
 * destroy and re-create - must leave the shadows equal to plain Surfaces given the same ops at
 * once.
 */

const IDS = [0, 1, 2, 3];
const SIZES: Record<number, [number, number]> = { 0: [12, 9], 1: [7, 5], 2: [9, 9], 3: [4, 6] };

/** Deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Model {
  readonly shadows = new ShadowSurfaces();
  readonly eager = new Map<number, Surface>();
  private readonly int: (n: number) => number;

  constructor(random: () => number) {
    this.int = (n) => Math.floor(random() * n);
    for (const id of IDS) this.create(id);
  }

  create(id: number): void {
    const [w, h] = SIZES[id]!;
    this.shadows.create(id, w, h, 32);
    this.eager.set(id, new Surface(id, w, h));
  }

  /** A rect that may stick out of the surface (the ops clip). */
  rect(id: number): Rect {
    const [w, h] = SIZES[id]!;
    const left = this.int(w + 2) - 1;
    const top = this.int(h + 2) - 1;
    return { left, top, right: left + 1 + this.int(w), bottom: top + 1 + this.int(h) };
  }

  image(): PixelImage {
    const width = 1 + this.int(6);
    const height = 1 + this.int(5);
    const data = Buffer.alloc(width * height * 4);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(this.int(0x1000000), i);
    return { width, height, stride: width * 4, data };
  }

  step(): void {
    const id = IDS[this.int(IDS.length)]!;
    const shadow = this.shadows.get(id)!;
    const eager = this.eager.get(id)!;
    switch (this.int(8)) {
      case 0: {
        const r = this.rect(id);
        const color = this.int(0x1000000);
        shadow.fill(r, color);
        eager.fill(r, color);
        return;
      }
      case 1: {
        const r = this.rect(id);
        const img = this.image();
        shadow.putImage(r, img);
        eager.putImage(r, img);
        return;
      }
      case 2: {
        const dest = this.rect(id);
        const src = { x: this.int(SIZES[id]![0]), y: this.int(SIZES[id]![1]) };
        shadow.copyBits(src, dest);
        eager.copyBits(src, dest);
        return;
      }
      case 3:
      case 4: {
        const from = IDS.filter((x) => x !== id)[this.int(IDS.length - 1)]!;
        const dest = this.rect(id);
        const src = { x: this.int(SIZES[from]![0]), y: this.int(SIZES[from]![1]) };
        shadow.blitFrom(this.shadows.get(from)!, src, dest);
        eager.blitFrom(this.eager.get(from)!, src, dest);
        return;
      }
      case 5: {
        // Rendering: draw into the pixels directly.
        shadow.prepareWrite();
        const raster = shadow.raster;
        const x = this.int(raster.width);
        const y = this.int(raster.height);
        const v = this.int(0x1000000);
        raster.pixels[y * raster.stride + x] = v;
        eager.pixels[y * eager.width + x] = v;
        return;
      }
      case 6:
        expect(Buffer.compare(shadow.surface.data, eager.data), `surface ${id} read mid-way`).toBe(0);
        return;
      case 7:
        this.shadows.destroy(id);
        this.create(id);
        return;
    }
  }

  checkAll(): void {
    for (const id of IDS)
      expect(Buffer.compare(this.shadows.get(id)!.surface.data, this.eager.get(id)!.data), `surface ${id}`).toBe(0);
  }
}

describe('spice-replay shadow surfaces: deferred ops', () => {
  it('match surfaces that apply every op at once (random sequences)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const model = new Model(prng(seed));
      const steps = 20 + (seed % 7) * 30;
      for (let i = 0; i < steps; i++) model.step();
      model.checkAll();
    }
  });

  it('a blit reads its source as it was, however late it is applied', () => {
    const surfaces = new ShadowSurfaces();
    const a = surfaces.create(1, 4, 4, 32);
    const b = surfaces.create(2, 4, 4, 32);
    a.fill({ left: 0, top: 0, right: 4, bottom: 4 }, 0x111111);
    b.blitFrom(a, { x: 0, y: 0 }, { left: 0, top: 0, right: 4, bottom: 4 });
    a.fill({ left: 0, top: 0, right: 4, bottom: 4 }, 0x222222);
    a.blitFrom(b, { x: 0, y: 0 }, { left: 0, top: 0, right: 2, bottom: 4 });
    surfaces.destroy(2);
    expect(a.surface.pixels[0]).toBe(0x111111);
    expect(a.surface.pixels[3]).toBe(0x222222);
  });
});
