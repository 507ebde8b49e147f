import { makeRect } from '../../../protocol/geometry.js';
import type { CursorCommand, DisplayCommand } from '../../../seam/index.js';
import { allocImage } from '../../../display/pixels.js';
import { convertCursor } from './cursor.js';
import {
  SurfaceFlags,
  SurfaceFormat,
  WORKER_MESSAGE_NAMES,
  WorkerMessage,
  type PrimarySurfaceCreate,
  type QxlCursorCmd,
  type QxlSurfaceCmd,
  type ReplayEvent,
} from './qxl-types.js';
import { ShadowSurfaces } from './shadow.js';
import { bump, emptyStats, type ImportStats } from './stats.js';
import { translateDraw, type DrawContext } from './translate-draw.js';

/*
 * Turns decoded recording events into timestamped seam commands, keeping shadow copies of all
 * surfaces (see shadow.ts). Device messages and surface commands map as spice-server's worker
 * handles them:
 *
 *   CREATE_PRIMARY_SURFACE   surfaceCreate(0, primary) [+ copy of the initial pixels with KEEP_DATA;
 *                            without it the server clears the surface, as a new Surface is]
 *   DESTROY_PRIMARY_SURFACE  surfaceDestroy(0)
 *   DESTROY_SURFACES         surfaceDestroy for every surface (off-screen first, primary last)
 *   RESET_CURSOR             cursorHide
 *   QXL surface create/destroy -> surfaceCreate/surfaceDestroy (+ copy of KEEP_DATA pixels)
 *   QXL cursor SET/MOVE/HIDE -> cursorSet + cursorMove + cursorShow|cursorHide / cursorMove / cursorHide
 *   other device messages, QXL UPDATE and MESSAGE have no visible effect (counted as ignored)
 * Timestamps are nanoseconds since the first event of the recording.
 */

export type SeamCommand = DisplayCommand | CursorCommand;

export interface TimedCommand {
  readonly timeNs: bigint;
  readonly command: SeamCommand;
}

/** The context of the event being translated; `where` is only spelt out when a message needs it. */
class EventContext implements DrawContext {
  counter = 0;

  constructor(
    readonly surfaces: ShadowSurfaces,
    readonly stats: ImportStats,
  ) {}

  get where(): string {
    return `recording: event ${this.counter}`;
  }
}

export class ReplayTranslator {
  readonly surfaces = new ShadowSurfaces();
  readonly stats: ImportStats = emptyStats();
  private readonly context = new EventContext(this.surfaces, this.stats);
  private readonly cursorIds = new Map<bigint, number>();
  private nextCursorId = 1;
  private startNs: bigint | null = null;

  translate(ev: ReplayEvent): TimedCommand[] {
    this.stats.events++;
    this.startNs ??= ev.timeNs;
    const timeNs = ev.timeNs - this.startNs;
    this.context.counter = ev.counter;
    const commands = this.commandsFor(ev);
    this.stats.commands += commands.length;
    const out: TimedCommand[] = [];
    for (const command of commands) out.push({ timeNs, command });
    return out;
  }

  private commandsFor(ev: ReplayEvent): SeamCommand[] {
    switch (ev.kind) {
      case 'draw':
        return translateDraw(ev.drawable, this.context);
      case 'surface':
        return this.surfaceCommand(ev.cmd);
      case 'cursor':
        return this.cursorCommand(ev.cmd, this.context.where);
      case 'createPrimary':
        return this.createPrimary(ev.surface);
      case 'device':
        return this.deviceMessage(ev.message);
      case 'update':
        bump(this.stats.ignored, 'QXL UPDATE');
        return [];
      case 'message':
        bump(this.stats.ignored, 'QXL MESSAGE');
        return [];
    }
  }

  private createPrimary(s: PrimarySurfaceCreate): SeamCommand[] {
    const out: SeamCommand[] = [];
    if (this.surfaces.get(0)) out.push(...this.destroySurface(0));
    if (s.format !== SurfaceFormat.RGB32_x && s.format !== SurfaceFormat.ARGB32)
      bump(this.stats.approximate, `primary surface format ${s.format} kept as 32-bit`);
    this.surfaces.create(0, s.width, s.height, s.format);
    bump(this.stats.exact, 'surfaceCreate');
    out.push({ kind: 'surfaceCreate', surfaceId: 0, width: s.width, height: s.height, primary: true });
    if (s.flags & SurfaceFlags.KEEP_DATA && s.data.length > 0)
      out.push(...this.initialPixels(0, s.stride, s.format, s.data));
    return out;
  }

