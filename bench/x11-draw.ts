/**
 * A drawing client for the X11 bench: a second X connection (our own client from
 * src/sources/x11) that paints on the root window the way an application would, so that the
 * server under test sees ordinary DAMAGE. Only the few core requests the bench needs are encoded
 * here (bench-local, so src/sources/x11 stays what spiced itself uses).
 */
import type { PixelImage } from '../src/display/pixels.js';
import { XConnection } from '../src/sources/x11/connection.js';
import { IMAGE_FORMAT_ZPIXMAP } from '../src/sources/x11/core.js';
import { MAX_PLAIN_REQUEST_BYTES, encodeRequest } from '../src/sources/x11/wire.js';

export interface XRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

const X_QUERY_TREE = 15;
const X_SET_INPUT_FOCUS = 42;
const X_CREATE_GC = 55;
const X_CHANGE_GC = 56;
const X_POLY_FILL_RECTANGLE = 70;
const X_PUT_IMAGE = 72;
const REVERT_TO_POINTER_ROOT = 1;
const GC_FOREGROUND = 1 << 2;
const GC_GRAPHICS_EXPOSURES = 1 << 16;
const PUT_IMAGE_HEADER_BYTES = 24;

/** Rows per PutImage band that keep a request under the 262140-byte limit (no BIG-REQUESTS). */
export function bandRows(width: number): number {
  return Math.floor((MAX_PLAIN_REQUEST_BYTES - PUT_IMAGE_HEADER_BYTES) / (width * 4));
}

/**
 * PutImage (ZPixmap) of rows [top, top + rows) of `img`, placed at (0, top) on `drawable`, with the
 * image shifted left by `shift` pixels (wrapping around), so one picture yields many distinct frames.
 * Layout: opcode 72, data = format, length u16, drawable u32, gc u32, width u16, height u16,
 * dst-x i16, dst-y i16, left-pad u8, depth u8, unused u16, then the pixels (32 bpp, LSB first on
 * Xvfb, which is the PixelImage layout, so rows are copied as they are).
 */
export function encodePutImageBand(
  drawable: number,
  gc: number,
  depth: number,
  img: PixelImage,
  top: number,
  rows: number,
  shift = 0,
): Buffer {
  const rowBytes = img.width * 4;
  const bytes = PUT_IMAGE_HEADER_BYTES + rowBytes * rows;
  if (bytes > MAX_PLAIN_REQUEST_BYTES)
    throw new Error(`PutImage band of ${rows} rows is ${bytes} bytes: over the request limit`);
  const req = Buffer.allocUnsafe(bytes);
  req.writeUInt8(X_PUT_IMAGE, 0);
  req.writeUInt8(IMAGE_FORMAT_ZPIXMAP, 1);
  req.writeUInt16LE(bytes / 4, 2);
  req.writeUInt32LE(drawable, 4);
  req.writeUInt32LE(gc, 8);
  req.writeUInt16LE(img.width, 12);
  req.writeUInt16LE(rows, 14);
  req.writeInt16LE(0, 16);
  req.writeInt16LE(top, 18);
  req.writeUInt8(0, 20);
  req.writeUInt8(depth, 21);
  req.writeUInt16LE(0, 22);
  const s = (((shift % img.width) + img.width) % img.width) * 4;
  for (let j = 0; j < rows; j++) {
    const from = (top + j) * img.stride;
    const to = PUT_IMAGE_HEADER_BYTES + j * rowBytes;
    img.data.copy(req, to, from + s, from + rowBytes);
    img.data.copy(req, to + rowBytes - s, from, from + s);
  }
  return req;
}

/** One X connection with one GC on the root window. */
export class XDrawer {
  private foreground = -1;

  private constructor(
    readonly conn: XConnection,
    readonly gc: number,
  ) {}

