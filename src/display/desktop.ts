import { rectIsEmpty, type Point, type Rect } from '../protocol/geometry.js';
import type {
  AudioCommand,
  CursorCommand,
  CursorShape,
  DisplayCommand,
  DisplaySink,
  InputEvent,
  ViewerPace,
} from '../seam/index.js';
import { cropImage, type PixelImage } from './pixels.js';
import { Surface } from './surface.js';

/**
 * What viewers must see, after clipping: only operations on the primary surface reach the
 * display channel, already clipped to it. Off-screen surfaces stay server-side; a blit from one
 * into the primary arrives as a `copy` of the pixels captured at that moment.
 */
export type PrimaryUpdate =
  | { kind: 'primaryCreated'; surface: Surface }
  | { kind: 'primaryDestroyed' }
  | { kind: 'fill'; rect: Rect; color: number }
  | { kind: 'copy'; rect: Rect; image: PixelImage; src: Point }
  | { kind: 'copyBits'; rect: Rect; src: Point };

export interface CursorState {
  shape: CursorShape | undefined;
  visible: boolean;
  x: number;
  y: number;
}

/** What the channels hear from the desktop; each implements only the parts it carries. */
export interface DesktopListener {
  onPrimaryUpdate?(update: PrimaryUpdate): void;
  onCursor?(cmd: CursorCommand, state: CursorState): void;
  onAudio?(cmd: AudioCommand): void;
}

/** Surfaces up to this size have their memory recycled (see keepSpare). */
const SPARE_MAX_BYTES = 256 << 10;
const SPARE_PER_SIZE = 4;

/**
 * The server's model of the desktop: every surface a source created, the cursor, and the shared
 * pointer. It is the DisplaySink sources draw into; it applies each command to its surfaces and
 * tells the channels what changed on the primary surface.
 */
export class Desktop implements DisplaySink {
  private readonly surfaces = new Map<number, Surface>();
  private primaryId: number | undefined;
  private readonly listeners = new Set<DesktopListener>();
  readonly cursorState: CursorState = { shape: undefined, visible: true, x: 0, y: 0 };
  /** Pointer position and buttons (shared by all viewers; server mouse mode moves it relatively). */
  readonly pointer = { x: 0, y: 0, buttons: 0 };
  /** Commands applied, by kind (exposed in stats). */
  readonly applied: Record<DisplayCommand['kind'], number> = {
    surfaceCreate: 0,
    surfaceDestroy: 0,
    fill: 0,
    copy: 0,
    blitSurface: 0,
    copyBits: 0,
  };
  /** How the viewers keep up (set by the display channel), for sources that pace themselves. */
  pace: ViewerPace | undefined;
  /** Where input goes (the source). */
  inputHandler: ((ev: InputEvent) => void) | undefined;
  /** Memory of destroyed small surfaces, by byte size, for the next surface of that size. */
  private readonly spare = new Map<number, Buffer[]>();

  get primary(): Surface | undefined {
    return this.primaryId === undefined ? undefined : this.surfaces.get(this.primaryId);
  }

  surface(id: number): Surface | undefined {
    return this.surfaces.get(id);
  }

  addListener(l: DesktopListener): void {
    this.listeners.add(l);
  }

  private emit(update: PrimaryUpdate): void {
    for (const l of this.listeners) l.onPrimaryUpdate?.(update);
  }

  display(cmd: DisplayCommand): void {
    this.applied[cmd.kind]++;
    switch (cmd.kind) {
      case 'surfaceCreate':
        return this.createSurface(cmd.surfaceId, cmd.width, cmd.height, cmd.primary);
      case 'surfaceDestroy':
        return this.destroySurface(cmd.surfaceId);
      case 'fill': {
        const s = this.surfaces.get(cmd.surfaceId);
        if (!s) return;
        const rect = s.fill(cmd.rect, cmd.color);
        if (this.isPrimary(s) && !rectIsEmpty(rect)) this.emit({ kind: 'fill', rect, color: cmd.color });
        return;
      }
      case 'copy': {
        const s = this.surfaces.get(cmd.surfaceId);
        if (!s) return;
        const src = cmd.src ?? { x: 0, y: 0 };
        const rect = s.putImage(cmd.dest, cmd.image, src);
        if (this.isPrimary(s) && !rectIsEmpty(rect)) {
          this.emit({
            kind: 'copy',
            rect,
            image: cmd.image,
            src: { x: src.x + rect.left - cmd.dest.left, y: src.y + rect.top - cmd.dest.top },
          });
        }
        return;
      }
      case 'blitSurface':
        return this.blitSurface(cmd.surfaceId, cmd.dest, cmd.srcSurfaceId, cmd.src);
      case 'copyBits': {
        const s = this.surfaces.get(cmd.surfaceId);
        if (!s) return;
        const rect = s.copyBits(cmd.src, cmd.dest);
        if (this.isPrimary(s) && !rectIsEmpty(rect)) {
          this.emit({
            kind: 'copyBits',
            rect,
            src: { x: cmd.src.x + rect.left - cmd.dest.left, y: cmd.src.y + rect.top - cmd.dest.top },
          });
        }
        return;
      }
    }
  }

