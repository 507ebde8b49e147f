import type { CursorCommand, DisplayCommand, DisplaySink, SeamCommand } from '../display/commands.js';
import type { DisplaySource, InputEvent } from './types.js';

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
    if (isCursorCommand(cmd)) this.sink.cursor(cmd);
    else if (isAudioCommand(cmd)) this.sink.audio?.(cmd);
    else this.sink.display(cmd);
  }
}

export function isCursorCommand(cmd: SeamCommand): cmd is CursorCommand {
  return cmd.kind.startsWith('cursor');
}

export function isAudioCommand(cmd: SeamCommand): cmd is Extract<SeamCommand, { kind: 'audioStart' | 'audioFrame' | 'audioStop' }> {
  return cmd.kind.startsWith('audio');
}

export type { DisplayCommand };
