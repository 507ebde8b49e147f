import { setTimeout as sleepFor } from 'node:timers/promises';
import { deliverCommand, type DisplaySink, type DisplaySource, type SeamCommand } from '../../seam/index.js';
import { readRecording } from './read.js';
import type { TimedSeamCommand } from './spiced-format/index.js';

/**
 * How fast a recording plays: 'asap' pushes commands back to back (yielding to the event loop
 * every few so the server can send), 'realtime' follows the recorded timestamps, a number plays
 * one command every that many milliseconds.
 */
export type RecordingPace = 'asap' | 'realtime' | number;

/** Time for playback; tests substitute a fake one. */
export interface PlaybackClock {
  /** Milliseconds, any origin. */
  now(): number;
  /** Resolve after `ms` (reject with an AbortError when `signal` aborts). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export interface RecordingSourceOptions {
  pace?: RecordingPace;
  /** Start over at the end (the recording's first commands create the primary surface again). */
  loop?: boolean;
  /** Called once when playback ends: the recording is over (without loop), or it failed. */
  onEnd?: (error?: Error) => void;
  clock?: PlaybackClock;
  /** 'asap' yields to the event loop after this many commands (default 32). */
  yieldEvery?: number;
}

const realClock: PlaybackClock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleepFor(ms, undefined, { signal }),
};

/**
 * The pace with its name as this module's own string constant. A name from the command line is a
 * string V8 has not interned, of another instance type than a literal's: the pass compiled for the
 * rehearsal's 'asap' was thrown away ('wrong instance type') on the first viewer's `--pace asap`.
 */
function internedPace(pace: RecordingPace): RecordingPace {
  if (pace === 'asap') return 'asap';
  if (pace === 'realtime') return 'realtime';
  return pace;
}

/** Where a recording's commands come from: a fresh pass over the file each call. */
export type CommandStream = () => AsyncIterable<TimedSeamCommand>;

/**
 * A DisplaySource that plays a recording into the server. Input from viewers is ignored (a
 * recording cannot react to it).
 */
export class RecordingSource implements DisplaySource {
  readonly name: string;
  private readonly pace: RecordingPace;
  private readonly clock: PlaybackClock;
  private readonly yieldEvery: number;
  private abort: AbortController | undefined;
  /**
   * Set by stop(), read by the playing pass between commands. Not its AbortSignal's `aborted`: the
   * signal is node's object, whose hidden class changes as node uses it (an aborted rehearsal's
   * signal), and the compiled pass, which checks it at every command, was thrown away on the first
   * viewer's pass. The signal still cancels a sleep.
   */
  private stopping = false;
  private running: Promise<void> | undefined;
  private count = 0;
  private passes = 0;
  /** Commands delivered since playback last waited (across passes: a short loop must yield too). */
  private unwaited = 0;
  /** One pass's commands, decoded ahead by preload() when they fit its budget. */
  private loaded: TimedSeamCommand[] | undefined;

  /** `commands` defaults to reading `path` (either format) afresh for every pass. */
  constructor(
    readonly path: string,
    private readonly options: RecordingSourceOptions = {},
    private readonly commands: CommandStream = () => readRecording(path),
  ) {
    this.name = `recording ${path}`;
    this.pace = internedPace(options.pace ?? 'realtime');
    this.clock = options.clock ?? realClock;
    this.yieldEvery = Math.max(1, options.yieldEvery ?? 32);
    if (typeof this.pace === 'number' && !(this.pace >= 0))
      throw new RangeError(`pace must be 'asap', 'realtime' or a number of ms >= 0, got ${this.pace}`);
  }

  /**
   * Decode the whole recording now, before anyone watches, and play every pass from memory: the
   * first viewer then gets frames at the speed of the encoders rather than of the parser, and a
   * looping recording is parsed once. Gives up (playback then streams from the file) as soon as
   * the decoded commands would hold more than `budgetBytes` of pixels and samples. Returns whether
   * the recording is now in memory.
   */
  async preload(budgetBytes: number): Promise<boolean> {
    const commands: TimedSeamCommand[] = [];
    let held = 0;
    for await (const timed of this.commands()) {
      held += heldBytes(timed.command);
      if (held > budgetBytes) return false;
      commands.push(timed);
    }
    this.loaded = commands;
    return true;
  }

