/**
 * The two servers of the video bench, each giving an X display to play the workload on and a SPICE
 * port to watch it from: spiced (`serve --xvfb --no-resize`, X11 capture) and spice-server (Debian's
 * Xspice: Xorg with the spiceqxl driver and libspice-server, started as the peers' xspice-start.sh
 * does, with spice-server's own defaults written out because the driver reads its option defaults
 * as 0). Then the workload both get: ffplay playing the clip at the top left, an xterm beside it
 * below, the keyboard focus on the xterm.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCREEN = { width: 1024, height: 768 } as const;
/** `xterm -geometry 80x8+0+420`: its text area, where typed glyphs land. */
export const XTERM_TEXT = { top: 420, left: 0, bottom: 540, right: 500 } as const;

export type ServerName = 'spiced' | 'spice-server';

export interface DeskServer {
  display: string;
  port: number;
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolve once something listens on `port`. */
async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (performance.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** SIGTERM, and SIGKILL if it has not gone within `graceMs`. */
async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

/** `logFile`: spiced logs at debug level into it (the bench's --trace), else its stderr is the bench's. */
export async function startSpiced(logFile?: string): Promise<DeskServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'spiced-vbench-'));
  const displayFile = join(dir, 'display');
  const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const size = `${SCREEN.width}x${SCREEN.height}`;
  // The session only says which display it got; the workload is started by the bench, as for Xspice.
  const session = `echo "$DISPLAY" > ${displayFile}; exec sleep 100000`;
  const logging = logFile ? ['--log-level', 'debug'] : [];
  const args = [cli, 'serve', '--xvfb', '--no-resize', '--size', size, '-p', String(port), ...logging];
  const stderr = logFile ? openSync(logFile, 'w') : 'inherit';
  const child = spawn(process.execPath, [...args, '--', 'sh', '-c', session], { stdio: ['ignore', 'ignore', stderr] });
  if (typeof stderr === 'number') closeSync(stderr);
  await waitForPort(port, 60_000);
  while (!existsSync(displayFile) || readFileSync(displayFile, 'utf8').trim() === '') await sleep(100);
  return {
    display: readFileSync(displayFile, 'utf8').trim(),
    port,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** spice-server's defaults, set explicitly: the spiceqxl driver reads its option defaults as 0. */
const SPICE_SERVER_DEFAULTS = {
  XSPICE_STREAMING_VIDEO: 'filter',
  XSPICE_IMAGE_COMPRESSION: 'auto_glz',
  XSPICE_JPEG_WAN_COMPRESSION: 'auto',
  XSPICE_ZLIB_GLZ_WAN_COMPRESSION: 'auto',
};

const QXL_SIZES = {
  QXL_FRAME_BUFFER_SIZE: '16',
  QXL_SURFACE_BUFFER_SIZE: '64',
  QXL_COMMAND_BUFFER_SIZE: '64',
  QXL_ENABLE_IMAGE_CACHE: '1',
  QXL_ENABLE_FALLBACK_CACHE: '1',
  QXL_ENABLE_SURFACES: '1',
  QXL_NUM_HEADS: '1',
};

/** Xspice's pieces are installed (/work/shared/peers/install-deps.sh). */
export function xspiceMissing(): string | undefined {
  if (!existsSync('/usr/lib/xorg/Xorg')) return 'no /usr/lib/xorg/Xorg (apt-get install xserver-xorg-core)';
  if (!existsSync('/usr/lib/xorg/modules/drivers/spiceqxl_drv.so'))
    return 'no spiceqxl driver (apt-get install xserver-xspice)';
  return undefined;
}

export async function startXspice(): Promise<DeskServer> {
  const missing = xspiceMissing();
  if (missing) throw new Error(`spice-server (Xspice) cannot run: ${missing}`);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'xspice-vbench-'));
  const env = {
    ...process.env,
    ...QXL_SIZES,
    ...SPICE_SERVER_DEFAULTS,
    XSPICE_ADDR: '127.0.0.1',
    XSPICE_IPV4_ONLY: '1',
    XSPICE_PORT: String(port),
    XSPICE_TLS_PORT: '0',
    XSPICE_DISABLE_TICKETING: '1',
  };
  const args = ['-config', 'spiceqxl.xorg.conf', '-noreset', '-nolisten', 'tcp'];
  const xorg = spawn('/usr/lib/xorg/Xorg', [...args, '-logfile', join(dir, 'xorg.log'), '-displayfd', '3'], {
    env,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
  });
  const number = await new Promise<string>((resolve, reject) => {
    let text = '';
    const fd = xorg.stdio[3] as NodeJS.ReadableStream;
    fd.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('\n')) resolve(text.trim());
    });
    xorg.once('exit', (code) => reject(new Error(`Xorg (Xspice) exited with ${code}; see ${dir}/xorg.log`)));
  });
  await waitForPort(port, 30_000);
  return {
    display: `:${number}`,
    port,
    stop: async () => {
      await stopChild(xorg);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Give the xterm the keyboard focus once it is viewable (SetInputFocus fails on an unmapped window). */
async function focusXterm(env: NodeJS.ProcessEnv): Promise<void> {
  let error = '';
  for (let attempt = 0; attempt < 40; attempt++) {
    const args = ['search', '--sync', '--onlyvisible', '--class', 'xterm', 'windowfocus'];
    const r = spawnSync('xdotool', args, { env, timeout: 20_000 });
    if (r.status === 0) return;
    error = r.stderr?.toString() ?? '';
    await sleep(250);
  }
  throw new Error(`xdotool could not focus the xterm: ${error}`);
}

export interface Workload {
  /** Freeze the player: its window keeps the last frame drawn. */
  pauseVideo(): void;
  stop(): Promise<void>;
}

/**
 * ffplay with the clip at (0, 0), then an xterm at (0, 420), the keyboard focus given to the xterm
 * (ffplay's SDL window takes it when it maps; there is no window manager).
 */
export async function startWorkload(display: string, clip: string): Promise<Workload> {
  const env = { ...process.env, DISPLAY: display };
  const player = spawn('ffplay', ['-loglevel', 'error', '-noborder', '-left', '0', '-top', '0', '-loop', '0', clip], {
    env,
    stdio: 'ignore',
  });
  await sleep(2000);
  const xterm = spawn('xterm', ['-geometry', '80x8+0+420'], { env, stdio: 'ignore' });
  await focusXterm(env);
  return {
    pauseVideo: () => player.kill('SIGSTOP'),
    stop: async () => {
      player.kill('SIGCONT');
      await Promise.all([stopChild(player), stopChild(xterm)]);
    },
  };
}
