import type { PixelImage } from '../../display/pixels.js';
import type { SceneHost } from './compositor.js';
import { drawText, measureText } from './font.js';
import { Layer } from './layer.js';
import type { DemoLayout } from './layout.js';
import { blit, createImage, line, mix, packRgb, channels, pixelsOf, pitch } from './raster.js';
import { paintColors, theme } from './theme.js';

/*
 * The wallpaper: a vertical gradient with two soft glows and a few faint wave lines, plus the
 * paint the user leaves on it with the mouse. A pristine copy is kept so painting can be cleared.
 */

const BRUSH = 5;
/** Paint segments remembered for a re-layout; past this the oldest are forgotten (still shown until then). */
const MARKS_KEPT = 20_000;

/** One painted segment, in the screen's coordinates, and the stroke it belongs to (its colour). */
interface PaintMark {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  stroke: number;
}

/** The paint on the wallpaper, carried into a desktop laid out at another size (scaled to it). */
export interface PaintState {
  width: number;
  height: number;
  marks: readonly PaintMark[];
  strokes: number;
}

/** Brighten `c` towards `glow` by a Gaussian-ish falloff around (gx, gy). */
function addGlow(
  c: number,
  glow: number,
  x: number,
  y: number,
  gx: number,
  gy: number,
  radius: number,
  strength: number,
): number {
  const d2 = ((x - gx) ** 2 + (y - gy) ** 2) / (radius * radius);
  return mix(c, glow, strength * Math.exp(-d2 * 2));
}

function drawWallpaper(img: PixelImage): void {
  const { width: w, height: h } = img;
  const px = pixelsOf(img);
  const p = pitch(img);
  for (let y = 0; y < h; y++) {
    const base = mix(theme.desktopTop, theme.desktopBottom, y / Math.max(1, h - 1));
    for (let x = 0; x < w; x++) {
      let c = addGlow(base, theme.desktopGlowA, x, y, w * 0.82, h * 0.78, w * 0.42, 0.35);
      c = addGlow(c, theme.desktopGlowB, x, y, w * 0.55, h * 0.05, w * 0.38, 0.28);
      px[y * p + x] = c;
    }
  }
  drawWaves(img);
}

/** Faint flowing lines across the wallpaper, brightening what lies below them. */
function drawWaves(img: PixelImage): void {
  const { width: w, height: h } = img;
  const px = pixelsOf(img);
  const p = pitch(img);
  for (let k = 0; k < 5; k++) {
    const baseY = h * (0.55 + k * 0.045);
    for (let x = 0; x < w; x++) {
      const y = baseY + Math.sin(x / (w * 0.16) + k * 0.7) * h * 0.06 + Math.sin(x / (w * 0.05) + k) * h * 0.008;
      for (let dy = -2; dy <= 2; dy++) {
        const yy = Math.round(y) + dy;
        if (yy < 0 || yy >= h) continue;
        const a = Math.max(0, 1 - Math.abs(yy - y) / 1.6) * 0.16;
        const [r, g, b] = channels(px[yy * p + x] ?? 0);
        px[yy * p + x] = packRgb(r + (255 - r) * a, g + (255 - g) * a, b + (255 - b) * a);
      }
    }
  }
}

/** The name and a hint of what to try, low-contrast, in the free area right of the terminal. */
function drawSignature(img: PixelImage, layout: DemoLayout): void {
  const scale = layout.width >= 800 ? 4 : 3;
  const name = 'spiced';
  const size = measureText(name, { scale });
  const right = layout.width - 32;
  const bottom = layout.desktop.h - 40;
  const x = right - size.width;
  const y = bottom - size.height - 40;
  const clear = layout.terminal.x + layout.terminal.w + 8;
  if (x < clear) return;
  drawText(img, x + 2, y + 2, name, mix(theme.desktopBottom, 0x000000, 0.35), undefined, { scale, bold: true });
  drawText(img, x, y, name, theme.desktopText, undefined, { scale, bold: true });
  const hints = [
    'SPICE remote display - demo desktop',
    'drag a title bar, click the window,',
    'type, or paint here (right-click clears)',
  ];
  if (right - Math.max(...hints.map((t) => measureText(t).width)) < clear) return;
  hints.forEach((t, i) =>
    drawText(
      img,
      right - measureText(t).width,
      y + size.height + 4 + i * 16,
      t,
      mix(theme.desktopText, theme.desktopBottom, 0.2),
    ),
  );
}

export class Desktop {
  readonly layer: Layer;
  private readonly pristine: PixelImage;
  private strokes = 0;
  private last: { x: number; y: number } | undefined;
  private marks: PaintMark[] = [];

  /** `carried`: the paint of the desktop this one replaces, scaled to this size. */
  constructor(layout: DemoLayout, carried?: PaintState) {
    const img = createImage(layout.width, layout.height);
    drawWallpaper(img);
    drawSignature(img, layout);
    this.pristine = createImage(layout.width, layout.height);
    blit(this.pristine, 0, 0, img);
    this.layer = new Layer('desktop', img, 0, 0);
    if (carried) this.repaint(carried);
  }

  /** The paint as it is, for a desktop laid out at another size. */
  get paint(): PaintState {
    return { width: this.layer.width, height: this.layer.height, marks: this.marks, strokes: this.strokes };
  }

  private repaint(old: PaintState): void {
    const sx = this.layer.width / old.width;
    const sy = this.layer.height / old.height;
    const none: SceneHost = { invalidate: () => undefined, scroll: () => undefined };
    this.strokes = old.strokes;
    for (const m of old.marks) {
      const at = (x: number, y: number): [number, number] => [Math.round(x * sx), Math.round(y * sy)];
      this.segment(none, ...at(m.x0, m.y0), ...at(m.x1, m.y1), m.stroke);
    }
  }

  /** Start a stroke: a dot in the next colour. */
  beginStroke(host: SceneHost, x: number, y: number): void {
    this.strokes++;
    this.last = { x, y };
    this.segment(host, x, y, x, y, this.strokes);
  }

  /** Continue the current stroke to (x, y). */
  strokeTo(host: SceneHost, x: number, y: number): void {
    if (this.last === undefined) return;
    this.segment(host, this.last.x, this.last.y, x, y, this.strokes);
    this.last = { x, y };
  }

  endStroke(): void {
    this.last = undefined;
  }

  get painting(): boolean {
    return this.last !== undefined;
  }

  /** Wipe all paint (the compositor's diff sends only the pixels that were painted). */
  clear(host: SceneHost): void {
    blit(this.layer.image, 0, 0, this.pristine);
    this.marks = [];
    host.invalidate(this.layer);
  }

  private segment(host: SceneHost, x0: number, y0: number, x1: number, y1: number, stroke: number): void {
    const color = paintColors[(stroke - 1) % paintColors.length] ?? 0xffffff;
    this.marks.push({ x0, y0, x1, y1, stroke });
    // Trimmed in batches: one copy per few thousand segments, not one per pointer event.
    if (this.marks.length > MARKS_KEPT * 1.25) this.marks = this.marks.slice(-MARKS_KEPT);
    line(this.layer.image, x0, y0, x1, y1, color, BRUSH);
    const pad = BRUSH;
    host.invalidate(this.layer, {
      top: Math.min(y0, y1) - pad,
      left: Math.min(x0, x1) - pad,
      bottom: Math.max(y0, y1) + pad + 1,
      right: Math.max(x0, x1) + pad + 1,
    });
  }
}
