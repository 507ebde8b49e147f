import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XConnection } from '../src/sources/x11/connection.js';
import { getGeometry } from '../src/sources/x11/core.js';
import { cvtReducedMode } from '../src/sources/x11/mode-timing.js';
import { clampSize } from '../src/sources/x11/randr-resize.js';
import { decodeOutputInfo, decodeScreenResources, encodeCreateMode } from '../src/sources/x11/randr-wire.js';
import { X11Source } from '../src/sources/x11/x11-source.js';
import { startXvfb, type XvfbHandle } from '../src/sources/x11/xvfb.js';
import { lacking, skipNote } from './helpers/probes.js';
import { SurfaceSink, expectSurfaceMatches } from './helpers/x11-screen.js';

const noXorg = lacking('xorg-dummy', 'import', 'xterm');
const noXvfb = lacking('Xvfb');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 8000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function rootSize(display: string): Promise<{ width: number; height: number }> {
  const conn = await XConnection.connect(display, { xauthority: null });
  try {
    const g = await getGeometry(conn, conn.screen.root);
    return { width: g.width, height: g.height };
  } finally {
    conn.close();
  }
}

describe('RandR modes and limits (no X server)', () => {
  it('computes CVT reduced-blanking timings as `cvt -r` does', () => {
    // cvt -r 1920 1080: 138.50 MHz, 1920 1968 2000 2080, 1080 1083 1088 1111, +hsync -vsync
    expect(cvtReducedMode(1920, 1080)).toMatchObject({
      dotClock: 138_500_000,
      hSyncStart: 1968,
      hSyncEnd: 2000,
      hTotal: 2080,
      vSyncStart: 1083,
      vSyncEnd: 1088,
      vTotal: 1111,
      name: '1920x1080',
    });
    // cvt -r 1280 800: 71.00 MHz, 1280 1328 1360 1440, 800 803 809 823
    expect(cvtReducedMode(1280, 800)).toMatchObject({ dotClock: 71_000_000, hTotal: 1440, vSyncEnd: 809, vTotal: 823 });
  });

  it('clamps to the server range and to the area limit, keeping the aspect', () => {
    const range = { minWidth: 64, minHeight: 64, maxWidth: 32767, maxHeight: 32767 };
    expect(clampSize(1280, 800, range)).toEqual({ width: 1280, height: 800 });
    expect(clampSize(10, 5, range)).toEqual({ width: 64, height: 64 });
    expect(clampSize(30000, 30000, range)).toEqual({ width: 4096, height: 4096 });
    expect(clampSize(8000, 4000, range, { maxPixels: 2_000_000 })).toEqual({ width: 2000, height: 1000 });
  });

  it('encodes CreateMode with its name and decodes screen resources with mode names', () => {
    const req = encodeCreateMode(140, 0x123, cvtReducedMode(1024, 768));
    expect(req.readUInt16LE(2) * 4).toBe(req.length);
    expect(req.subarray(40, 48).toString('latin1')).toBe('1024x768');
    const reply = Buffer.alloc(32 + 4 + 4 + 32 + 8);
    reply.writeUInt16LE(1, 16);
    reply.writeUInt16LE(1, 18);
    reply.writeUInt16LE(1, 20);
    reply.writeUInt32LE(0x44, 32);
    reply.writeUInt32LE(0x55, 36);
    reply.writeUInt32LE(0x66, 40);
    reply.writeUInt16LE(800, 44);
    reply.writeUInt16LE(600, 46);
    reply.writeUInt16LE(7, 68);
    reply.write('800x600', 72, 'latin1');
    expect(decodeScreenResources(reply)).toMatchObject({
      crtcs: [0x44],
      outputs: [0x55],
      modes: [{ id: 0x66, width: 800, height: 600, name: '800x600' }],
    });
    reply.writeUInt16LE(20, 68);
    expect(() => decodeScreenResources(reply)).toThrow(/past the reply/);
    expect(() => decodeOutputInfo(Buffer.alloc(36, 0xff))).toThrow();
  });
});

