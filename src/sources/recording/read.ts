import { Desktop } from '../../display/desktop.js';
import { deliverCommand } from '../../seam/index.js';
import type { PixelImage } from '../../display/pixels.js';
import type { Surface } from '../../display/surface.js';
import {
  containerOf,
  decompressedChunks,
  firstBytes,
  readDecompressed,
  readHead,
  type Container,
} from './container.js';
import { hasSpicedMagic, readSpicedRecording, type TimedSeamCommand } from './spiced-format/index.js';
import { renderFinalFrame, SpiceReplayImporter } from './spice-replay/index.js';

/*
 * One way in for every recording spiced can play: its own format (spiced-format/) and
 * spice-server's SPICE_REPLAY files (spice-replay/), plain, gzip'd or xz'd.
 */

export type RecordingFormat = 'spiced' | 'spice-replay';

const REPLAY_MAGIC = Buffer.from('SPICE_REPLAY ', 'latin1');
/** Enough bytes to tell the formats (and wrappers) apart. */
const PROBE_BYTES = 64;

export interface RecordingKind {
  format: RecordingFormat;
  /** How the file is wrapped (spiced recordings compress their own body and are always 'plain'). */
  container: Container;
}

/** What kind of recording `path` holds, from its content (not its name). */
async function probeRecording(path: string): Promise<RecordingKind> {
  const head = await readHead(path, PROBE_BYTES);
  if (hasSpicedMagic(head)) return { format: 'spiced', container: 'plain' };
  const container = containerOf(head);
  const inner = container === 'plain' ? head : await firstBytes(decompressedChunks(path, container), PROBE_BYTES);
  return { format: innerFormat(path, inner, container), container };
}

/** The format of decompressed bytes that are not a plain spiced recording; throws for anything else. */
function innerFormat(path: string, inner: Buffer, container: Container): RecordingFormat {
  if (inner.subarray(0, REPLAY_MAGIC.length).equals(REPLAY_MAGIC)) return 'spice-replay';
  if (hasSpicedMagic(inner)) {
    throw new Error(
      `${path}: a spiced recording inside ${container}: decompress it first (spiced recordings compress their own body)`,
    );
  }
  const start = JSON.stringify(inner.subarray(0, 16).toString('latin1'));
  throw new Error(
    `${path}: not a recording (starts with ${start}); expected a spiced recording or a SPICE_REPLAY file, plain, gzip or xz`,
  );
}

/**
 * A SPICE_REPLAY recording's whole decompressed bytes (what the importer parses), or null for a
 * spiced recording. Decompresses once: probing and importing share the bytes.
 */
async function loadReplay(path: string): Promise<Buffer | null> {
  const head = await readHead(path, PROBE_BYTES);
  if (hasSpicedMagic(head)) return null;
  const container = containerOf(head);
  // A plain file is judged by its head before it is read whole (it may be anything, and large).
  if (container === 'plain') innerFormat(path, head, container);
  const bytes = await readDecompressed(path, container);
  innerFormat(path, bytes.subarray(0, PROBE_BYTES), container);
  return bytes;
}

export async function detectRecordingFormat(path: string): Promise<RecordingFormat> {
  return (await probeRecording(path)).format;
}

/** The recording's timestamped commands, streamed, whichever format it is in. */
export async function* readRecording(path: string): AsyncGenerator<TimedSeamCommand> {
  const replay = await loadReplay(path);
  if (!replay) {
    yield* readSpicedRecording(path);
    return;
  }
  // Synchronous commands, yielded here: one async step per command instead of two.
  for (const command of new SpiceReplayImporter(replay).commands()) yield command;
}

/**
 * The recording's final frame: what the primary surface shows after the last command (or the
 * last primary surface, if the recording ends by destroying it).
 */
export async function renderRecording(path: string): Promise<PixelImage> {
  const replay = await loadReplay(path);
  if (replay) return renderFinalFrame(replay);
  const desktop = new Desktop();
  let last: Surface | undefined;
  for await (const { command } of readSpicedRecording(path)) {
    deliverCommand(desktop, command);
    last = desktop.primary ?? last;
  }
  if (!last) throw new Error(`${path}: the recording never creates a primary surface`);
  return last;
}
