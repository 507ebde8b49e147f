/*
 * Input as sources receive it, after the inputs channel has decoded it. Keys are PC/XT set-1
 * scancodes: 0x01..0x7F for plain keys, 0x100 | code for E0-prefixed (extended) keys. Pointer
 * positions are absolute surface pixels in both mouse modes (the inputs channel integrates relative
 * motion in server mode).
 */
export type InputEvent =
  | { kind: 'key'; scancode: number; down: boolean }
  | { kind: 'pointer'; x: number; y: number; buttons: number }
  | { kind: 'button'; button: number; down: boolean; x: number; y: number; buttons: number }
  /** Lock-key state from the client (KeyModifier flags: 1 scroll, 2 num, 4 caps). */
  | { kind: 'modifiers'; modifiers: number };
