/* Where the desktop's parts go for a given screen size (positions scale, sizes are clamped). */

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface DemoLayout {
  width: number;
  height: number;
  taskbar: Box;
  clock: Box;
  photo: Box;
  terminal: Box;
  /** The welcome window's size and its still-mode position. */
  window: Box;
  /** Where the welcome window may roam (the desktop above the taskbar). */
  desktop: Box;
}

export const TASKBAR_H = 30;
export const TITLE_H = 24;

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, Math.round(v)));
}

export function computeLayout(width: number, height: number): DemoLayout {
  const margin = width >= 800 ? 24 : 12;
  const desktop: Box = { x: 0, y: 0, w: width, h: Math.max(TITLE_H, height - TASKBAR_H) };
  const clockW = clamp(width * 0.2, 150, 230);
  const clock: Box = { x: margin, y: margin, w: clockW, h: clockW + TITLE_H + 28 };
  const photoW = clamp(width * 0.38, 180, 440);
  const photo: Box = { x: width - margin - photoW, y: margin, w: photoW, h: Math.round(photoW * 0.62) + TITLE_H + 2 };
  const termW = clamp(width * 0.6, 260, 760);
  const termH = clamp(height * 0.44, 140, 420);
  const terminal: Box = { x: margin, y: desktop.h - margin - termH, w: termW, h: termH };
  // Narrower than 276 pixels the window's text would not fit.
  const winW = clamp(width * 0.3, 276, 330);
  const winH = clamp(winW * 0.6, 178, 200);
  const window: Box = { x: Math.round(width * 0.3), y: Math.round(desktop.h * 0.22), w: winW, h: winH };
  const taskbar: Box = { x: 0, y: height - TASKBAR_H, w: width, h: TASKBAR_H };
  return { width, height, taskbar, clock, photo, terminal, window, desktop };
}
