import type { PixelImage } from '../../display/pixels.js';
import { drawText, measureText } from './font.js';
import { TITLE_H, type Box } from './layout.js';
import { blendPixel, fillCircle, fillRect, hline, mix, verticalGradient } from './raster.js';
import { theme } from './theme.js';

/* Window decorations shared by the panels and the moving window: rounded frame, title bar, buttons. */

export const CORNER_R = 7;

export interface FrameStyle {
  title: string;
  /** Tints the title bar (the welcome window's clickable accent). */
  accent?: number;
}

/** Signed distance from pixel (x, y)'s centre to the outline of a w x h box with corner radius r. */
function roundedDistance(x: number, y: number, w: number, h: number, r: number): number {
  const qx = Math.abs(x + 0.5 - w / 2) - (w / 2 - r);
  const qy = Math.abs(y + 0.5 - h / 2) - (h / 2 - r);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
}

/** Coverage mask (0..255) of a rounded window of size w x h, for the compositor. */
export function windowAlpha(w: number, h: number, r = CORNER_R): Uint8Array {
  const out = new Uint8Array(w * h).fill(255);
  const edge = (x: number, y: number): void => {
    out[y * w + x] = Math.round(Math.max(0, Math.min(1, 0.5 - roundedDistance(x, y, w, h, r))) * 255);
  };
  // Only the corner squares can be anything but opaque.
  for (let y = 0; y < r; y++) {
    for (let x = 0; x < r; x++) {
      edge(x, y);
      edge(w - 1 - x, y);
      edge(x, h - 1 - y);
      edge(w - 1 - x, h - 1 - y);
    }
  }
  return out;
}

/**
 * Border pixels follow the rounded outline: the outermost ring of the shape gets the frame colour.
 * Exported for windows whose content is drawn over the body edges afterwards.
 */
export function drawBorder(img: PixelImage, r = CORNER_R): void {
  const { width: w, height: h } = img;
  const ringAt = (x: number, y: number): void => {
    const d = roundedDistance(x, y, w, h, r);
    if (d > -1.5) blendPixel(img, x, y, theme.frame, Math.min(1, d + 1.5));
  };
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < r + 1; y++) {
      ringAt(x, y);
      ringAt(x, h - 1 - y);
    }
  }
  for (let y = r + 1; y < h - r - 1; y++) {
    ringAt(0, y);
    ringAt(w - 1, y);
  }
}

function drawTitleButtons(img: PixelImage): void {
  const colors = [theme.close, theme.minimize, theme.maximize];
  colors.forEach((c, i) => {
    fillCircle(img, 15 + i * 17, TITLE_H / 2, 5.5, mix(c, 0x000000, 0.25));
    fillCircle(img, 15 + i * 17, TITLE_H / 2, 4.5, c);
  });
}

/**
 * Draw a whole window (title bar, buttons, body background, border) over `img`, which must be the
 * window's own image. Returns the body box (inside the border, below the title bar).
 */
export function drawWindowFrame(img: PixelImage, style: FrameStyle, body: number = theme.body): Box {
  const { width: w, height: h } = img;
  fillRect(img, 0, 0, w, h, body);
  const top = style.accent === undefined ? theme.titleTop : mix(style.accent, 0xffffff, 0.08);
  const bottom = style.accent === undefined ? theme.titleBottom : mix(style.accent, 0x000000, 0.22);
  verticalGradient(img, 0, 0, w, TITLE_H, top, bottom);
  hline(img, 1, w - 2, 1, mix(top, 0xffffff, 0.18));
  hline(img, 0, w - 1, TITLE_H, theme.frame);
  drawTitleButtons(img);
  const textW = measureText(style.title).width;
  const tx = Math.max(66, Math.round((w - textW) / 2));
  drawText(img, tx, Math.round((TITLE_H - 16) / 2), style.title, theme.titleText, undefined, { bold: true });
  drawBorder(img, CORNER_R);
  return { x: 1, y: TITLE_H + 1, w: w - 2, h: h - TITLE_H - 2 };
}

/** Is a local point on the title bar (the drag handle)? */
export function inTitleBar(lx: number, ly: number, w: number): boolean {
  return ly >= 0 && ly < TITLE_H && lx >= 0 && lx < w;
}
