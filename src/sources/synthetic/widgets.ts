import { cropImage, type PixelImage } from '../../display/pixels.js';
import type { Compositor, SceneHost } from '../demo/compositor.js';
import { CORNER_R, drawWindowFrame, windowAlpha } from '../demo/chrome.js';
import { drawText, measureText } from '../demo/font.js';
import { Layer } from '../demo/layer.js';
import { TITLE_H, type Box } from '../demo/layout.js';
import { blit, createImage, fillRect, fillRoundRect, hline, strokeRect } from '../demo/raster.js';
import { theme } from '../demo/theme.js';

/*
 * Office chrome built from the demo's raster and font: application windows whose title bar shows
 * focus, a menu bar, drop-down menus (layers parked off-screen while closed) and a taskbar.
 */

export const MENU_H = 22;
export const ACCENT = 0x2f7bd8;
const MENU_BG = 0xe6e9ef;
const OFF_SCREEN = -10_000;

export interface MenuItem {
  label: string;
  /** Local x and width inside the window. */
  x: number;
  w: number;
}

/** The title bar (rows 0..TITLE_H inclusive, with the window border) in one focus state. */
function titleStrip(w: number, title: string, active: boolean): PixelImage {
  const tmp = createImage(w, TITLE_H + 1 + 2 * CORNER_R + 2);
  drawWindowFrame(tmp, active ? { title, accent: ACCENT } : { title });
  return cropImage(tmp, 0, 0, w, TITLE_H + 1);
}

/** A decorated application window: title bar (focus-dependent), menu bar, and a body for the app. */
export class AppWindow {
  readonly layer: Layer;
  readonly menu: MenuItem[] = [];
  /** The app's area in local coordinates: below the menu bar, inside the border, above the rounded bottom. */
  readonly content: Box;
  private readonly strips: { active: PixelImage; inactive: PixelImage };
  active = false;

  constructor(box: Box, title: string, menuLabels: readonly string[]) {
    const img = createImage(box.w, box.h);
    drawWindowFrame(img, { title });
    this.strips = { active: titleStrip(box.w, title, true), inactive: titleStrip(box.w, title, false) };
    this.layer = new Layer(title, img, box.x, box.y, windowAlpha(box.w, box.h));
    let x = 6;
    for (const label of menuLabels) {
      const w = measureText(label).width + 14;
      // Narrow windows show the first items only (menus are always used by index into this list).
      if (x + w > box.w - 6) break;
      this.menu.push({ label, x, w });
      x += w;
    }
    fillRect(img, 1, TITLE_H + 1, box.w - 2, MENU_H, MENU_BG);
    for (let i = 0; i < this.menu.length; i++) this.drawMenuItem(i, false);
    fillRect(img, 1, TITLE_H + 1 + MENU_H, box.w - 2, 1, 0xc9ced8);
    this.content = { x: 1, y: TITLE_H + 2 + MENU_H, w: box.w - 2, h: box.h - TITLE_H - 2 - MENU_H - CORNER_R };
  }

  get image(): PixelImage {
    return this.layer.image;
  }

  /** Screen position of a local point. */
  screen(lx: number, ly: number): { x: number; y: number } {
    return { x: this.layer.x + lx, y: this.layer.y + ly };
  }

  setActive(host: SceneHost, active: boolean): void {
    if (active === this.active) return;
    this.active = active;
    blit(this.image, 0, 0, active ? this.strips.active : this.strips.inactive);
    host.invalidate(this.layer, { top: 0, left: 0, bottom: TITLE_H + 1, right: this.layer.width });
  }

  /** Local rect of menu item i (for the pointer to aim at and the popup to hang from). */
  menuRect(i: number): Box {
    const m = this.menu[i] as MenuItem;
    return { x: m.x, y: TITLE_H + 1, w: m.w, h: MENU_H };
  }

  pressMenuItem(host: SceneHost, i: number, pressed: boolean): void {
    this.drawMenuItem(i, pressed);
    const r = this.menuRect(i);
    host.invalidate(this.layer, { top: r.y, left: r.x, bottom: r.y + r.h, right: r.x + r.w });
  }

  private drawMenuItem(i: number, pressed: boolean): void {
    const r = this.menuRect(i);
    const img = this.image;
    fillRect(img, r.x, r.y, r.w, r.h, MENU_BG);
    if (pressed) fillRoundRect(img, r.x + 1, r.y + 2, r.w - 2, r.h - 4, 3, ACCENT);
    drawText(img, r.x + 7, r.y + 3, (this.menu[i] as MenuItem).label, pressed ? 0xffffff : theme.bodyText);
  }
}

const ENTRY_H = 22;
const POPUP_W = 196;

/** A drop-down menu: its own layer, on top of the windows, parked off-screen while closed. */
export class PopupMenu {
  readonly layer: Layer;
  private highlighted = -1;

