import { drawWindowFrame, inTitleBar, windowAlpha } from './chrome.js';
import type { SceneHost } from './compositor.js';
import { drawText } from './font.js';
import { Layer } from './layer.js';
import type { Box } from './layout.js';
import { createImage, fillCircle, fillRoundRect, mix } from './raster.js';
import { accentColors, theme } from './theme.js';

/** Drift speed in pixels per second; different x and y speeds make the path cover the desktop. */
const SPEED_X = 42;
const SPEED_Y = 27;
/** Frames can stall (a busy event loop); never jump further than this much time at once. */
const MAX_STEP_MS = 250;

/** What the window carries into its successor when the desktop is laid out at another size. */
export interface WindowState {
  /** Where it was within the area it roams, 0..1 each way (0: left or top edge). */
  at: { x: number; y: number };
  velocity: { x: number; y: number };
  paused: boolean;
  accent: number;
}

/**
 * The window that drifts across the desktop and bounces off its edges. Its image only changes when
 * it is clicked, so every move is a pure copyBits plus the strips it uncovers.
 */
export class WelcomeWindow {
  readonly layer: Layer;
  private paused = false;
  private accent = 0;
  /** Position with sub-pixel precision; the layer sits at the rounded value. */
  private fx: number;
  private fy: number;
  private vx = SPEED_X;
  private vy = SPEED_Y;

  /** `box`: its size and place; `carried` and `area` (where it roams) place it as its predecessor was. */
  constructor(box: Box, carried?: { state: WindowState; area: Box }) {
    this.layer = new Layer('welcome', createImage(box.w, box.h), box.x, box.y, windowAlpha(box.w, box.h));
    this.fx = box.x;
    this.fy = box.y;
    if (carried) {
      const { state, area } = carried;
      this.paused = state.paused;
      this.accent = state.accent;
      this.vx = state.velocity.x;
      this.vy = state.velocity.y;
      this.fx = area.x + state.at.x * Math.max(0, area.w - box.w);
      this.fy = area.y + state.at.y * Math.max(0, area.h - box.h);
      this.layer.x = Math.round(this.fx);
      this.layer.y = Math.round(this.fy);
    }
    this.draw();
  }

  /** Its state, its place given as a fraction of `area` (the desktop it roams). */
  state(area: Box): WindowState {
    const fraction = (p: number, lo: number, room: number): number =>
      room <= 0 ? 0 : Math.max(0, Math.min(1, (p - lo) / room));
    return {
      at: {
        x: fraction(this.layer.x, area.x, area.w - this.layer.width),
        y: fraction(this.layer.y, area.y, area.h - this.layer.height),
      },
      velocity: { x: this.vx, y: this.vy },
      paused: this.paused,
      accent: this.accent,
    };
  }

  get moving(): boolean {
    return !this.paused;
  }

  /** Is the screen point on the title bar (where a drag starts)? */
  onTitleBar(x: number, y: number): boolean {
    return this.layer.hit(x, y) && inTitleBar(x - this.layer.x, y - this.layer.y, this.layer.width);
  }

  /** A click on the body: pause or resume the drift and switch the accent colour. */
  toggle(host: SceneHost): void {
    this.paused = !this.paused;
    this.accent = (this.accent + 1) % accentColors.length;
    this.draw();
    host.invalidate(this.layer);
  }

  /** Where the window should be after `ms` more of drifting inside `area` (bouncing at the edges). */
  advance(ms: number, area: Box): { x: number; y: number } {
    if (!this.paused) {
      const dt = Math.min(MAX_STEP_MS, Math.max(0, ms)) / 1000;
      [this.fx, this.vx] = bounce(this.fx + this.vx * dt, this.vx, area.x, area.x + area.w - this.layer.width);
      [this.fy, this.vy] = bounce(this.fy + this.vy * dt, this.vy, area.y, area.y + area.h - this.layer.height);
    }
    return { x: Math.round(this.fx), y: Math.round(this.fy) };
  }

  /** The window was put somewhere by hand; drift on from there. */
  placedAt(x: number, y: number): void {
    this.fx = x;
    this.fy = y;
  }

  private draw(): void {
    const img = this.layer.image;
    const color = accentColors[this.accent] ?? theme.taskbarAccent;
    const body = drawWindowFrame(img, { title: 'Welcome to spiced', accent: color });
    const x = body.x + 14;
    let y = body.y + 10;
    drawText(img, x, y, 'Hello from the demo desktop', theme.bodyText, undefined, { bold: true });
    y += 22;
    const tips = [
      'Drag me by the title bar.',
      'Click here to pause or go on.',
      'Keys go to the terminal.',
      'Paint on the wallpaper.',
    ];
    for (const tip of tips) {
      fillCircle(img, x + 3, y + 8, 2.5, color);
      drawText(img, x + 12, y, tip, theme.muted);
      y += 17;
    }
    this.drawState(x, body.y + body.h - 30, color);
    this.drawSwatches(body.x + body.w - 14, body.y + body.h - 30, color);
  }

  private drawState(x: number, y: number, color: number): void {
    const label = this.paused ? 'paused' : 'drifting';
    const w = label.length * 8 + 26;
    fillRoundRect(this.layer.image, x, y, w, 22, 11, mix(color, 0xffffff, 0.8));
    fillCircle(this.layer.image, x + 11, y + 11, 4, this.paused ? theme.muted : color);
    drawText(this.layer.image, x + 19, y + 3, label, mix(color, 0x000000, 0.35), undefined, { bold: true });
  }

  /** A row of little colour chips ending at `right`, the current accent highlighted. */
  private drawSwatches(right: number, y: number, color: number): void {
    accentColors.forEach((c, i) => {
      const cx = right - (accentColors.length - i) * 18 + 9;
      if (c === color) fillCircle(this.layer.image, cx, y + 11, 8, mix(c, 0x000000, 0.3));
      fillCircle(this.layer.image, cx, y + 11, 6, c);
    });
  }
}

/** Reflect a coordinate that ran past [lo, hi], turning the velocity around. */
function bounce(p: number, v: number, lo: number, hi: number): [number, number] {
  if (hi <= lo) return [lo, v];
  if (p < lo) return [Math.min(hi, lo + (lo - p)), Math.abs(v)];
  if (p > hi) return [Math.max(lo, hi - (p - hi)), -Math.abs(v)];
  return [p, v];
}
