/* The demo desktop's colours (0x00RRGGBB), kept in one place so the parts look like one desktop. */
export const theme = {
  desktopTop: 0x18203a,
  desktopBottom: 0x2f6a86,
  desktopGlowA: 0x5fb3c9,
  desktopGlowB: 0x9b7fc8,
  desktopText: 0x9fbfd6,

  frame: 0x1d2230,
  titleTop: 0x424b61,
  titleBottom: 0x323a4d,
  titleText: 0xe9edf5,
  body: 0xeef1f6,
  bodyText: 0x283042,
  muted: 0x6d7589,
  close: 0xe5655c,
  minimize: 0xe8bb4c,
  maximize: 0x62c06d,

  termBg: 0x141824,
  termText: 0xd5dae5,
  termDim: 0x6e7890,
  termGreen: 0x9dcf7c,
  termBlue: 0x7db3e8,
  termYellow: 0xe8c878,
  termRed: 0xe47c7c,
  termPurple: 0xc49ddb,
  termCaret: 0xd5dae5,

  taskbar: 0x11151f,
  taskbarLine: 0x2a3142,
  taskbarText: 0xc9d0de,
  taskbarButton: 0x222939,
  taskbarAccent: 0x4f93dd,

  clockFace: 0xf7f8fb,
  clockRim: 0x3a4357,
  clockTick: 0x3a4357,
  clockHand: 0x232a3a,
  clockSecond: 0xd9483b,
} as const;

/** Colours the paint brush cycles through, one per stroke. */
export const paintColors: readonly number[] = [0xffcf5a, 0xff7a6b, 0x7be0a5, 0x6fc3ff, 0xd79bff, 0xffffff];

/** Accent colours the welcome window cycles through when clicked. */
export const accentColors: readonly number[] = [0x4f93dd, 0xd9703b, 0x3fa76a, 0x9a62c9];