  /** Commands delivered so far (over all passes). */
  get played(): number {
    return this.count;
  }

  /** Passes started (1 + the number of loops). */
  get loops(): number {
    return this.passes;
  }

  /** Resolves when playback has ended or been stopped. */
  get done(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  start(sink: DisplaySink): void {
    if (this.running) throw new Error(`${this.name} is already playing`);
    const abort = new AbortController();
    this.abort = abort;
    this.stopping = false;
    this.running = this.play(sink, abort.signal).then(
      () => this.end(abort.signal),
      (err: unknown) => this.end(abort.signal, err instanceof Error ? err : new Error(String(err))),
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.abort?.abort();
    await this.running;
    this.running = undefined;
    this.abort = undefined;
  }

  private end(signal: AbortSignal, error?: Error): void {
    // A stop() is not an end of the recording, and an abort surfaces as an AbortError: neither is reported.
    if (signal.aborted) return;
    if (this.options.onEnd) this.options.onEnd(error);
    else if (error) console.error(`spiced: ${this.name}: playback failed: ${error.message}`);
  }

  private async play(sink: DisplaySink, signal: AbortSignal): Promise<void> {
    do {
      this.passes++;
      const played = await this.playOnce(sink, signal);
      // An empty recording would loop without ever awaiting anything.
      if (played === 0) throw new Error(`${this.path} holds no commands`);
    } while (this.options.loop && !this.stopping);
  }

  /** One pass over the recording; returns the number of commands delivered. */
  private async playOnce(sink: DisplaySink, signal: AbortSignal): Promise<number> {
    const startedAt = this.clock.now();
    let n = 0;
    // A preloaded pass steps synchronously between waits: `for await` would cost a promise per command.
    const commands: Iterator<TimedSeamCommand> | AsyncIterator<TimedSeamCommand> = this.loaded
      ? this.loaded[Symbol.iterator]()
      : this.commands()[Symbol.asyncIterator]();
    try {
      for (;;) {
        const step = commands.next();
        const next = step instanceof Promise ? await step : step;
        if (next.done || this.stopping) break;
        const wait = this.waitBefore(startedAt, n, next.value.timeNs, signal);
        if (wait) {
          await wait;
          this.unwaited = 0;
          if (this.stopping) break;
        } else {
          this.unwaited++;
        }
        deliverCommand(sink, next.value.command);
        n++;
        this.count++;
      }
    } finally {
      // Closes the file of a streamed pass that stopped early.
      await commands.return?.();
    }
    return n;
  }

  /**
   * What to wait for before the n-th command of a pass: its due time, or a turn of the event loop
   * after `yieldEvery` commands without one (asap, or a pace the machine cannot keep): decoded
   * commands and file reads resolve through microtasks only, so the server would never send.
   */
  private waitBefore(startedAt: number, n: number, timeNs: bigint, signal: AbortSignal): Promise<void> | undefined {
    if (this.stopping) return undefined;
    const due = this.dueAt(startedAt, n, timeNs);
    const wait = due === undefined ? 0 : due - this.clock.now();
    if (wait > 0) return this.clock.sleep(wait, signal);
    return this.unwaited >= this.yieldEvery ? new Promise<void>((resolve) => setImmediate(resolve)) : undefined;
  }

  /** When (clock ms) the n-th command of a pass is due, or undefined for 'asap'. */
  private dueAt(startedAt: number, n: number, timeNs: bigint): number | undefined {
    if (this.pace === 'asap' || this.pace === 0) return undefined;
    if (this.pace === 'realtime') return startedAt + Number(timeNs / 1000n) / 1000;
    // From the pass start rather than the previous command, so rounding never accumulates.
    return startedAt + n * this.pace;
  }
}

/** Bytes of pixels or samples a decoded command keeps alive, plus a little for the object itself. */
function heldBytes(command: SeamCommand): number {
  const OBJECT_BYTES = 128;
  switch (command.kind) {
    case 'copy':
      return OBJECT_BYTES + command.image.data.length;
    case 'cursorSet':
      return OBJECT_BYTES + command.shape.image.data.length;
    case 'audioFrame':
      return OBJECT_BYTES + command.pcm.byteLength;
    default:
      return OBJECT_BYTES;
  }
}
