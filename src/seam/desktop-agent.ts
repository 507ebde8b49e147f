/*
 * What a source offers the guest agent that spiced plays on the main channel: the desktop's
 * clipboard and a way to change the desktop's size. The main channel owns the agent protocol and
 * the policy between several viewers (who owns a grab, who may resize); a source only sees "the
 * viewers' side" as one peer. Both parts are optional: a source without them makes the agent
 * announce no clipboard and ignore monitors configs.
 */

/** The selections the agent protocol carries (X's CLIPBOARD and PRIMARY). */
export type ClipboardSelection = 'clipboard' | 'primary';

/**
 * Clipboard data types, as the agent protocol names them. Text is UTF-8; images are whole files
 * in their format (a PNG file, a BMP file).
 */
export type ClipboardType = 'text' | 'png' | 'bmp' | 'tiff' | 'jpg';

/** The viewers' side of the clipboard, as the source sees it (implemented by the server). */
export interface ViewerClipboard {
  /** A desktop application took `selection`, offering `types`: viewers should grab in turn. */
  desktopGrabbed(selection: ClipboardSelection, types: readonly ClipboardType[]): void;
  /** The desktop no longer owns `selection` (its owner quit or cleared it). */
  desktopReleased(selection: ClipboardSelection): void;
  /**
   * A desktop application pastes `selection` while a viewer owns it: the data of `type` from the
   * viewer that owns the grab. Rejects when no viewer owns it, the viewer has no such type, it
   * leaves, or the data exceeds the configured limit.
   */
  fetch(selection: ClipboardSelection, type: ClipboardType): Promise<Uint8Array>;
}

/** The desktop's side of the clipboard (implemented by a source). */
export interface DesktopClipboard {
  /** Connects the viewers' side; called once, before any other call. */
  attach(viewers: ViewerClipboard): void;
  /** A viewer grabbed `selection` with `types`: the desktop should own it now, data on demand. */
  viewerGrabbed(selection: ClipboardSelection, types: readonly ClipboardType[]): void;
  /** The owning viewer released `selection`: the desktop should drop its claim. */
  viewerReleased(selection: ClipboardSelection): void;
  /** A viewer pastes what the desktop owns: the data of `type`. Rejects if it is not offered. */
  read(selection: ClipboardSelection, type: ClipboardType): Promise<Uint8Array>;
}

/** A desktop whose size can follow the viewer's window. */
export interface DesktopResize {
  /**
   * Change the desktop to `width` x `height` (the source clamps to what it supports and redraws,
   * creating a new primary surface through its sink). Resolves to the size it actually took, or
   * null when it could not change.
   */
  resize(width: number, height: number): Promise<{ width: number; height: number } | null>;
}
