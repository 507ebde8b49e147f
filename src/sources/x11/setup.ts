import { Reader } from '../../protocol/reader.js';
import { Writer, pad4, paddedString, skip } from './wire.js';

/*
 * Connection setup (X11 protocol, section 8 "Connection Setup").
 *
 * Request:
 *   byte-order u8 ('l' = 0x6c little-endian), unused u8, protocol-major u16 (11),
 *   protocol-minor u16 (0), auth-name length u16, auth-data length u16, unused u16,
 *   auth name (padded to 4), auth data (padded to 4)
 *
 * Response header (8 bytes): status u8 (0 Failed, 1 Success, 2 Authenticate), reason length u8
 * (Failed only), protocol-major u16, protocol-minor u16, additional data length u16 in 4-byte units.
 *
 * Success body: release u32, resource-id-base u32, resource-id-mask u32, motion-buffer-size u32,
 * vendor length u16, maximum-request-length u16, screens u8, formats u8, image-byte-order u8,
 * bitmap-bit-order u8, scanline-unit u8, scanline-pad u8, min-keycode u8, max-keycode u8, unused 4,
 * vendor (padded), FORMAT[formats] (depth u8, bits-per-pixel u8, scanline-pad u8, unused 5),
 * SCREEN[screens]:
 *   root u32, default-colormap u32, white-pixel u32, black-pixel u32, current-input-masks u32,
 *   width/height in pixels u16 u16, width/height in mm u16 u16, min/max-installed-maps u16 u16,
 *   root-visual u32, backing-stores u8, save-unders u8, root-depth u8, allowed-depths count u8,
 *   DEPTH[]: depth u8, unused u8, visuals count u16, unused 4,
 *     VISUALTYPE[]: visual-id u32, class u8, bits-per-rgb u8, colormap-entries u16,
 *                   red-mask u32, green-mask u32, blue-mask u32, unused 4
 */

export interface PixmapFormat {
  readonly depth: number;
  readonly bitsPerPixel: number;
  readonly scanlinePad: number;
}

export interface VisualInfo {
  readonly id: number;
  readonly depth: number;
  /** 4 = TrueColor, 5 = DirectColor, ... */
  readonly visualClass: number;
  readonly bitsPerRgb: number;
  readonly redMask: number;
  readonly greenMask: number;
  readonly blueMask: number;
}

export interface ScreenInfo {
  readonly root: number;
  readonly width: number;
  readonly height: number;
  readonly rootDepth: number;
  readonly rootVisual: number;
  readonly visuals: readonly VisualInfo[];
}

export interface ServerInfo {
  readonly protocolMajor: number;
  readonly protocolMinor: number;
  readonly vendor: string;
  readonly release: number;
  readonly resourceIdBase: number;
  readonly resourceIdMask: number;
  /** In 4-byte units, as the server announced it (BIG-REQUESTS may raise it). */
  readonly maxRequestLength: number;
  /** 'lsb' or 'msb': the byte order of pixels in images, independent of the connection's. */
  readonly imageByteOrder: 'lsb' | 'msb';
  readonly minKeycode: number;
  readonly maxKeycode: number;
  readonly pixmapFormats: readonly PixmapFormat[];
  readonly screens: readonly ScreenInfo[];
}

export const SETUP_HEADER_BYTES = 8;
export const VISUAL_TRUE_COLOR = 4;

export function encodeSetupRequest(auth: { name: string; data: Buffer } | null): Buffer {
  const name = auth?.name ?? '';
  const data = auth?.data ?? Buffer.alloc(0);
  const w = new Writer(12 + name.length + data.length + 8);
  w.u8(0x6c).u8(0).u16(11).u16(0).u16(name.length).u16(data.length).u16(0);
  paddedString(w, name);
  w.bytes(data);
  skip(w, pad4(data.length));
  return w.finish();
}

/** Total size of the setup response given its first 8 bytes. */
export function setupResponseBytes(header: Buffer): number {
  return SETUP_HEADER_BYTES + header.readUInt16LE(6) * 4;
}

/** Decode the full setup response; throws with the server's reason when it refused us. */
export function decodeSetupResponse(buf: Buffer): ServerInfo {
  const status = buf[0];
  if (status === 0) {
    const reason = buf
      .subarray(8, 8 + buf[1]!)
      .toString('latin1')
      .trim();
    throw new Error(`X server refused the connection: ${reason || 'no reason given'}`);
  }
  if (status === 2) {
    const reason = buf.subarray(8).toString('latin1').replace(/\0+$/, '').trim();
    throw new Error(`X server wants further authentication, which is not supported: ${reason}`);
  }
  if (status !== 1) throw new Error(`unknown X setup status ${status}`);
  const r = new Reader(buf, 2);
  const protocolMajor = r.u16();
  const protocolMinor = r.u16();
  r.u16(); // additional data length
  const release = r.u32();
  const resourceIdBase = r.u32();
  const resourceIdMask = r.u32();
  r.u32(); // motion-buffer-size
  const vendorLength = r.u16();
  const maxRequestLength = r.u16();
  const screenCount = r.u8();
  const formatCount = r.u8();
  const imageByteOrder = r.u8() === 0 ? 'lsb' : 'msb';
  r.u8(); // bitmap-format-bit-order
  r.u8(); // bitmap-format-scanline-unit
  r.u8(); // bitmap-format-scanline-pad
  const minKeycode = r.u8();
  const maxKeycode = r.u8();
  r.u32();
  const vendor = r.bytes(vendorLength).toString('latin1');
  r.bytes(pad4(vendorLength));
  const pixmapFormats: PixmapFormat[] = [];
  for (let i = 0; i < formatCount; i++) {
    pixmapFormats.push({ depth: r.u8(), bitsPerPixel: r.u8(), scanlinePad: r.u8() });
    r.bytes(5);
  }
  const screens: ScreenInfo[] = [];
  for (let i = 0; i < screenCount; i++) screens.push(decodeScreen(r));
  return {
    protocolMajor,
    protocolMinor,
    vendor,
    release,
    resourceIdBase,
    resourceIdMask,
    maxRequestLength,
    imageByteOrder,
    minKeycode,
    maxKeycode,
    pixmapFormats,
    screens,
  };
}

function decodeScreen(r: Reader): ScreenInfo {
  const root = r.u32();
  r.u32(); // default-colormap
  r.u32(); // white-pixel
  r.u32(); // black-pixel
  r.u32(); // current-input-masks
  const width = r.u16();
  const height = r.u16();
  r.u16(); // width in mm
  r.u16(); // height in mm
  r.u16(); // min-installed-maps
  r.u16(); // max-installed-maps
  const rootVisual = r.u32();
  r.u8(); // backing-stores
  r.u8(); // save-unders
  const rootDepth = r.u8();
  const depthCount = r.u8();
  const visuals: VisualInfo[] = [];
  for (let d = 0; d < depthCount; d++) {
    const depth = r.u8();
    r.u8();
    const visualCount = r.u16();
    r.u32();
    for (let v = 0; v < visualCount; v++) {
      const id = r.u32();
      const visualClass = r.u8();
      const bitsPerRgb = r.u8();
      r.u16(); // colormap-entries
      const redMask = r.u32();
      const greenMask = r.u32();
      const blueMask = r.u32();
      r.u32();
      visuals.push({ id, depth, visualClass, bitsPerRgb, redMask, greenMask, blueMask });
    }
  }
  return { root, width, height, rootDepth, rootVisual, visuals };
}
