import {
  deliverCommand,
  type DisplaySink,
  type DisplaySource,
  type InputEvent,
  type SeamCommand,
} from '../seam/index.js';

/** Input events kept for inspection (the latest ones): every viewer's input would otherwise stay forever. */
export const FEED_INPUTS_KEPT = 1024;

/**
 * A source driven from outside: whoever holds it pushes commands (a recording player, the
 * replay measurements). Commands pushed before the server starts are kept and delivered then.
 */
export class FeedSource implements DisplaySource {
  private sink: DisplaySink | undefined;
  private early: SeamCommand[] = [];
  /** The latest input events (at most FEED_INPUTS_KEPT), oldest first. */
  readonly inputs: InputEvent[] = [];

  constructor(readonly name = 'feed') {}

  start(sink: DisplaySink): void {
    this.sink = sink;
    const early = this.early;
    this.early = [];
    for (const c of early) this.push(c);
  }

  stop(): void {
    this.sink = undefined;
  }

  input(ev: InputEvent): void {
    this.inputs.push(ev);
    if (this.inputs.length > FEED_INPUTS_KEPT) this.inputs.splice(0, this.inputs.length - FEED_INPUTS_KEPT);
  }

  push(cmd: SeamCommand): void {
    if (!this.sink) {
      this.early.push(cmd);
      return;
    }
    deliverCommand(this.sink, cmd);
  }
}
