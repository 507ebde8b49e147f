import { createHash, type Hash } from 'node:crypto';
import type { PixelImage } from '../../src/display/pixels.js';

/*
 * A canonical digest of a recording's command stream, to prove that a faster importer emits
 * exactly what the old one did: every command's timestamp and fields in a fixed order, and every
 * image as its width, height and pixel rows (the bytes each row shows, whatever stride or
 * backing buffer holds them). Stats are hashed with sorted keys, since only the counts matter.
 */

export interface TimedLike {
  readonly timeNs: bigint;
  readonly command: { readonly kind: string };
}

export interface StreamDigest {
  commands: number;
  sha256: string;
}

function isImage(v: unknown): v is PixelImage {
  return typeof v === 'object' && v !== null && 'data' in v && Buffer.isBuffer((v as PixelImage).data) && 'stride' in v;
}

/** Image pixels as the rows it shows; throws when the buffer is too short for its geometry. */
function hashImage(h: Hash, img: PixelImage): void {
  const row = img.width * 4;
  if (img.height > 0 && img.data.length < img.stride * (img.height - 1) + row) {
    throw new Error(`image ${img.width}x${img.height} stride ${img.stride} has only ${img.data.length} bytes`);
  }
  h.update(`img ${img.width}x${img.height}:`);
  for (let y = 0; y < img.height; y++) h.update(img.data.subarray(y * img.stride, y * img.stride + row));
}

/** Fields in key order, images replaced by their pixel digest (written into `h` as they come). */
function hashValue(h: Hash, v: unknown): void {
  if (isImage(v)) return hashImage(h, v);
  if (Array.isArray(v)) {
    h.update('[');
    for (const x of v) hashValue(h, x);
    h.update(']');
    return;
  }
  if (typeof v === 'object' && v !== null) {
    h.update('{');
    for (const k of Object.keys(v).sort()) {
      h.update(`${k}=`);
      hashValue(h, (v as Record<string, unknown>)[k]);
      h.update(';');
    }
    h.update('}');
    return;
  }
  h.update(typeof v === 'bigint' ? `${v}n` : (JSON.stringify(v) ?? 'undefined'));
}

/** One command's canonical digest (hex), for finding where two streams part. */
function commandDigest(c: TimedLike): string {
  const h = createHash('sha256');
  h.update(`${c.timeNs} `);
  hashValue(h, c.command);
  return h.digest('hex');
}

/** Digest of a whole stream plus its stats object. */
export async function streamDigest(commands: AsyncIterable<TimedLike>, stats?: () => unknown): Promise<StreamDigest> {
  const h = createHash('sha256');
  let n = 0;
  for await (const c of commands) {
    h.update(commandDigest(c));
    n++;
  }
  if (stats) hashValue(h, stats());
  return { commands: n, sha256: h.digest('hex') };
}
