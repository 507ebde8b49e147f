/*
 * Recordings: spiced's own format (spiced-format/), spice-server's SPICE_REPLAY files
 * (spice-replay/), and the unified entry points that read, render and play either.
 */
export type { Container } from './container.js';
export { RecordingSource, realClock, type CommandStream, type PlaybackClock, type RecordingPace, type RecordingSourceOptions } from './player.js';
export { detectRecordingFormat, probeRecording, readRecording, renderRecording, type RecordingFormat, type RecordingKind } from './read.js';
export {
  monotonicClock,
  readSpicedHeader,
  readSpicedRecording,
  RecordingFormatError,
  recordingSink,
  SessionRecorder,
  SpicedRecordingReader,
  writeRecording,
  type ReadStatus,
  type RecorderOptions,
  type RecordingClock,
  type RecordingHeader,
  type RecordingMeta,
  type TimedSeamCommand,
} from './spiced-format/index.js';