  static async open(display: string): Promise<XDrawer> {
    const conn = await XConnection.connect(display, { xauthority: null });
    const gc = conn.allocId();
    // CreateGC: cid u32, drawable u32, value-mask u32, values in mask-bit order. No
    // GraphicsExposures: we never copy areas, and the events would only be noise.
    const req = encodeRequest(X_CREATE_GC, 0, (w) =>
      w
        .u32(gc)
        .u32(conn.screen.root)
        .u32(GC_FOREGROUND | GC_GRAPHICS_EXPOSURES)
        .u32(0)
        .u32(0),
    );
    await conn.checked(req, 'CreateGC');
    return new XDrawer(conn, gc);
  }

  get root(): number {
    return this.conn.screen.root;
  }

  get depth(): number {
    return this.conn.screen.rootDepth;
  }

  get width(): number {
    return this.conn.screen.width;
  }

  get height(): number {
    return this.conn.screen.height;
  }

  /** Fill rects with a 0xRRGGBB colour (TrueColor 24: the pixel value is the colour). */
  fill(colour: number, rects: readonly XRect[]): void {
    if (colour !== this.foreground) {
      // ChangeGC: gc u32, value-mask u32, values.
      this.conn.send(
        encodeRequest(X_CHANGE_GC, 0, (w) => w.u32(this.gc).u32(GC_FOREGROUND).u32(colour)),
        'ChangeGC',
      );
      this.foreground = colour;
    }
    // PolyFillRectangle: drawable u32, gc u32, then x i16, y i16, width u16, height u16 per rect.
    const req = encodeRequest(X_POLY_FILL_RECTANGLE, 0, (w) => {
      w.u32(this.root).u32(this.gc);
      for (const r of rects) w.i16(r.x).i16(r.y).u16(r.width).u16(r.height);
    });
    this.conn.send(req, 'PolyFillRectangle');
  }

  /** Send pre-encoded requests (PutImage bands). */
  sendAll(reqs: readonly Buffer[]): void {
    for (const r of reqs) this.conn.send(r, 'PutImage');
  }

  /** PutImage requests that paint `img` (screen-sized) over the whole root, shifted by `shift`. */
  encodeFullScreen(img: PixelImage, shift = 0): Buffer[] {
    const rows = bandRows(img.width);
    const out: Buffer[] = [];
    for (let top = 0; top < img.height; top += rows)
      out.push(encodePutImageBand(this.root, this.gc, this.depth, img, top, Math.min(rows, img.height - top), shift));
    return out;
  }

  /**
   * Give the keyboard focus to the root's first child (the only client on a bare Xvfb): without a
   * window manager, xterm only blinks its cursor when it holds the focus explicitly (PointerRoot
   * focus makes it draw a solid, steady cursor). Returns false when the root has no child.
   * QueryTree: window u32; reply: count u16 @16, children u32[] @32.
   * SetInputFocus: data = revert-to, focus u32, time u32 (0 = CurrentTime).
   */
  async focusTopWindow(): Promise<boolean> {
    const children = await this.conn.request(
      encodeRequest(X_QUERY_TREE, 0, (w) => w.u32(this.root)),
      'QueryTree',
      (r) => {
        const n = r.readUInt16LE(16);
        return Array.from({ length: n }, (_, i) => r.readUInt32LE(32 + 4 * i));
      },
    );
    const top = children.at(-1);
    if (top === undefined) return false;
    await this.conn.checked(
      encodeRequest(X_SET_INPUT_FOCUS, REVERT_TO_POINTER_ROOT, (w) => w.u32(top).u32(0)),
      'SetInputFocus',
    );
    return true;
  }

  /** Resolves once the X server has processed everything sent before (GetInputFocus round trip). */
  sync(): Promise<void> {
    return this.conn.sync();
  }

  /** The server frees the GC with the connection. */
  close(): void {
    this.conn.close();
  }
}

/** Resolves after the requests issued in this tick were written: XConnection uncorks on nextTick. */
export function flushed(): Promise<void> {
  return new Promise((resolve) => process.nextTick(resolve));
}