  constructor(
    compositor: Compositor,
    readonly entries: readonly string[],
  ) {
    const img = createImage(POPUP_W, entries.length * ENTRY_H + 6, 0xfbfcfe);
    strokeRect(img, 0, 0, img.width, img.height, 0x8f98aa);
    this.layer = new Layer(`menu ${entries[0] ?? ''}`, img, OFF_SCREEN, OFF_SCREEN);
    for (let i = 0; i < entries.length; i++) this.drawEntry(i, false);
    compositor.add(this.layer);
  }

  get isOpen(): boolean {
    return this.layer.x !== OFF_SCREEN;
  }

  open(compositor: Compositor, x: number, y: number): void {
    this.highlight(compositor, -1);
    compositor.moveLayer(this.layer, x, y);
  }

  close(compositor: Compositor): void {
    this.highlight(compositor, -1);
    compositor.moveLayer(this.layer, OFF_SCREEN, OFF_SCREEN);
  }

  /** Screen centre of entry i. */
  entryCentre(i: number): { x: number; y: number } {
    return { x: this.layer.x + 60, y: this.layer.y + 3 + i * ENTRY_H + ENTRY_H / 2 };
  }

  entryAt(sx: number, sy: number): number {
    const lx = sx - this.layer.x;
    const ly = sy - this.layer.y - 3;
    if (!this.isOpen || lx < 0 || lx >= POPUP_W || ly < 0) return -1;
    const i = Math.floor(ly / ENTRY_H);
    return i < this.entries.length ? i : -1;
  }

  highlight(host: SceneHost, i: number): void {
    if (i === this.highlighted) return;
    if (this.highlighted >= 0) this.redrawEntry(host, this.highlighted, false);
    this.highlighted = i;
    if (i >= 0) this.redrawEntry(host, i, true);
  }

  private redrawEntry(host: SceneHost, i: number, on: boolean): void {
    this.drawEntry(i, on);
    const top = 3 + i * ENTRY_H;
    host.invalidate(this.layer, { top, left: 1, bottom: top + ENTRY_H, right: POPUP_W - 1 });
  }

  private drawEntry(i: number, on: boolean): void {
    const top = 3 + i * ENTRY_H;
    fillRect(this.layer.image, 2, top, POPUP_W - 4, ENTRY_H, on ? ACCENT : 0xfbfcfe);
    drawText(this.layer.image, 14, top + 3, this.entries[i] ?? '', on ? 0xffffff : theme.bodyText);
  }
}

/** The bar along the bottom: a start button, one button per window (the focused one lit) and the time. */
export class OfficeTaskbar {
  readonly layer: Layer;
  private readonly buttons: { x: number; w: number; label: string }[] = [];
  private shownTime = '';

  constructor(box: Box, labels: readonly string[]) {
    const img = createImage(box.w, box.h, theme.taskbar);
    hline(img, 0, box.w - 1, 0, theme.taskbarLine);
    this.layer = new Layer('taskbar', img, box.x, box.y);
    fillRoundRect(img, 8, 5, 64, box.h - 9, 5, ACCENT);
    drawText(img, 16, 7, 'Start', 0xffffff, undefined, { bold: true });
    let x = 84;
    for (const label of labels) {
      const w = Math.min(220, measureText(label).width + 16);
      this.buttons.push({ x, w, label });
      x += w + 6;
    }
    this.buttons.forEach((_, i) => this.drawButton(i, false));
  }

  setActive(host: SceneHost, active: number): void {
    this.buttons.forEach((b, i) => {
      this.drawButton(i, i === active);
      host.invalidate(this.layer, { top: 4, left: b.x, bottom: this.layer.height - 3, right: b.x + b.w });
    });
  }

  /** Show "hh:mm" (redrawn only when it changes). */
  setTime(host: SceneHost, text: string): void {
    if (text === this.shownTime) return;
    this.shownTime = text;
    const x = this.layer.width - 12 - measureText(text).width;
    drawText(this.layer.image, x, 7, text, theme.taskbarText, theme.taskbar);
    host.invalidate(this.layer, { top: 7, left: x, bottom: 23, right: x + measureText(text).width });
  }

  private drawButton(i: number, lit: boolean): void {
    const b = this.buttons[i] as { x: number; w: number; label: string };
    const img = this.layer.image;
    fillRect(img, b.x, 4, b.w, img.height - 7, theme.taskbar);
    fillRoundRect(img, b.x, 5, b.w, img.height - 9, 5, lit ? 0x3a4660 : theme.taskbarButton);
    const chars = Math.floor((b.w - 16) / 8);
    drawText(img, b.x + 8, 7, b.label.slice(0, chars), lit ? 0xffffff : theme.taskbarText);
  }
}
