import type { PixelImage } from '../../../display/pixels.js';
import { Surface } from '../../../display/surface.js';
import { loadRecording } from './byte-source.js';
import { ReplayEvents } from './replay-events.js';
import type { ImportStats } from './stats.js';
import { ReplayTranslator, type SeamCommand, type TimedCommand } from './translator.js';

/*
 * Public entry points for importing spice-server recordings (SPICE_WORKER_RECORD_FILENAME files,
 * "SPICE_REPLAY 1"), plain or `.xz`. The whole (decompressed) recording is read into memory and
 * then parsed synchronously, event after event, while the commands are handed out; besides the
 * recording only the shadow surfaces are kept.
 */

export class SpiceReplayImporter {
  private readonly translator = new ReplayTranslator();
  private started = false;

  /**
   * A path (".xz" is decompressed with `xz -dc`), the recording's bytes as chunks (copied), or
   * all its bytes in one Buffer, which is not copied: commands may hold views into it, so the
   * caller must never write it afterwards.
   */
  constructor(private readonly input: string | AsyncIterable<Buffer> | Buffer) {}

  /** Counts so far; complete once the commands have all been read. */
  get stats(): ImportStats {
    return this.translator.stats;
  }

  /** The commands, in recording order. Can be iterated once. */
  async *events(): AsyncGenerator<TimedCommand> {
    this.begin('events');
    const bytes = Buffer.isBuffer(this.input) ? this.input : await loadRecording(this.input);
    // The only await is the read: the loop below yields straight from the synchronous parser.
    for (const out of this.translated(bytes)) yield out;
  }

  /**
   * The same, synchronously, when the recording was given as a Buffer: an async caller that
   * iterates this in its own generator saves a layer of promises per command over events().
   * Can be iterated once (either way).
   */
  commands(): Generator<TimedCommand> {
    if (!Buffer.isBuffer(this.input)) throw new Error('SpiceReplayImporter.commands() needs the recording as a Buffer');
    this.begin('commands');
    return this.translated(this.input);
  }

  private begin(what: string): void {
    if (this.started) throw new Error(`SpiceReplayImporter.${what}() can only be iterated once`);
    this.started = true;
  }

  /** Each event is read, decoded and translated in one go, then its commands handed out. */
  private *translated(recording: Buffer): Generator<TimedCommand> {
    const events = new ReplayEvents(recording);
    for (let ev = events.next(); ev; ev = events.next()) {
      const commands = this.translator.translate(ev);
      for (let i = 0; i < commands.length; i++) yield commands[i]!;
    }
  }
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
export async function renderFinalFrame(path: string | AsyncIterable<Buffer> | Buffer): Promise<PixelImage> {
  const player = new CommandPlayer();
  let lastPrimary: Surface | null = null;
  for await (const { command } of new SpiceReplayImporter(path).events()) {
    player.apply(command);
    lastPrimary = player.primary ?? lastPrimary;
  }
  if (!lastPrimary)
    throw new Error(`recording ${typeof path === 'string' ? path : ''} never created a primary surface`);
  return lastPrimary;
}
