import { decodeBmp, encodeBmp, hasTransparency } from '../../display/bmp.js';
import { checkPixelLimit } from '../../display/decode-limits.js';
import { decodePng, encodePng } from '../../display/png.js';
import type { ClipboardType } from '../../seam/index.js';

/*
 * Images that cross between a viewer and X in a format one side lacks. X applications paste
 * image/png (browsers, GTK and Qt applications all read it; few read image/bmp), so a viewer that
 * offers only BMP (a bitmap from a Windows client) is offered to X as PNG too, converted when an
 * application asks for it; and a desktop that offers only PNG is offered to viewers as BMP too,
 * for a client that wants a bitmap. spice-vdagent passes each format through under its own names
 * only, so there a BMP-only paste reaches few X applications.
 */

/**
 * Largest image converted, in pixels (64 MiB of them): every 24- or 32-bit bitmap within the
 * clipboard's 16 MiB limit fits, and a small file claiming a huge image is refused before any
 * pixel is allocated.
 */
const MAX_CONVERTED_PIXELS = 16 << 20;

/** The types X applications may ask for while a viewer offers `offered`: PNG too when it has BMP. */
export function typesForX(offered: readonly ClipboardType[]): ClipboardType[] {
  return offered.includes('bmp') && !offered.includes('png') ? [...offered, 'png'] : [...offered];
}

/** The viewer's type that answers an X request for `wanted`, or undefined when none can. */
export function viewerTypeFor(wanted: ClipboardType, offered: readonly ClipboardType[]): ClipboardType | undefined {
  if (offered.includes(wanted)) return wanted;
  return wanted === 'png' && offered.includes('bmp') ? 'bmp' : undefined;
}

/** The desktop's offer (type -> the target to ask for) as viewers see it: BMP too when it has PNG. */
export function typesForViewers<T>(offered: ReadonlyMap<ClipboardType, T>): Map<ClipboardType, T> {
  const out = new Map(offered);
  const png = offered.get('png');
  if (png !== undefined && !offered.has('bmp')) out.set('bmp', png);
  return out;
}

/** Convert image data between PNG and BMP (the only pair spiced converts). */
export function convertImage(data: Uint8Array, from: ClipboardType, to: ClipboardType): Uint8Array {
  if (from === 'bmp' && to === 'png') {
    const { image, alpha } = decodeBmp(data, { maxPixels: MAX_CONVERTED_PIXELS });
    // Level 1: the PNG goes to a local X client, where a few more bytes cost less than a longer stall.
    return encodePng(image, { alpha, level: 1 });
  }
  if (from === 'png' && to === 'bmp') {
    const file = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    // IHDR is the first chunk: width and height at bytes 16 and 20, checked before decoding.
    if (file.length >= 24)
      checkPixelLimit('PNG', file.readUInt32BE(16), file.readUInt32BE(20), { maxPixels: MAX_CONVERTED_PIXELS });
    const image = decodePng(file);
    return encodeBmp(image, hasTransparency(image));
  }
  throw new Error(`no conversion from ${from} to ${to}`);
}
