/*
 * spice-server recording import ("SPICE_REPLAY 1"): SpiceReplayImporter streams
 * a recording as seam commands, renderFinalFrame plays it to its last frame.
 */
export { CommandPlayer, renderFinalFrame, SpiceReplayImporter } from './importer.js';
export { RecordingWriter } from './record-writer.js';
export type { ImportStats } from './stats.js';
