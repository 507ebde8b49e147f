import type { DisplaySink } from './commands.js';
import type { DesktopClipboard, DesktopResize } from './desktop-agent.js';
import type { InputEvent } from './input.js';

/** A desktop to serve: it draws through the sink and reacts to input. */
export interface DisplaySource {
  readonly name: string;
  /** Begin drawing: the first commands must create the primary surface. */
  start(sink: DisplaySink): Promise<void> | void;
  stop(): Promise<void> | void;
  input?(event: InputEvent): void;
  /** Lock-key state the source wants viewers to show (KeyModifier flags). */
  readonly modifiers?: number;
  /** The desktop's clipboard, for the agent spiced plays (src/seam/desktop-agent.ts). */
  readonly clipboard?: DesktopClipboard;
  /** Present when the desktop can follow the viewer's window size. */
  readonly resizer?: DesktopResize;
}