  /**
   * Back to an empty desktop: every surface destroyed (the primary last, so viewers are told once),
   * the cursor and pointer as at start, the counts at zero. The server's rehearsal
   * (server/rehearsal.ts) leaves it so for the real source.
   */
  clear(): void {
    for (const id of [...this.surfaces.keys()]) if (id !== this.primaryId) this.destroySurface(id);
    if (this.primaryId !== undefined) this.destroySurface(this.primaryId);
    this.spare.clear();
    Object.assign(this.cursorState, { shape: undefined, visible: true, x: 0, y: 0 });
    Object.assign(this.pointer, { x: 0, y: 0, buttons: 0 });
    for (const kind of Object.keys(this.applied) as DisplayCommand['kind'][]) this.applied[kind] = 0;
  }

  private isPrimary(s: Surface): boolean {
    return s.id === this.primaryId;
  }

  private createSurface(id: number, width: number, height: number, primary: boolean): void {
    if (width <= 0 || height <= 0 || width > 16384 || height > 16384)
      throw new RangeError(`surface ${id}: bad size ${width}x${height}`);
    if (primary && this.primaryId !== undefined && this.primaryId !== id) this.destroySurface(this.primaryId);
    const s = new Surface(id, width, height, this.takeSpare(width * height * 4));
    this.surfaces.set(id, s);
    if (primary) {
      this.primaryId = id;
      this.pointer.x = Math.min(this.pointer.x, width - 1);
      this.pointer.y = Math.min(this.pointer.y, height - 1);
      this.emit({ kind: 'primaryCreated', surface: s });
    }
  }

  private destroySurface(id: number): void {
    const s = this.surfaces.get(id);
    if (!s) return;
    this.surfaces.delete(id);
    if (id === this.primaryId) {
      this.primaryId = undefined;
      this.emit({ kind: 'primaryDestroyed' });
    } else {
      // Only off-screen memory is recycled: nothing outside the desktop ever holds it (a blit to
      // the primary copies its pixels), whereas the primary is what channels read.
      this.keepSpare(s.data);
    }
  }

  /**
   * QXL guests create and destroy thousands of small off-screen surfaces (recordings/image: 1,220
   * of 24x24 for 3,731 commands); a fresh zeroed ArrayBuffer for each cost more than drawing into
   * it. Small memory is kept for reuse, a few per size, and zeroed again when it is taken.
   */
  private keepSpare(data: Buffer): void {
    if (data.length > SPARE_MAX_BYTES) return;
    const list = this.spare.get(data.length) ?? [];
    if (list.length >= SPARE_PER_SIZE) return;
    list.push(data);
    this.spare.set(data.length, list);
  }

  private takeSpare(bytes: number): Buffer | undefined {
    const data = this.spare.get(bytes)?.pop();
    return data?.fill(0);
  }

  private blitSurface(id: number, dest: Rect, srcId: number, src: Point): void {
    const s = this.surfaces.get(id);
    const from = this.surfaces.get(srcId);
    if (!s || !from) return;
    if (s === from) {
      this.display({ kind: 'copyBits', surfaceId: id, src, dest });
      this.applied.copyBits--;
      return;
    }
    const rect = s.blitFrom(from, src, dest);
    if (this.isPrimary(s) && !rectIsEmpty(rect)) {
      // Capture the blitted pixels now (from the primary itself, which now holds them): the
      // off-screen source may change before the message leaves.
      const image = cropImage(s, rect.left, rect.top, rect.right - rect.left, rect.bottom - rect.top);
      this.emit({ kind: 'copy', rect, image, src: { x: 0, y: 0 } });
    }
  }

  cursor(cmd: CursorCommand): void {
    const st = this.cursorState;
    switch (cmd.kind) {
      case 'cursorSet':
        st.shape = cmd.shape;
        st.visible = true;
        break;
      case 'cursorMove':
        st.x = cmd.x;
        st.y = cmd.y;
        break;
      case 'cursorHide':
        st.visible = false;
        break;
      case 'cursorShow':
        st.visible = true;
        break;
    }
    for (const l of this.listeners) l.onCursor?.(cmd, st);
  }

  /** Sound goes straight through to the playback channel. */
  audio(cmd: AudioCommand): void {
    for (const l of this.listeners) l.onAudio?.(cmd);
  }

  /** Deliver input to the source, keeping the shared pointer up to date. */
  input(ev: InputEvent): void {
    if (ev.kind === 'pointer' || ev.kind === 'button') {
      this.pointer.x = ev.x;
      this.pointer.y = ev.y;
      this.pointer.buttons = ev.buttons;
    }
    this.inputHandler?.(ev);
  }
}
