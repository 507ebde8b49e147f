import { theme } from './theme.js';

/* The text the terminal shows: a fake system log and a tiny shell. Everything is deterministic. */

export interface Segment {
  text: string;
  color: number;
}

/** One terminal line: coloured runs of text. */
export type Line = Segment[];

export function plain(text: string, color: number = theme.termText): Line {
  return [{ text, color }];
}

const LOG_TEMPLATES: ReadonlyArray<[string, string, number]> = [
  ['display', 'primary surface 0 created, 32bpp', theme.termBlue],
  ['inputs', 'keyboard and tablet ready', theme.termBlue],
  ['cursor', 'alpha cursor shape sent', theme.termBlue],
  ['main', 'mouse mode: client', theme.termGreen],
  ['display', 'copy_bits 1 scroll, 0 bytes of pixels', theme.termGreen],
  ['net', 'rtt 0.4 ms, window 64 KiB', theme.termDim],
  ['display', 'lz image 312x18 -> 2.1 KiB', theme.termDim],
  ['clock', 'tick', theme.termDim],
  ['playback', 'no audio device, channel idle', theme.termYellow],
  ['display', 'damage 3 rects, 1.8% of screen', theme.termGreen],
  ['main', 'agent not connected (demo source)', theme.termYellow],
  ['display', 'fill 2 rects, solid brush', theme.termDim],
  ['net', 'ack window 20 messages', theme.termDim],
  ['display', 'window moved by copy_bits, exposed 2 strips', theme.termGreen],
  ['main', 'ping ok', theme.termDim],
  ['inputs', 'caps lock off, num lock on', theme.termPurple],
];

/** The n-th log line, stamped `seconds` since start, in the style of a kernel log. */
export function logLine(n: number, seconds: number): Line {
  const [who, what, color] = LOG_TEMPLATES[n % LOG_TEMPLATES.length] ?? ['main', 'ok', theme.termText];
  const stamp = `[${seconds.toFixed(3).padStart(9)}] `;
  return [
    { text: stamp, color: theme.termDim },
    { text: `${who}: `, color },
    { text: what, color: theme.termText },
  ];
}

/** The prompt followed by what has been typed. */
export function promptLine(input: string): Line {
  return [
    { text: 'demo@spiced', color: theme.termGreen },
    { text: ':', color: theme.termText },
    { text: '~', color: theme.termBlue },
    { text: '$ ', color: theme.termText },
    { text: input, color: theme.termText },
  ];
}

/** What the terminal shows when the desktop starts: a banner, two commands and a short boot log. */
export function bootScreen(): Line[] {
  const session = ['uname', 'ls', 'help'].flatMap((cmd) => [promptLine(cmd), ...runShell(cmd, '', 0).lines]);
  const stamps = [0.412, 0.873, 1.204, 1.95, 2.31, 3.002, 3.377, 4.158, 4.906];
  return [
    [
      { text: 'spiced demo terminal', color: theme.termPurple },
      { text: ' - a SPICE display in TypeScript', color: theme.termDim },
    ],
    plain("Type here. Try 'help'.", theme.termDim),
    ...session,
    ...stamps.map((s, i) => logLine(i, s)),
  ];
}

export interface ShellResult {
  lines: Line[];
  clear: boolean;
  /** `copy`: the text to put on the clipboard ('' for the terminal's last line, which only the terminal knows). */
  copy?: string;
}

const FORTUNES = [
  'Only the damaged rectangles travel.',
  'A scrolled line costs one copy_bits and one new row.',
  'Solid colours go out as fills.',
  'The cursor is drawn by the viewer, not the server.',
];

/** Run one command line. `time` is what `date` prints; `count` picks fortunes deterministically. */
export function runShell(input: string, time: string, count: number): ShellResult {
  const [cmd = '', ...args] = input.trim().split(/\s+/);
  const out = (lines: Line[]): ShellResult => ({ lines, clear: false });
  switch (cmd) {
    case '':
      return out([]);
    case 'help':
      return out([
        plain('commands: help clear copy date echo fortune ls uname whoami', theme.termYellow),
        plain('keys: Up/Down history, Ctrl+C cancel, Ctrl+L clear, Ctrl+V paste', theme.termDim),
      ]);
    case 'clear':
      return { lines: [], clear: true };
    case 'copy':
      return { lines: [], clear: false, copy: args.join(' ') };
    case 'date':
      return out([plain(time)]);
    case 'echo':
      return out([plain(args.join(' '))]);
    case 'fortune':
      return out([plain(FORTUNES[count % FORTUNES.length] ?? '', theme.termGreen)]);
    case 'ls':
      return out([
        [
          { text: 'Desktop/  Photos/  ', color: theme.termBlue },
          { text: 'notes.txt  sunset.png', color: theme.termText },
        ],
      ]);
    case 'uname':
      return out([plain('spiced 0.1.0 demo-desktop (TypeScript, Node)')]);
    case 'whoami':
      return out([plain('demo')]);
    default:
      return out([plain(`${cmd}: command not found`, theme.termRed)]);
  }
}
