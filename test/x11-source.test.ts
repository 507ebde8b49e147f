import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PixelImage } from '../src/display/pixels.js';
import { XStreamDecoder, expandSequence } from '../src/sources/x11/codec.js';
import { unpremultiply } from '../src/sources/x11/cursor.js';
import { parseDisplayName, socketTargets } from '../src/sources/x11/display-name.js';
import { fakeInput } from '../src/sources/x11/ext-xtest.js';
import { KeyMapper, scancodeToEvdevKeycode } from '../src/sources/x11/keymap.js';
import { zpixmapToImage, type PixelLayout } from '../src/sources/x11/pixel-format.js';
import { capCount, coalesceRects } from '../src/sources/x11/rects.js';
import { findVerticalScroll } from '../src/sources/x11/scroll.js';
import { Shadow } from '../src/sources/x11/shadow.js';
import { encodeRequest } from '../src/sources/x11/wire.js';
import { findCookie, parseXauthority } from '../src/sources/x11/xauth.js';
import { X11Source } from '../src/sources/x11/x11-source.js';
import { startXvfb, type XvfbHandle } from '../src/sources/x11/xvfb.js';
import { XConnection, type ExtensionInfo } from '../src/sources/x11/connection.js';
import { queryPointer } from '../src/sources/x11/core.js';
import { usKeyFor } from '../src/protocol/us-keys.js';
import { lacking, skipNote } from './helpers/probes.js';
import { SurfaceSink, expectSurfaceMatches, screenshot } from './helpers/x11-screen.js';

