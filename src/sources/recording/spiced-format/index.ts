/*
 * spiced's own session recordings (docs/recording-format.md): SessionRecorder writes them while a
 * session runs, recordingSink tees a live sink into one, readSpicedRecording streams them back.
 */
export { RecordingFormatError } from './bytes.js';
export { FORMAT_MAJOR, FORMAT_MINOR, hasSpicedMagic, type RecordingHeader, type RecordingMeta } from './header.js';
export type { ImageStorage } from './images.js';
export { readSpicedHeader, readSpicedRecording, SpicedRecordingReader, type ReadStatus, type TimedSeamCommand } from './reader.js';
export { SessionRecorder, writeRecording, type RecorderOptions } from './recorder.js';
export { monotonicClock, recordingSink, type RecordingClock } from './tee.js';
