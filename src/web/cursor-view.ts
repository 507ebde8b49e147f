import { CursorFlags, CursorType, MouseMode } from '../protocol/constants.js';
import type { CursorServerMessage, SpiceCursor } from '../protocol/cursor.js';

/** Shapes kept for FROM_CACHE (by the server's unique id); bounded like the server's own cache. */
const MAX_CACHED_SHAPES = 64;

interface Shape {
  /** A PNG data URL of the shape (CSP: img-src data:). */
  url: string;
  width: number;
  height: number;
  hotX: number;
  hotY: number;
}

/**
 * The desktop's pointer as its real shape. In client mouse mode the page's own pointer is that
 * shape (CSS cursor: moves without a round trip); in server mode, where the page's pointer is
 * locked and hidden, an image follows the server's cursor position over the canvas.
 */
export class CursorView {
  private readonly cache = new Map<bigint, Shape>();
  private shape: Shape | undefined;
  private visible = true;
  private x = 0;
  private y = 0;
  private mode: number = MouseMode.Client;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly sprite: HTMLImageElement,
  ) {}

  setMouseMode(mode: number): void {
    this.mode = mode;
    this.render();
  }

  apply(m: CursorServerMessage): void {
    switch (m.kind) {
      case 'init':
      case 'set':
        this.shape = this.shapeOf(m.cursor) ?? this.shape;
        this.visible = m.visible && (m.cursor.flags & CursorFlags.None) === 0;
        this.x = m.position.x;
        this.y = m.position.y;
        break;
      case 'move':
        this.x = m.position.x;
        this.y = m.position.y;
        break;
      case 'hide':
        this.visible = false;
        break;
      case 'reset':
      case 'invalAll':
        this.cache.clear();
        break;
      case 'invalOne':
        this.cache.delete(m.id);
        break;
      default:
        return;
    }
    this.render();
  }

  private shapeOf(c: SpiceCursor): Shape | undefined {
    const h = c.header;
    if (!h) return undefined;
    if (c.flags & CursorFlags.FromCache) return this.cache.get(h.unique);
    if (h.type !== CursorType.Alpha || c.data.length < h.width * h.height * 4 || h.width === 0 || h.height === 0) {
      console.warn(`spiced viewer: cursor type ${h.type} (${h.width}x${h.height}) is not drawn`);
      return undefined;
    }
    const canvas = document.createElement('canvas');
    canvas.width = h.width;
    canvas.height = h.height;
    const ctx = canvas.getContext('2d')!;
    const img = ctx.createImageData(h.width, h.height);
    for (let i = 0; i < h.width * h.height; i++) {
      // B,G,R,A straight alpha to R,G,B,A
      img.data[4 * i] = c.data[4 * i + 2]!;
      img.data[4 * i + 1] = c.data[4 * i + 1]!;
      img.data[4 * i + 2] = c.data[4 * i]!;
      img.data[4 * i + 3] = c.data[4 * i + 3]!;
    }
    ctx.putImageData(img, 0, 0);
    const shape = {
      url: canvas.toDataURL('image/png'),
      width: h.width,
      height: h.height,
      hotX: h.hotSpotX,
      hotY: h.hotSpotY,
    };
    if (c.flags & CursorFlags.CacheMe) {
      if (this.cache.size >= MAX_CACHED_SHAPES) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(h.unique, shape);
    }
    return shape;
  }

  /** Where the sprite goes, in CSS pixels over a canvas that may be shown scaled. */
  private render(): void {
    const s = this.shape;
    const client = this.mode === MouseMode.Client;
    if (client) {
      this.canvas.style.cursor = !this.visible ? 'none' : s ? `url(${s.url}) ${s.hotX} ${s.hotY}, default` : 'default';
      this.sprite.hidden = true;
      return;
    }
    this.canvas.style.cursor = 'none';
    this.sprite.hidden = !this.visible || !s;
    if (!s || this.sprite.hidden) return;
    const scale = this.canvas.clientWidth / Math.max(this.canvas.width, 1);
    if (this.sprite.src !== s.url) this.sprite.src = s.url;
    this.sprite.style.width = `${s.width * scale}px`;
    this.sprite.style.left = `${this.canvas.offsetLeft + (this.x - s.hotX) * scale}px`;
    this.sprite.style.top = `${this.canvas.offsetTop + (this.y - s.hotY) * scale}px`;
  }
}