const run = promisify(execFile);
const SKIP_MESSAGE = lacking('Xvfb', 'xterm', 'xclock', 'xdotool', 'import');
const HAVE_XVFB = SKIP_MESSAGE === '';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The pid written in display n's lock file, or undefined when there is none. */
function lockOwner(n: number): number | undefined {
  const path = `/tmp/.X${n}-lock`;
  return existsSync(path) ? Number(readFileSync(path, 'latin1').trim()) : undefined;
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 8000,
  everyMs = 100,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------- pure parts (no X server)

describe('x11 client pieces', () => {
  it('parses DISPLAY strings like Xlib', () => {
    expect(parseDisplayName(':1')).toMatchObject({ host: null, display: 1, screen: 0 });
    expect(parseDisplayName('unix:3.1')).toMatchObject({ host: null, display: 3, screen: 1 });
    expect(parseDisplayName('localhost:10.0')).toMatchObject({ host: 'localhost', display: 10 });
    expect(parseDisplayName('[::1]:2')).toMatchObject({ host: '::1', display: 2 });
    expect(socketTargets(parseDisplayName('remote:2'))).toEqual([{ host: 'remote', port: 6002 }]);
    expect(socketTargets(parseDisplayName(':7'))[0]).toEqual({ path: '/tmp/.X11-unix/X7' });
    expect(() => parseDisplayName('nonsense')).toThrow(/bad DISPLAY/);
  });

  it('finds the MIT-MAGIC-COOKIE-1 for a display in an Xauthority file', () => {
    const rec = (family: number, addr: string, num: string, name: string, data: Buffer): Buffer => {
      const f = (b: Buffer): Buffer => Buffer.concat([Buffer.from([b.length >> 8, b.length & 255]), b]);
      return Buffer.concat([
        Buffer.from([family >> 8, family & 255]),
        f(Buffer.from(addr)),
        f(Buffer.from(num)),
        f(Buffer.from(name)),
        f(data),
      ]);
    };
    const file = Buffer.concat([
      rec(256, 'otherhost', '5', 'MIT-MAGIC-COOKIE-1', Buffer.alloc(16, 1)),
      rec(256, 'myhost', '4', 'MIT-MAGIC-COOKIE-1', Buffer.alloc(16, 2)),
      rec(256, 'myhost', '5', 'MIT-MAGIC-COOKIE-1', Buffer.alloc(16, 3)),
    ]);
    const entries = parseXauthority(file);
    expect(entries).toHaveLength(3);
    expect(findCookie(entries, parseDisplayName(':5'), 'myhost')?.data).toEqual(Buffer.alloc(16, 3));
    expect(findCookie(entries, parseDisplayName(':6'), 'myhost')).toBeNull();
    expect(() => parseXauthority(file.subarray(0, 10))).toThrow(/truncated/);
  });

  it('frames replies, errors and events and recovers 32-bit sequence numbers', () => {
    const d = new XStreamDecoder();
    const setup = Buffer.alloc(16);
    setup[0] = 1;
    setup.writeUInt16LE(2, 6); // 8 more bytes
    d.push(setup.subarray(0, 5));
    expect(d.takeSetup()).toBeUndefined();
    d.push(setup.subarray(5));
    expect(d.takeSetup()).toHaveLength(16);
    const reply = Buffer.alloc(40);
    reply[0] = 1;
    reply.writeUInt16LE(7, 2);
    reply.writeUInt32LE(2, 4);
    const error = Buffer.alloc(32);
    error[1] = 8;
    error.writeUInt16LE(8, 2);
    error[10] = 73;
    const event = Buffer.alloc(32);
    event[0] = 0x80 | 22;
    const all = Buffer.concat([reply, error, event]);
    d.push(all.subarray(0, 33)); // a reply split across reads
    expect(d.next()).toBeUndefined();
    d.push(all.subarray(33));
    expect(d.next()).toMatchObject({ kind: 'reply', seq16: 7 });
    expect(d.next()).toMatchObject({ kind: 'error', seq16: 8, code: 8, majorOpcode: 73 });
    expect(d.next()).toMatchObject({ kind: 'event', code: 22, sendEvent: true });
    expect(d.next()).toBeUndefined();
    expect(expandSequence(0xfffe, 0x1fffe)).toBe(0x1fffe);
    expect(expandSequence(0xfffe, 0x20003)).toBe(0x1fffe);
    expect(expandSequence(2, 0x20003)).toBe(0x20002);
  });

  it('encodes requests padded, with their length in 4-byte units', () => {
    const req = encodeRequest(98, 0, (w) => w.u16(5).u16(0).bytes(Buffer.from('DAMAGE')));
    expect(req.length).toBe(16);
    expect(req.readUInt16LE(2)).toBe(4);
    // FakeInput is 36 bytes: past the writer's first allocation.
    let sent: Buffer = Buffer.alloc(0);
    const conn = { send: (b: Buffer) => ((sent = b), 1) } as unknown as XConnection;
    const ext: ExtensionInfo = { name: 'XTEST', majorOpcode: 140, firstEvent: 0, firstError: 0 };
    fakeInput(conn, ext, 6, 0, 0x1234, 300, 200);
    expect(sent.length).toBe(36);
    expect(sent.readUInt16LE(2)).toBe(9);
    expect(sent.readUInt32LE(12)).toBe(0x1234);
    expect([sent.readInt16LE(24), sent.readInt16LE(26)]).toEqual([300, 200]);
  });

  it('coalesces damage into few rects', () => {
    const bounds = { top: 0, left: 0, bottom: 600, right: 800 };
    const glyphs = Array.from({ length: 40 }, (_, i) => ({
      top: 100,
      left: 10 + i * 7,
      bottom: 113,
      right: 16 + i * 7,
    }));
    expect(coalesceRects(glyphs, { bounds, maxRects: 16 })).toEqual([{ top: 100, left: 10, bottom: 113, right: 289 }]);
    const scattered = Array.from({ length: 200 }, (_, i) => ({
      top: (i * 37) % 580,
      left: (i * 91) % 780,
      bottom: ((i * 37) % 580) + 3,
      right: ((i * 91) % 780) + 3,
    }));
    const out = coalesceRects(scattered, { bounds, maxRects: 8 });
    expect(out.length).toBeLessThanOrEqual(8);
    for (const s of scattered)
      expect(out.some((r) => r.left <= s.left && r.top <= s.top && r.right >= s.right && r.bottom >= s.bottom)).toBe(
        true,
      );
    expect(
      capCount(
        [
          { top: 0, left: 0, bottom: 10, right: 10 },
          { top: 0, left: 500, bottom: 10, right: 510 },
          { top: 12, left: 0, bottom: 20, right: 10 },
        ],
        2,
      ),
    ).toHaveLength(2);
  });

  it('converts premultiplied ARGB cursors to straight alpha', () => {
    const img = unpremultiply(Uint32Array.from([0x80400000, 0xff00ff00, 0x00000000]), 3, 1);
    expect([...img.data.subarray(0, 4)]).toEqual([0, 0, 0x80, 0x80]);
    expect([...img.data.subarray(4, 8)]).toEqual([0, 0xff, 0, 0xff]);
    expect([...img.data.subarray(8, 12)]).toEqual([0, 0, 0, 0]);
  });

  it('converts 16-bit and MSB-first ZPixmaps to B,G,R,X', () => {
    const rgb565: PixelLayout = {
      depth: 16,
      bitsPerPixel: 16,
      scanlinePad: 32,
      byteOrder: 'lsb',
      redMask: 0xf800,
      greenMask: 0x07e0,
      blueMask: 0x001f,
    };
    const data = Buffer.alloc(4);
    data.writeUInt16LE(0xf800, 0);
    data.writeUInt16LE(0x001f, 2);
    const img = zpixmapToImage(rgb565, data, 2, 1);
    expect([...img.data.subarray(0, 3)]).toEqual([0, 0, 255]);
    expect([...img.data.subarray(4, 7)]).toEqual([255, 0, 0]);
    const msb: PixelLayout = {
      ...rgb565,
      depth: 24,
      bitsPerPixel: 32,
      byteOrder: 'msb',
      redMask: 0xff0000,
      greenMask: 0xff00,
      blueMask: 0xff,
    };
    const px = Buffer.from([0, 0x11, 0x22, 0x33]);
    expect([...zpixmapToImage(msb, px, 1, 1).data.subarray(0, 3)]).toEqual([0x33, 0x22, 0x11]);
  });

  it('maps set-1 scancodes to evdev keycodes and checks them against the keymap', () => {
    expect(scancodeToEvdevKeycode(0x1e)).toBe(38); // a
    expect(scancodeToEvdevKeycode(0x148)).toBe(111); // Up
    expect(scancodeToEvdevKeycode(0x138)).toBe(108); // AltGr
    expect(scancodeToEvdevKeycode(0x15b)).toBe(133); // Super
    expect(scancodeToEvdevKeycode(0x7f)).toBeUndefined();
    // An "xfree86"-keycode server: Up lives at 98, where evdev has KP_Divide.
    const keysyms = new Uint32Array(256 * 2);
    const set = (code: number, sym: number): void => void (keysyms[(code - 8) * 2] = sym);
    [
      [9, 0xff1b],
      [22, 0xff08],
      [23, 0xff09],
      [36, 0xff0d],
      [65, 0x20],
      [50, 0xffe1],
      [37, 0xffe3],
      [98, 0xff52],
    ].forEach(([c, s]) => set(c!, s!));
    const keys = new KeyMapper({ firstKeycode: 8, keysymsPerKeycode: 2, keysyms });
    expect(keys.keycode(0x148)).toBe(98);
    expect(keys.keycode(0x1e)).toBe(38);
    expect(keys.problems.join()).toMatch(/E0 48 mapped to keycode 98/);
  });

  it('detects a vertical scroll against the shadow', () => {
    const w = 64;
    const h = 96;
    const shadow = new Shadow(w, h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) shadow.data.writeUInt32LE(((y * 7919) ^ (x * 31)) & 0xffffff, (y * w + x) * 4);
    const next: PixelImage = { width: w, height: h, stride: w * 4, data: Buffer.alloc(w * h * 4) };
    shadow.data.copy(next.data, 0, 5 * w * 4); // content moved up by 5 rows, bottom 5 rows new (zero)
    const rect = { top: 0, left: 0, bottom: h, right: w };
    expect(findVerticalScroll(shadow, rect, next)).toEqual({ dy: 5, top: 0, bottom: h - 5 });
    expect(findVerticalScroll(shadow, rect, { ...next, data: Buffer.from(shadow.data) })).toBeNull();
  });
});

// ---------------------------------------------------------------- against a real X server

async function windowVisible(display: string, cls: string, xauthority?: string): Promise<true | undefined> {
  const env = { ...process.env, DISPLAY: display, ...(xauthority ? { XAUTHORITY: xauthority } : {}) };
  const r = spawnSync('xdotool', ['search', '--onlyvisible', '--class', cls], { env });
  return r.status === 0 && r.stdout.toString().trim() !== '' ? true : undefined;
}

/** Type unshifted ASCII text (lowercase letters, digits, space, newline) as set-1 scancodes. */
function typeText(source: X11Source, text: string): void {
  for (const ch of text) {
    const key = usKeyFor(ch);
    const sc = key && !key.shift ? key.scancode : undefined;
    if (sc === undefined) throw new Error(`cannot type ${JSON.stringify(ch)}`);
    source.input({ kind: 'key', scancode: sc, down: true });
    source.input({ kind: 'key', scancode: sc, down: false });
  }
}

describe.skipIf(!HAVE_XVFB)(`X11Source on Xvfb${skipNote(SKIP_MESSAGE)}`, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'spiced-x11-test-'));
  const typed = join(tmp, 'typed.txt');
  let xvfb: XvfbHandle;
  let clock: ChildProcess | undefined;
  let source: X11Source;
  const sink = new SurfaceSink();
  const lost: Error[] = [];
  const logs: string[] = [];

  beforeAll(async () => {
    xvfb = await startXvfb({
      size: '800x600',
      command: ['xterm', '-geometry', '80x24+0+0', '-e', 'sh', '-c', `exec cat > ${typed}`],
    });
    clock = spawn('xclock', ['-geometry', '160x160-0+0'], {
      env: { ...process.env, DISPLAY: xvfb.display },
      stdio: 'ignore',
    });
    source = new X11Source({
      display: xvfb.display,
      onLost: (e) => lost.push(e),
      log: (l, m) => logs.push(`${l} ${m}`),
    });
    await source.start(sink);
  });

  afterAll(async () => {
    await source?.stop();
    if (clock?.exitCode === null) {
      clock.kill();
      await new Promise((r) => clock!.once('exit', r));
    }
    await xvfb?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('mirrors the screen pixel for pixel, with cursor and MIT-SHM capture', async () => {
    expect(sink.creates[0]).toEqual({ width: 800, height: 600 });
    expect(source.changeDetection).toBe('damage');
    expect(source.captureMethod).toBe('mit-shm');
    expect(sink.shapes).toBeGreaterThan(0);
    await until('xterm and xclock windows', async () =>
      (await windowVisible(xvfb.display, 'xterm')) && (await windowVisible(xvfb.display, 'xclock')) ? true : undefined,
    );
    await expectSurfaceMatches(sink, xvfb.display);
  });

  it('moves the X pointer and types into an xterm', async () => {
    source.input({ kind: 'pointer', x: 120, y: 90, buttons: 0 });
    const loc = await until('xdotool to see the pointer at 120,90', async () => {
      const { stdout } = await run('xdotool', ['getmouselocation'], { env: { ...process.env, DISPLAY: xvfb.display } });
      return stdout.startsWith('x:120 y:90 ') ? stdout : undefined;
    });
    expect(loc).toMatch(/^x:120 y:90 /);
    await until('a cursorMove to 120,90', () => (sink.moves.some((m) => m.x === 120 && m.y === 90) ? true : undefined));
    // Buttons: the X pointer's state mask shows Button3 (0x400) while the right button is held.
    const probe = await XConnection.connect(xvfb.display);
    try {
      source.input({ kind: 'button', button: 3, down: true, x: 120, y: 90, buttons: 4 });
      await until('Button3 down in X', async () =>
        (await queryPointer(probe, probe.screen.root)).mask & 0x400 ? true : undefined,
      );
      source.input({ kind: 'pointer', x: 121, y: 90, buttons: 0 }); // the mask alone releases it
      await until('Button3 up in X', async () =>
        (await queryPointer(probe, probe.screen.root)).mask & 0x400 ? undefined : true,
      );
    } finally {
      probe.close();
    }
    source.input({ kind: 'pointer', x: 120, y: 90, buttons: 0 });
    // Without a window manager, focus follows the pointer (PointerRoot): the xterm gets the keys.
    typeText(source, 'hello spice 42\n');
    const text = await until('the typed line in the file', () => {
      const t = existsSync(typed) ? readFileSync(typed, 'utf8') : '';
      return t.includes('\n') ? t : undefined;
    });
    expect(text).toBe('hello spice 42\n');
    await expectSurfaceMatches(sink, xvfb.display);
  });

  it('follows an xterm scroll (copyBits) and stays exact', async () => {
    // Fill the terminal in one burst (a full redraw), then scroll it line by line.
    for (let i = 0; i < 26; i++) typeText(source, `line ${i % 10}\n`);
    await until('the 26 lines in the file', () =>
      readFileSync(typed, 'utf8').split('\n').length >= 28 ? true : undefined,
    );
    await expectSurfaceMatches(sink, xvfb.display);
    const before = source.stats!.copyBits;
    // One line at a time, each in the file (so on xterm's screen) before the next: xterm scrolls
    // by one line each time instead of jumping over several.
    for (let i = 0; i < 3; i++) {
      typeText(source, `scrolled ${i}\n`);
      await until(`line ${i} scrolled in`, () =>
        readFileSync(typed, 'utf8').endsWith(`scrolled ${i}\n`) ? true : undefined,
      );
    }
    await expectSurfaceMatches(sink, xvfb.display);
    expect(source.stats!.copyBits).toBeGreaterThan(before);
  });

  it('keeps Caps Lock in step with the client', async () => {
    source.input({ kind: 'modifiers', modifiers: 4 });
    await until('Caps Lock on in X', () => (source.modifiers === 4 ? true : undefined), 3000, 20);
    source.input({ kind: 'modifiers', modifiers: 0 });
    await until('Caps Lock off in X', () => (source.modifiers === 0 ? true : undefined), 3000, 20);
  });

  it('a burst of KEY_MODIFIERS ends with the lock state of the last one', async () => {
    for (let i = 0; i < 200; i++) source.input({ kind: 'modifiers', modifiers: i % 2 === 0 ? 0 : 4 });
    await until('Caps Lock on in X', () => (source.modifiers === 4 ? true : undefined), 3000, 20);
    // And it stays on: no late taps. A slow machine can only make this pass for lack of time.
    await sleep(300);
    expect(source.modifiers).toBe(4);
    source.input({ kind: 'modifiers', modifiers: 0 });
    await until('Caps Lock off in X', () => (source.modifiers === 0 ? true : undefined), 3000, 20);
  });

  it('logs an unusable button once, not once per event', () => {
    for (let i = 0; i < 100; i++)
      source.input({ kind: 'button', button: 77, down: i % 2 === 0, x: 10, y: 10, buttons: 0 });
    expect(logs.filter((l) => l.includes('unknown pointer button 77'))).toHaveLength(1);
  });

  it('creates a new surface when RandR changes the screen size', async (ctx) => {
    if (lacking('xrandr')) ctx.skip(`${lacking('xrandr')}: RandR part skipped`);
    // Xvfb 21.1 shrinks the screen on RRSetScreenSize, although xrandr then fails (and exits 1)
    // trying to fit its fixed-size CRTC: what counts is the root window's new size.
    spawnSync('xrandr', ['--fb', '640x480'], { env: { ...process.env, DISPLAY: xvfb.display } });
    const shot = await screenshot(xvfb.display);
    if (shot.width !== 640)
      ctx.skip(`this Xvfb ignores RandR size changes (still ${shot.width}x${shot.height}); RandR part skipped`);
    await until('a second surfaceCreate', () => (sink.creates.length > 1 ? true : undefined));
    expect(sink.creates.at(-1)).toEqual({ width: 640, height: 480 });
    await expectSurfaceMatches(sink, xvfb.display);
  });

  it('reports a lost X server through onLost', async () => {
    expect(lost).toEqual([]);
    process.kill(xvfb.xvfbPid, 'SIGKILL');
    await until('onLost', () => (lost.length > 0 ? true : undefined), 5000, 20);
    expect(lost[0]!.message).toBe(`X server ${xvfb.display} went away`);
    await xvfb.stop();
    // Another Xvfb on this machine may take the freed display number at once: the lock must not be ours.
    expect(lockOwner(xvfb.displayNumber)).not.toBe(xvfb.xvfbPid);
    expect(logs.filter((l) => l.startsWith('error') && !l.includes('went away'))).toEqual([]);
  });
});

