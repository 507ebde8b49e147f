import type { PixelImage } from '../../display/pixels.js';
import { VISUAL_TRUE_COLOR, type ServerInfo, type ScreenInfo } from './setup.js';

/*
 * ZPixmap images as the server returns them, and their conversion to spiced's B,G,R,X layout.
 * The common case (depth 24 or 32 TrueColor, 32 bits per pixel, masks ff0000/ff00/ff, LSB-first
 * image byte order: Xvfb and every x86 Xorg) already is that layout, so the reply bytes become
 * the image without copying. Other TrueColor layouts with 16, 24 or 32 bits per pixel are
 * converted pixel by pixel; PseudoColor and friends are refused.
 */

export interface PixelLayout {
  readonly depth: number;
  readonly bitsPerPixel: number;
  readonly scanlinePad: number;
  readonly byteOrder: 'lsb' | 'msb';
  readonly redMask: number;
  readonly greenMask: number;
  readonly blueMask: number;
}

/** The root window's pixel layout, or an error saying why spiced cannot use it. */
export function rootPixelLayout(info: ServerInfo, screen: ScreenInfo): PixelLayout {
  const visual = screen.visuals.find((v) => v.id === screen.rootVisual);
  if (!visual) throw new Error(`root visual 0x${screen.rootVisual.toString(16)} is not in the setup reply`);
  if (visual.visualClass !== VISUAL_TRUE_COLOR) {
    throw new Error(
      `root visual class ${visual.visualClass} is not TrueColor; spiced captures TrueColor displays only (run Xvfb with -screen 0 WxHx24)`,
    );
  }
  const format = info.pixmapFormats.find((f) => f.depth === screen.rootDepth);
  if (!format) throw new Error(`no pixmap format for root depth ${screen.rootDepth}`);
  if (![16, 24, 32].includes(format.bitsPerPixel)) {
    throw new Error(
      `root depth ${screen.rootDepth} uses ${format.bitsPerPixel} bits per pixel; only 16, 24 and 32 are supported`,
    );
  }
  return {
    depth: screen.rootDepth,
    bitsPerPixel: format.bitsPerPixel,
    scanlinePad: format.scanlinePad,
    byteOrder: info.imageByteOrder,
    redMask: visual.redMask,
    greenMask: visual.greenMask,
    blueMask: visual.blueMask,
  };
}

/** Bytes per row of a ZPixmap `width` pixels wide. */
export function zpixmapStride(layout: PixelLayout, width: number): number {
  const bits = width * layout.bitsPerPixel;
  const pad = layout.scanlinePad;
  return (Math.ceil(bits / pad) * pad) / 8;
}

/** True when ZPixmap bytes already are B,G,R,X. */
function isNativeLayout(layout: PixelLayout): boolean {
  return (
    layout.bitsPerPixel === 32 &&
    layout.byteOrder === 'lsb' &&
    layout.redMask === 0xff0000 &&
    layout.greenMask === 0x00ff00 &&
    layout.blueMask === 0x0000ff
  );
}

/**
 * Turn a ZPixmap (as received) into a PixelImage. Native layouts are wrapped without copying,
 * so the image shares `data` (callers must hand over a buffer nobody writes to afterwards).
 */
export function zpixmapToImage(layout: PixelLayout, data: Buffer, width: number, height: number): PixelImage {
  const stride = zpixmapStride(layout, width);
  if (data.length < stride * height) throw new Error(`ZPixmap of ${data.length} bytes is short for ${width}x${height}`);
  if (isNativeLayout(layout)) return { width, height, stride, data };
  return convertImage(layout, data, stride, width, height);
}

interface Channel {
  readonly shift: number;
  readonly bits: number;
}

function channel(mask: number): Channel {
  if (mask === 0) throw new Error('TrueColor visual with an empty colour mask');
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  let bits = 0;
  while (((mask >>> (shift + bits)) & 1) === 1) bits++;
  return { shift, bits };
}

/** A lookup table from an n-bit channel value to 8 bits (replicating high bits into the low ones). */
function scaleTable(bits: number): Uint8Array {
  const max = (1 << bits) - 1;
  const table = new Uint8Array(max + 1);
  for (let v = 0; v <= max; v++) table[v] = Math.round((v * 255) / max);
  return table;
}

function convertImage(layout: PixelLayout, data: Buffer, stride: number, width: number, height: number): PixelImage {
  const r = channel(layout.redMask);
  const g = channel(layout.greenMask);
  const b = channel(layout.blueMask);
  const rt = scaleTable(r.bits);
  const gt = scaleTable(g.bits);
  const bt = scaleTable(b.bits);
  const bytesPerPixel = layout.bitsPerPixel / 8;
  const read = pixelReader(bytesPerPixel, layout.byteOrder);
  const out = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    let src = y * stride;
    let dst = y * width * 4;
    for (let x = 0; x < width; x++, src += bytesPerPixel, dst += 4) {
      const p = read(data, src);
      out[dst] = bt[(p >>> b.shift) & ((1 << b.bits) - 1)]!;
      out[dst + 1] = gt[(p >>> g.shift) & ((1 << g.bits) - 1)]!;
      out[dst + 2] = rt[(p >>> r.shift) & ((1 << r.bits) - 1)]!;
    }
  }
  return { width, height, stride: width * 4, data: out };
}

function pixelReader(bytes: number, order: 'lsb' | 'msb'): (buf: Buffer, at: number) => number {
  const lsb = order === 'lsb';
  if (bytes === 4) return lsb ? (buf, at) => buf.readUInt32LE(at) : (buf, at) => buf.readUInt32BE(at);
  if (bytes === 2) return lsb ? (buf, at) => buf.readUInt16LE(at) : (buf, at) => buf.readUInt16BE(at);
  return lsb ? (buf, at) => buf.readUIntLE(at, 3) : (buf, at) => buf.readUIntBE(at, 3);
}
