import { inject } from 'vitest';

/*
 * What the interop tests may drive on this machine, as test/global-tools.ts probed it once for the
 * whole run, and the one wording of the "skipped: X missing" titles. A test asks:
 *   const why = lacking('Xvfb', 'xterm', 'spice-glib');
 *   describe.skipIf(why !== '')(`title${skipNote(why)}`, ...)
 */

/** The python that has GObject introspection (Debian's), for helpers/spice-gtk-client.py and playback-probe.py. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** Programs looked up on PATH, with the Debian package each comes from. */
const PACKAGES = {
  Xvfb: 'xvfb',
  xterm: 'xterm',
  xclock: 'x11-apps',
  xdotool: 'xdotool',
  xclip: 'xclip',
  xsel: 'xsel',
  import: 'imagemagick',
  convert: 'imagemagick',
  setxkbmap: 'x11-xkb-utils',
  xrandr: 'x11-xserver-utils',
  xsetroot: 'x11-xserver-utils',
  xwininfo: 'x11-utils',
  'xfce4-session': 'xfce4',
  'xfce4-terminal': 'xfce4-terminal',
  'dbus-launch': 'dbus-x11',
  twm: 'twm',
  setsid: 'util-linux',
  haproxy: 'haproxy',
  'spicy-screenshot': 'spice-client-gtk',
  'remote-viewer': 'virt-viewer',
  tshark: 'tshark',
  xz: 'xz-utils',
  ffmpeg: 'ffmpeg',
  ffplay: 'ffmpeg',
} as const;

type Program = keyof typeof PACKAGES;

export const PROGRAMS = Object.keys(PACKAGES) as Program[];

export interface ToolReport {
  /** Each of PROGRAMS: on PATH or not. */
  programs: Record<string, boolean>;
  /** Debian's python3 imports SpiceClientGLib through GObject introspection. */
  spiceGlib: boolean;
  /** liblz4 (spice-gtk's LZ4 decoder) loads through python's ctypes. */
  liblz4: boolean;
  /** Debian's Chromium (or $CHROMIUM) exists. */
  chromium: boolean;
  /** spice-html5 is installed where spiced serves it from. */
  html5: boolean;
  /** Xorg and its dummy video driver (a desktop that can be resized). */
  xorgDummy: boolean;
  /** A private mount namespace can bind a file over /etc/hosts (unshare -rm). */
  mountns: boolean;
  /** Why no network namespace with a 1500-byte loopback can be made here; '' when it can. */
  netns: string;
  /** Why tshark cannot capture on lo here; '' when it can. */
  capture: string;
}

/** Capabilities that are not a program on PATH, with what is missing and how to get it. */
const CAPABILITIES = {
  'spice-glib': [
    (t: ToolReport) => t.spiceGlib,
    'python3-gi with SpiceClientGLib',
    'python3-gi gir1.2-spiceclientglib-2.0',
  ],
  liblz4: [(t: ToolReport) => t.liblz4, 'liblz4.so.1', 'liblz4-1'],
  chromium: [(t: ToolReport) => t.chromium, 'chromium', 'chromium'],
  'spice-html5': [(t: ToolReport) => t.html5, 'spice-html5', 'spice-html5'],
  'xorg-dummy': [
    (t: ToolReport) => t.xorgDummy,
    'Xorg with the dummy driver',
    'xserver-xorg-core xserver-xorg-video-dummy',
  ],
} as const;

type Need = Program | keyof typeof CAPABILITIES;

/** The probe report of this run (test/global-tools.ts); interop and alone tests only. */
export function tools(): ToolReport {
  const report = inject('tools');
  if (report === undefined) throw new Error('no tool report: this file must run in the interop or alone project');
  return report;
}

/** '' when every need is met here, else the skip message naming what is missing and its packages. */
export function lacking(...needs: Need[]): string {
  const t = tools();
  const missingNames: string[] = [];
  const packages = new Set<string>();
  for (const need of needs) {
    if (need in CAPABILITIES) {
      const [ok, what, pkg] = CAPABILITIES[need as keyof typeof CAPABILITIES];
      if (!ok(t)) {
        missingNames.push(what);
        packages.add(pkg);
      }
    } else if (!t.programs[need]) {
      missingNames.push(need);
      packages.add(PACKAGES[need as Program]);
    }
  }
  if (missingNames.length === 0) return '';
  return `skipped: ${missingNames.join(', ')} not installed here (apt-get install ${[...packages].join(' ')}; .ci/run installs it)`;
}

/** A test title's suffix for a skip reason: ' (skipped: ...)' or nothing. */
export function skipNote(why: string): string {
  return why ? ` (${why})` : '';
}