describe.skipIf(!HAVE_XVFB)(`X11Source without DAMAGE, with a cookie, over GetImage${skipNote(SKIP_MESSAGE)}`, () => {
  let xvfb: XvfbHandle;
  const tmp = mkdtempSync(join(tmpdir(), 'spiced-x11-poll-'));
  const typed = join(tmp, 'typed.txt');

  beforeAll(async () => {
    xvfb = await startXvfb({
      size: '400x300',
      auth: true,
      extraArgs: ['-extension', 'DAMAGE'],
      command: ['xterm', '-geometry', '40x10+0+0', '-e', 'sh', '-c', `exec cat > ${typed}`],
    });
  });

  afterAll(async () => {
    await xvfb?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('needs the cookie', async () => {
    const src = new X11Source({ display: xvfb.display, xauthority: join(tmp, 'missing') });
    await expect(src.start(new SurfaceSink())).rejects.toThrow(/closed the connection during setup|refused/);
  });

  it('polls tiles and stays exact', async () => {
    const sink = new SurfaceSink();
    const source = new X11Source({
      display: xvfb.display,
      xauthority: xvfb.xauthority,
      useShm: false,
      pollFallbackMs: 50,
    });
    await source.start(sink);
    try {
      expect(source.changeDetection).toBe('poll');
      expect(source.captureMethod).toBe('get-image');
      await until('xterm', () => windowVisible(xvfb.display, 'xterm', xvfb.xauthority));
      source.input({ kind: 'pointer', x: 50, y: 50, buttons: 0 });
      typeText(source, 'polled\n');
      await until('typed text', () =>
        existsSync(typed) && readFileSync(typed, 'utf8') === 'polled\n' ? true : undefined,
      );
      await expectSurfaceMatches(sink, xvfb.display, xvfb.xauthority);
    } finally {
      await source.stop();
    }
  });
});
