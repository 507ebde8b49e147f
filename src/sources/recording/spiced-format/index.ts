/*
 * spiced's own session recordings (docs/recording-format.md): SessionRecorder writes them while a
 * session runs, recordingSink tees a live sink into one, readSpicedRecording streams them back.
 */
export { hasSpicedMagic } from './header.js';
export { readSpicedRecording, SpicedRecordingReader, type TimedSeamCommand } from './reader.js';
export { SessionRecorder, writeRecording, type RecorderOptions } from './recorder.js';
export { recordingSink } from './tee.js';
