import type { AudioCommand, CursorCommand, DisplayCommand, DisplaySink, SeamCommand } from '../../../seam/index.js';
import type { SessionRecorder } from './recorder.js';

/** Nanoseconds since the start of the recording. */
export type RecordingClock = () => bigint;

/** A monotonic clock that starts at 0 now. */
function monotonicClock(): RecordingClock {
  const t0 = process.hrtime.bigint();
  return () => process.hrtime.bigint() - t0;
}

/**
 * A DisplaySink that forwards every command to `inner` (first: the live session never waits for
 * the recording) and records it with a timestamp from `clock`. Recording failures never reach the
 * live path: an error (I/O, or a command the format cannot hold) stops the recording and is
 * reported once through `onError` (or the recorder's own handler); the session carries on.
 */
export function recordingSink(
  inner: DisplaySink,
  recorder: SessionRecorder,
  clock: RecordingClock = monotonicClock(),
  onError?: (err: Error) => void,
): DisplaySink {
  if (onError) recorder.onError = onError;
  const record = (cmd: SeamCommand): void => {
    if (!recorder.recording) return;
    try {
      recorder.write(clock(), cmd);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      recorder.abort(
        new Error(
          `recording ${recorder.name}: cannot record a ${cmd.kind} command (record ${recorder.recordCount}): ${why}`,
        ),
      );
    }
  };
  return {
    // The live session's viewers pace the source as if nothing recorded it.
    get pace() {
      return inner.pace;
    },
    display(cmd: DisplayCommand): void {
      inner.display(cmd);
      record(cmd);
    },
    cursor(cmd: CursorCommand): void {
      inner.cursor(cmd);
      record(cmd);
    },
    audio(cmd: AudioCommand): void {
      inner.audio?.(cmd);
      record(cmd);
    },
  };
}
