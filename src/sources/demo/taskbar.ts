import type { SceneHost } from './compositor.js';
import { drawText, measureText } from './font.js';
import { Layer } from './layer.js';
import type { Box } from './layout.js';
import { createImage, fillRect, fillRoundRect, hline, mix, shiftArea, vline } from './raster.js';
import { theme } from './theme.js';

/*
 * The bar along the bottom: a menu button, one button per window, a scrolling load graph (moved
 * with copyBits, one new column per sample), a frame counter and the time.
 */

const GRAPH_W = 72;
const GRAPH_STEP = 2;
const CLOCK_CHARS = 8;
const COUNTER_CHARS = 12;

export class Taskbar {
  readonly layer: Layer;
  private readonly clockX: number;
  private readonly counterX: number;
  private readonly graph: Box;
  private shownTime = '';
  private shownCounter = '';
  /** The graph's samples, oldest first (as many as it shows). */
  private samples: number[] = [];

  constructor(box: Box, windowNames: readonly string[]) {
    const img = createImage(box.w, box.h, theme.taskbar);
    hline(img, 0, box.w - 1, 0, theme.taskbarLine);
    this.clockX = box.w - 12 - CLOCK_CHARS * 8;
    this.counterX = this.clockX - 16 - COUNTER_CHARS * 8;
    this.graph = { x: this.counterX - 12 - GRAPH_W, y: 6, w: GRAPH_W, h: box.h - 11 };
    this.layer = new Layer('taskbar', img, box.x, box.y);
    const after = this.drawButton(8, 'spiced', theme.taskbarAccent, true);
    this.drawWindowButtons(after + 12, windowNames);
    this.drawGraphFrame();
  }

  /** Returns the x after the button. */
  private drawButton(x: number, label: string, color: number, bold: boolean): number {
    const w = measureText(label).width + 16;
    fillRoundRect(this.layer.image, x, 5, w, this.layer.height - 9, 5, color);
    drawText(this.layer.image, x + 8, 7, label, bold ? 0xffffff : theme.taskbarText, undefined, { bold });
    return x + w;
  }

  /** As many window buttons as fit left of the graph. */
  private drawWindowButtons(x: number, names: readonly string[]): void {
    let at = x;
    for (const name of names) {
      if (at + measureText(name).width + 16 > this.graph.x - 12) return;
      at = this.drawButton(at, name, theme.taskbarButton, false) + 6;
    }
  }

  private drawGraphFrame(): void {
    const { x, y, w, h } = this.graph;
    const img = this.layer.image;
    fillRect(img, x - 1, y - 1, w + 2, h + 2, theme.taskbarLine);
    fillRect(img, x, y, w, h, 0x0a0d14);
  }

  /** Show `time` (hh:mm:ss) and the frame label; only changed text is redrawn. */
  setStatus(host: SceneHost, time: string, counter: string): void {
    if (time !== this.shownTime) {
      this.shownTime = time;
      this.drawField(host, this.clockX, time, CLOCK_CHARS, theme.taskbarText);
    }
    if (counter !== this.shownCounter) {
      this.shownCounter = counter;
      this.drawField(
        host,
        this.counterX,
        counter.padStart(COUNTER_CHARS),
        COUNTER_CHARS,
        mix(theme.taskbarText, theme.taskbar, 0.35),
      );
    }
  }

  private drawField(host: SceneHost, x: number, text: string, chars: number, color: number): void {
    const y = Math.round((this.layer.height - 16) / 2) + 1;
    drawText(this.layer.image, x, y, text.slice(0, chars).padEnd(chars), color, theme.taskbar);
    host.invalidate(this.layer, { top: y, left: x, bottom: y + 16, right: x + chars * 8 });
  }

  /** Scroll the graph left by one step and draw `load` (0..1) as the newest bar. */
  pushSample(host: SceneHost, load: number): void {
    const { x, y, w, h } = this.graph;
    const img = this.layer.image;
    this.samples.push(load);
    if (this.samples.length > this.graphSamples) this.samples.shift();
    shiftArea(img, x + GRAPH_STEP, y, w - GRAPH_STEP, h, -GRAPH_STEP, 0);
    host.scroll(this.layer, { top: y, left: x, bottom: y + h, right: x + w }, -GRAPH_STEP, 0);
    const col = x + w - GRAPH_STEP;
    fillRect(img, col, y, GRAPH_STEP, h, 0x0a0d14);
    const bar = Math.max(1, Math.round(Math.min(1, Math.max(0, load)) * (h - 2)));
    const color = mix(0x4fd18b, 0xe8c84c, load);
    for (let k = 0; k < GRAPH_STEP; k++) vline(img, col + k, y + h - bar, y + h - 1, color);
    hline(img, col, col + GRAPH_STEP - 1, y + h - bar, mix(color, 0xffffff, 0.5));
  }

  private get graphSamples(): number {
    return Math.floor(this.graph.w / GRAPH_STEP);
  }

  /** The samples the graph shows, oldest first: a re-laid-out taskbar fills its graph with them. */
  get history(): readonly number[] {
    return this.samples;
  }

  /** Fill the whole graph at once (the initial picture), oldest sample first; returns the count used. */
  fillGraph(samples: (i: number) => number): number {
    const count = this.graphSamples;
    const discard: SceneHost = { invalidate: () => undefined, scroll: () => undefined };
    for (let i = 0; i < count; i++) this.pushSample(discard, samples(i));
    return count;
  }
}