describe.skipIf(noXorg !== '')(`resizing Xorg (dummy driver) through RandR${skipNote(noXorg)}`, () => {
  let xorg: XvfbHandle;
  let source: X11Source;
  const sink = new SurfaceSink();
  const logs: string[] = [];

  beforeAll(async () => {
    xorg = await startXvfb({ server: 'xorg-dummy', size: '1024x768', command: ['xterm', '-geometry', '80x24+0+0'] });
    source = new X11Source({
      display: xorg.display,
      resize: true,
      clipboard: false,
      log: (l, m) => logs.push(`${l} ${m}`),
    });
    await source.start(sink);
  });

  afterAll(async () => {
    await source?.stop();
    await xorg?.stop();
  });

  it('starts at the asked size', async () => {
    expect(xorg.server).toBe('xorg-dummy');
    expect(await rootSize(xorg.display)).toEqual({ width: 1024, height: 768 });
    expect(sink.creates[0]).toEqual({ width: 1024, height: 768 });
  });

  it('grows to 1280x800 and back, each time a new surface equal to the X root window', async () => {
    expect(await source.resizer!.resize(1280, 800)).toEqual({ width: 1280, height: 800 });
    expect(await rootSize(xorg.display)).toEqual({ width: 1280, height: 800 });
    await until('a 1280x800 surface', () => (sink.creates.at(-1)?.width === 1280 ? true : undefined));
    expect(sink.creates.at(-1)).toEqual({ width: 1280, height: 800 });
    await expectSurfaceMatches(sink, xorg.display);
    expect(await source.resizer!.resize(1024, 768)).toEqual({ width: 1024, height: 768 });
    await until('a 1024x768 surface', () => (sink.creates.at(-1)?.width === 1024 ? true : undefined));
    expect(sink.creates.at(-1)).toEqual({ width: 1024, height: 768 });
    await expectSurfaceMatches(sink, xorg.display);
  });

  it('takes sizes no built-in mode has, wider and shorter at once, and clamps a hostile one', async () => {
    expect(await source.resizer!.resize(1366, 700)).toEqual({ width: 1366, height: 700 });
    expect(await rootSize(xorg.display)).toEqual({ width: 1366, height: 700 });
    const hostile = await source.resizer!.resize(100_000, 100_000);
    expect(logs.filter((l) => l.startsWith('warn'))).toEqual([]);
    expect(hostile).toEqual({ width: 4096, height: 4096 });
    expect(await source.resizer!.resize(1024, 768)).toEqual({ width: 1024, height: 768 });
    await expectSurfaceMatches(sink, xorg.display);
    expect(logs.filter((l) => l.startsWith('warn') || l.startsWith('error'))).toEqual([]);
  });
});

describe.skipIf(noXvfb !== '')(`a display that cannot grow${skipNote(noXvfb)}`, () => {
  let xvfb: XvfbHandle;

  beforeAll(async () => {
    xvfb = await startXvfb({ size: '640x480' });
  });

  afterAll(async () => {
    await xvfb?.stop();
  });

  it("stays at Xvfb's fixed size (its RandR range), and has no resizer without the option", async () => {
    const logs: string[] = [];
    const source = new X11Source({
      display: xvfb.display,
      resize: true,
      clipboard: false,
      log: (_l, m) => logs.push(m),
    });
    const sink = new SurfaceSink();
    await source.start(sink);
    try {
      expect(await source.resizer!.resize(1280, 800)).toEqual({ width: 640, height: 480 });
      expect(await rootSize(xvfb.display)).toEqual({ width: 640, height: 480 });
      expect(sink.creates).toEqual([{ width: 640, height: 480 }]);
      expect(new X11Source({ display: xvfb.display }).resizer).toBeUndefined();
    } finally {
      await source.stop();
    }
  });
});
