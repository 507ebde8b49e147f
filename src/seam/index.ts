/*
 * The display-command seam: what sources produce (commands, sound), what they receive (input,
 * the agent's clipboard and resize), the interfaces on either side, and the one function that
 * routes a command to its sink method. Every source speaks only this; the server applies it
 * (src/display/desktop.ts); recordings hold it. See docs/architecture.md.
 */
export type {
  AudioCommand,
  CursorCommand,
  CursorShape,
  DisplayCommand,
  DisplaySink,
  SeamCommand,
  ViewerPace,
} from './commands.js';
export type {
  ClipboardSelection,
  ClipboardType,
  DesktopClipboard,
  DesktopResize,
  ViewerClipboard,
} from './desktop-agent.js';
export type { InputEvent } from './input.js';
export type { PixelImage } from './pixel-image.js';
export type { DisplaySource } from './source.js';
export { deliverCommand, unreachable } from './deliver.js';
