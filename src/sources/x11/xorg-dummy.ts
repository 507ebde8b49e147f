import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XConnection } from './connection.js';
import { setScreenSize, type ResizeLimits } from './randr-resize.js';

/*
 * An X server whose screen can grow: Xorg with the dummy video driver (xserver-xorg-video-dummy).
 * Debian's Xvfb has a single fixed RandR mode (the -screen size: RandR can neither add modes nor
 * change the screen size), so a desktop that follows the viewer's window needs this instead. The
 * dummy driver accepts modes made with RandR CreateMode and screen sizes up to 32767 pixels a side;
 * the framebuffer is allocated for the current size only, so a large maximum costs nothing until
 * it is used.
 *
 * The configuration is generated into a private directory: no input devices (XTEST injects the
 * viewers' input), no udev hot-plugging, no VT switching, and an empty configuration directory so
 * the machine's xorg.conf.d cannot add devices. Xorg must be allowed to start for the user: root,
 * or, on Debian, `allowed_users=anybody` in /etc/X11/Xwrapper.config.
 */

const DUMMY_DRIVER = '/usr/lib/xorg/modules/drivers/dummy_drv.so';

/** True when Xorg and its dummy driver are installed. */
export function haveXorgDummy(): boolean {
  return existsSync(DUMMY_DRIVER) && ['/usr/bin/Xorg', '/usr/lib/xorg/Xorg'].some((p) => existsSync(p));
}

/** The xorg.conf for a dummy screen. */
function dummyConfig(): string {
  return `Section "ServerFlags"
  Option "AutoAddDevices" "false"
  Option "AutoAddGPU" "false"
  Option "AutoEnableDevices" "false"
  Option "DontVTSwitch" "true"
  Option "DontZap" "true"
EndSection

Section "Device"
  Identifier "spiced-dummy"
  Driver "dummy"
  # Kibibytes of video memory: a 4096x4096 framebuffer of 32-bit pixels and room for its pitch.
  # (Allocated but untouched beyond the current size, it costs address space, not memory.)
  VideoRam 131072
EndSection

Section "Monitor"
  Identifier "spiced-monitor"
  # Wide enough that any CVT mode RandR creates passes validation.
  HorizSync 1.0 - 2000.0
  VertRefresh 1.0 - 200.0
EndSection

Section "Screen"
  Identifier "spiced-screen"
  Device "spiced-dummy"
  Monitor "spiced-monitor"
  DefaultDepth 24
  SubSection "Display"
    Depth 24
    Virtual 4096 4096
  EndSubSection
EndSection
`;
}

export interface XorgDummyFiles {
  readonly dir: string;
  /** Xorg's arguments before the common ones (-displayfd, -auth...). */
  readonly args: string[];
}

/** Write the configuration into a fresh directory; the caller removes `dir` when the server ends. */
export function prepareXorgDummy(): XorgDummyFiles {
  const dir = mkdtempSync(join(tmpdir(), 'spiced-xorg-'));
  const config = join(dir, 'xorg.conf');
  const configDir = join(dir, 'xorg.conf.d');
  writeFileSync(config, dummyConfig());
  mkdirSync(configDir);
  const args = ['-config', config, '-configdir', configDir, '-logfile', join(dir, 'Xorg.log'), '-noreset'];
  return { dir, args: [...args, '-novtswitch', '-sharevts'] };
}

/** Give a freshly started server its first size (the dummy starts at its largest built-in mode). */
export async function sizeNewScreen(
  display: string,
  xauthority: string | undefined,
  size: string,
  limits: ResizeLimits = {},
): Promise<void> {
  const [width, height] = size.split('x').map(Number) as [number, number];
  const conn = await XConnection.connect(display, { xauthority: xauthority ?? null });
  try {
    const randr = await conn.extension('RANDR');
    if (!randr) throw new Error('the X server has no RandR');
    const taken = await setScreenSize(conn, randr, conn.screen.root, width, height, limits, {
      created: new Set(),
      log: () => undefined,
    });
    if (taken.width !== width || taken.height !== height) {
      throw new Error(`the X server took ${taken.width}x${taken.height} instead of ${size}`);
    }
  } finally {
    conn.close();
  }
}
