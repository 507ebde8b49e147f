import type { SceneHost } from './compositor.js';
import { drawWindowFrame, windowAlpha } from './chrome.js';
import { drawText, measureText } from './font.js';
import { Layer } from './layer.js';
import type { Box } from './layout.js';
import { capsule, createImage, fillCircle, fillRect, ring } from './raster.js';
import { theme } from './theme.js';

/** Wall-clock time as the clock shows it. */
export interface ClockTime {
  h: number;
  m: number;
  s: number;
}

export function formatTime(t: ClockTime): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(t.h)}:${two(t.m)}:${two(t.s)}`;
}

/**
 * An analog clock with a digital readout, in its own panel. It is redrawn when the second changes;
 * the compositor's diff then sends only the pixels the hands left and entered.
 */
export class ClockPanel {
  readonly layer: Layer;
  private readonly cx: number;
  private readonly cy: number;
  private readonly radius: number;
  private readonly faceTop: number;
  private shown = '';

  constructor(box: Box) {
    const img = createImage(box.w, box.h);
    const body = drawWindowFrame(img, { title: 'Clock' });
    this.faceTop = body.y;
    this.cx = box.w / 2;
    this.cy = body.y + box.w / 2;
    this.radius = box.w / 2 - 14;
    this.layer = new Layer('clock', img, box.x, box.y, windowAlpha(box.w, box.h));
  }

  setTime(host: SceneHost, t: ClockTime): void {
    const text = formatTime(t);
    if (text === this.shown) return;
    this.shown = text;
    this.drawFace(t);
    this.drawReadout(text);
    host.invalidate(this.layer, {
      top: this.faceTop,
      left: 1,
      bottom: this.layer.height - 1,
      right: this.layer.width - 1,
    });
  }

  private drawFace(t: ClockTime): void {
    const img = this.layer.image;
    const { cx, cy, radius: r } = this;
    fillRect(img, 1, this.faceTop, img.width - 2, Math.ceil(cy + r + 6) - this.faceTop, theme.body);
    fillCircle(img, cx, cy + 2, r + 3, 0xd5dae4);
    fillCircle(img, cx, cy, r + 2, theme.clockRim);
    fillCircle(img, cx, cy, r - 2, theme.clockFace);
    for (let i = 0; i < 60; i++) {
      const a = (i / 60) * 2 * Math.PI;
      const hour = i % 5 === 0;
      const r0 = r - (hour ? 12 : 6);
      const r1 = r - 4;
      capsule(
        img,
        cx + Math.sin(a) * r0,
        cy - Math.cos(a) * r0,
        cx + Math.sin(a) * r1,
        cy - Math.cos(a) * r1,
        hour ? 2.6 : 1,
        theme.clockTick,
      );
    }
    this.drawNumerals();
    const sec = t.s / 60;
    const min = (t.m + sec) / 60;
    const hr = ((t.h % 12) + min) / 12;
    this.hand(hr, r * 0.5, -0.1, 5, theme.clockHand);
    this.hand(min, r * 0.76, -0.1, 3.4, theme.clockHand);
    this.hand(sec, r * 0.84, -0.2, 1.4, theme.clockSecond);
    fillCircle(img, cx, cy, 4, theme.clockSecond);
    ring(img, cx, cy, 4, 2.5, theme.clockHand);
  }

  private drawNumerals(): void {
    const { cx, cy, radius: r } = this;
    const labels: Array<[string, number]> = [
      ['12', 0],
      ['3', 0.25],
      ['6', 0.5],
      ['9', 0.75],
    ];
    for (const [label, turn] of labels) {
      const a = turn * 2 * Math.PI;
      const d = r - 24;
      const { width } = measureText(label);
      drawText(
        this.layer.image,
        Math.round(cx + Math.sin(a) * d - width / 2),
        Math.round(cy - Math.cos(a) * d - 8),
        label,
        theme.bodyText,
        undefined,
        { bold: true },
      );
    }
  }

  /** A hand at `turn` (0..1 of a full circle), from `tail` (fraction of length, behind the centre) to length. */
  private hand(turn: number, length: number, tail: number, width: number, color: number): void {
    const a = turn * 2 * Math.PI;
    const sx = Math.sin(a);
    const sy = -Math.cos(a);
    const { cx, cy } = this;
    capsule(
      this.layer.image,
      cx + sx * length * tail,
      cy + sy * length * tail,
      cx + sx * length,
      cy + sy * length,
      width,
      color,
    );
  }

  private drawReadout(text: string): void {
    const img = this.layer.image;
    const y = img.height - 28;
    fillRect(img, 1, y, img.width - 2, 20, theme.body);
    const { width } = measureText(text);
    drawText(img, Math.round((img.width - width) / 2), y + 2, text, theme.bodyText, undefined, { bold: true });
  }
}
