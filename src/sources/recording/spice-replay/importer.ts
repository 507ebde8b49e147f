import type { PixelImage } from '../../../display/pixels.js';
import { Surface } from '../../../display/surface.js';
import { openRecording } from './byte-source.js';
import { decodeEvent } from './decode-event.js';
import { readRawEvents } from './event-stream.js';
import type { ImportStats } from './stats.js';
import { ReplayTranslator, type SeamCommand, type TimedCommand } from './translator.js';

/*
 * Public entry points for importing spice-server recordings (SPICE_WORKER_RECORD_FILENAME files,
 * "SPICE_REPLAY 1"), plain or `.xz`. The file is streamed: one event at a time is in memory,
 * plus the shadow surfaces.
 */

export class SpiceReplayImporter {
  private readonly translator = new ReplayTranslator();
  private started = false;

  /** A path (".xz" is decompressed with `xz -dc`) or the recording's bytes as chunks. */
  constructor(private readonly input: string | AsyncIterable<Buffer>) {}

  /** Counts so far; complete once events() has finished. */
  get stats(): ImportStats {
    return this.translator.stats;
  }

  /** The commands, in recording order. Can be iterated once. */
  async *events(): AsyncGenerator<TimedCommand> {
    if (this.started) throw new Error('SpiceReplayImporter.events() can only be iterated once');
    this.started = true;
    const source = typeof this.input === 'string' ? openRecording(this.input) : this.input;
    for await (const raw of readRawEvents(source)) {
      for (const out of this.translator.translate(decodeEvent(raw))) yield out;
    }
  }
}

/** The recording as timestamped seam commands (timeNs counts from the first event). */
export async function* readSpiceReplay(path: string): AsyncGenerator<{ timeNs: bigint; command: SeamCommand }> {
  yield* new SpiceReplayImporter(path).events();
}

/** Applies seam commands to plain Surfaces, as the server does; tracks which surface is primary. */
export class CommandPlayer {
  readonly surfaces = new Map<number, Surface>();
  primaryId: number | null = null;

  apply(command: SeamCommand): void {
    switch (command.kind) {
      case 'surfaceCreate':
        this.surfaces.set(command.surfaceId, new Surface(command.surfaceId, command.width, command.height));
        if (command.primary) this.primaryId = command.surfaceId;
        return;
      case 'surfaceDestroy':
        this.surfaces.delete(command.surfaceId);
        if (this.primaryId === command.surfaceId) this.primaryId = null;
        return;
      case 'fill':
        this.surface(command.surfaceId).fill(command.rect, command.color);
        return;
      case 'copy':
        this.surface(command.surfaceId).putImage(command.dest, command.image, command.src);
        return;
      case 'blitSurface':
        this.surface(command.surfaceId).blitFrom(this.surface(command.srcSurfaceId), command.src, command.dest);
        return;
      case 'copyBits':
        this.surface(command.surfaceId).copyBits(command.src, command.dest);
        return;
      default:
        return; // cursor commands do not touch surfaces
    }
  }

  get primary(): Surface | null {
    return this.primaryId === null ? null : (this.surfaces.get(this.primaryId) ?? null);
  }

  private surface(id: number): Surface {
    const s = this.surfaces.get(id);
    if (!s) throw new Error(`command refers to surface ${id}, which does not exist`);
    return s;
  }
}

/** Plays the whole recording through the seam commands and returns the last primary surface. */
export async function renderFinalFrame(path: string | AsyncIterable<Buffer>): Promise<PixelImage> {
  const player = new CommandPlayer();
  let lastPrimary: Surface | null = null;
  for await (const { command } of new SpiceReplayImporter(path).events()) {
    player.apply(command);
    lastPrimary = player.primary ?? lastPrimary;
  }
  if (!lastPrimary) throw new Error(`recording ${typeof path === 'string' ? path : ''} never created a primary surface`);
  return lastPrimary;
}