  private surfaceCommand(cmd: QxlSurfaceCmd): SeamCommand[] {
    if (cmd.type === 'destroy') {
      if (!this.surfaces.get(cmd.surfaceId)) {
        bump(this.stats.skipped, `surfaceDestroy: surface ${cmd.surfaceId} does not exist`);
        return [];
      }
      return this.destroySurface(cmd.surfaceId);
    }
    if (cmd.surfaceId === 0) {
      // Surface 0 is the primary, which only the device I/O CREATE_PRIMARY_SURFACE makes.
      bump(this.stats.skipped, 'surfaceCreate: QXL surface command for surface 0');
      return [];
    }
    if (cmd.format !== SurfaceFormat.RGB32_x && cmd.format !== SurfaceFormat.ARGB32)
      bump(this.stats.approximate, `surface format ${cmd.format} kept as 32-bit`);
    this.surfaces.create(cmd.surfaceId, cmd.width, cmd.height, cmd.format);
    bump(this.stats.exact, 'surfaceCreate');
    const out: SeamCommand[] = [
      { kind: 'surfaceCreate', surfaceId: cmd.surfaceId, width: cmd.width, height: cmd.height, primary: false },
    ];
    if (cmd.data) out.push(...this.initialPixels(cmd.surfaceId, cmd.stride, cmd.format, cmd.data));
    return out;
  }

  private destroySurface(id: number): SeamCommand[] {
    this.surfaces.destroy(id);
    bump(this.stats.exact, 'surfaceDestroy');
    return [{ kind: 'surfaceDestroy', surfaceId: id }];
  }

  /** Guest-provided initial contents (KEEP_DATA): memory order, bottom row first when stride < 0. */
  private initialPixels(id: number, stride: number, format: number, data: Buffer): SeamCommand[] {
    const shadow = this.surfaces.get(id)!;
    if (format !== SurfaceFormat.RGB32_x && format !== SurfaceFormat.ARGB32) {
      bump(this.stats.skipped, `surfaceData: initial pixels of format ${format} not converted`);
      return [];
    }
    const { width, height } = shadow;
    // Top-down rows over a cleared surface: what the shadow holds afterwards, sent whole.
    const image = allocImage(width, height);
    const pitch = Math.abs(stride);
    for (let row = 0; row < height; row++) {
      const y = stride < 0 ? height - 1 - row : row;
      data.copy(image.data, y * width * 4, row * pitch, row * pitch + width * 4);
    }
    const dest = makeRect(0, 0, height, width);
    shadow.putImage(dest, image);
    bump(this.stats.exact, 'surfaceData');
    return [{ kind: 'copy', surfaceId: id, dest, image }];
  }

  private deviceMessage(message: number): SeamCommand[] {
    switch (message) {
      case WorkerMessage.DESTROY_PRIMARY_SURFACE:
      case WorkerMessage.DESTROY_PRIMARY_SURFACE_ASYNC:
        return this.surfaces.get(0) ? this.destroySurface(0) : [];
      case WorkerMessage.DESTROY_SURFACES:
      case WorkerMessage.DESTROY_SURFACES_ASYNC: {
        const ids = this.surfaces.ids().sort((a, b) => (a === 0 ? 1 : b === 0 ? -1 : a - b));
        return ids.flatMap((id) => this.destroySurface(id));
      }
      case WorkerMessage.RESET_CURSOR:
        bump(this.stats.exact, 'cursorReset');
        return [{ kind: 'cursorHide' }];
      default:
        bump(this.stats.ignored, WORKER_MESSAGE_NAMES[message] ?? `device message ${message}`);
        return [];
    }
  }

  private cursorCommand(cmd: QxlCursorCmd, where: string): SeamCommand[] {
    switch (cmd.type) {
      case 'set': {
        const converted = convertCursor(cmd.shape, where);
        bump(
          converted.native ? this.stats.exact : this.stats.rendered,
          converted.native ? 'cursorSet' : 'cursorSet (converted to alpha)',
        );
        const shape = {
          id: this.cursorId(cmd.shape.unique),
          image: converted.image,
          hotX: cmd.shape.hotX,
          hotY: cmd.shape.hotY,
        };
        return [
          { kind: 'cursorSet', shape },
          { kind: 'cursorMove', x: cmd.position.x, y: cmd.position.y },
          { kind: cmd.visible ? 'cursorShow' : 'cursorHide' },
        ];
      }
      case 'move':
        bump(this.stats.exact, 'cursorMove');
        return [{ kind: 'cursorMove', x: cmd.position.x, y: cmd.position.y }];
      case 'hide':
        bump(this.stats.exact, 'cursorHide');
        return [{ kind: 'cursorHide' }];
      case 'trail':
        bump(this.stats.ignored, 'cursor trail');
        return [];
    }
  }

  /** The guest's cache key (unique) as the seam's shape id; 0 means "not cacheable". */
  private cursorId(unique: bigint): number {
    if (unique === 0n) return this.nextCursorId++;
    let id = this.cursorIds.get(unique);
    if (id === undefined) {
      id = this.nextCursorId++;
      this.cursorIds.set(unique, id);
    }
    return id;
  }
}
