import type { DisplaySink, SeamCommand } from './commands.js';

/**
 * Hand one command to the sink method for its kind: the one place that knows which kinds are
 * display, cursor or sound (recordings, the feed and tests hold them mixed). The switch names
 * every kind, so a new kind fails to compile here instead of going to the wrong method.
 */
export function deliverCommand(sink: DisplaySink, command: SeamCommand): void {
  switch (command.kind) {
    case 'cursorSet':
    case 'cursorMove':
    case 'cursorHide':
    case 'cursorShow':
      sink.cursor(command);
      return;
    case 'audioStart':
    case 'audioFrame':
    case 'audioStop':
      sink.audio?.(command);
      return;
    case 'surfaceCreate':
    case 'surfaceDestroy':
    case 'fill':
    case 'copy':
    case 'blitSurface':
    case 'copyBits':
      sink.display(command);
      return;
    default:
      unreachable(command);
  }
}

/** For the default branch of a switch that must name every case: compiles only when none is left. */
export function unreachable(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
