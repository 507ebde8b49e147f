/*
 * Recordings: spiced's own format (spiced-format/), spice-server's SPICE_REPLAY files
 * (spice-replay/), and the unified entry points that read, render and play either.
 */
export { RecordingSource, type PlaybackClock, type RecordingSourceOptions } from './player.js';
export { detectRecordingFormat, readRecording, renderRecording } from './read.js';
export {
  readSpicedRecording,
  recordingSink,
  SessionRecorder,
  SpicedRecordingReader,
  writeRecording,
  type RecorderOptions,
  type TimedSeamCommand,
} from './spiced-format/index.js';
