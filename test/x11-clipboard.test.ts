import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClipboardSelection, ClipboardType, ViewerClipboard } from '../src/seam/index.js';
import { X11Clipboard } from '../src/sources/x11/x11-clipboard.js';
import { startXvfb, type XvfbHandle } from '../src/sources/x11/xvfb.js';
import { XConnection } from '../src/sources/x11/connection.js';
import {
  decodeGetPropertyReply,
  decodeGetSelectionOwnerReply,
  decodeInternAtomReply,
  decodeSelectionRequest,
  encodeChangeProperty,
  encodeGetSelectionOwner,
  encodeInternAtom,
  encodeSendSelectionNotify,
  MAX_PROPERTY_CHUNK,
} from '../src/sources/x11/selection-wire.js';
import {
  LANDING_PROPERTIES,
  textFromProperty,
  toTarget,
  typeOfTarget,
  typesOffered,
} from '../src/sources/x11/selection-targets.js';
import { decodeBmp } from '../src/display/bmp.js';
import { sameRgb } from '../src/display/pixels.js';
import { decodePng, encodePng } from '../src/display/png.js';
import { lacking, skipNote } from './helpers/probes.js';

const why = lacking('Xvfb', 'xclip', 'xsel');

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

/** The viewers' side as the server would implement it, recording what the desktop says. */
class RecordingViewers implements ViewerClipboard {
  readonly events: string[] = [];
  readonly offers = new Map<ClipboardSelection, readonly ClipboardType[]>();
  readonly data = new Map<string, Uint8Array>();
  fetches = 0;

  desktopGrabbed(selection: ClipboardSelection, types: readonly ClipboardType[]): void {
    this.events.push(`grab ${selection} ${types.join(',')}`);
    this.offers.set(selection, types);
  }

  desktopReleased(selection: ClipboardSelection): void {
    this.events.push(`release ${selection}`);
    this.offers.delete(selection);
  }

  fetch(selection: ClipboardSelection, type: ClipboardType): Promise<Uint8Array> {
    this.fetches++;
    const d = this.data.get(`${selection}/${type}`);
    return d ? Promise.resolve(d) : Promise.reject(new Error(`viewer has no ${type}`));
  }
}

/**
 * Run a tool on the display with `input` on stdin; resolves with its stdout once it exits. Tools
 * that take a selection (`xclip -i`, `xsel --input`) fork a child that keeps it: their output is
 * not collected (the child would hold the pipes open) and the parent's exit is enough.
 */
function tool(display: string, cmd: string, args: string[], input?: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const forks = input !== undefined;
    const stdio = forks ? (['pipe', 'ignore', 'ignore'] as const) : (['pipe', 'pipe', 'pipe'] as const);
    const child = spawn(cmd, args, { env: { ...process.env, DISPLAY: display }, stdio: [...stdio] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on(forks ? 'exit' : 'close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`));
    });
    child.stdin!.end(input ?? Buffer.alloc(0));
  });
}

/** xclip -i forks a child that owns the selection until another client takes it. */
const copyOnDesktop = (
  display: string,
  selection: ClipboardSelection,
  data: Uint8Array,
  target?: string,
): Promise<Buffer> => tool(display, 'xclip', ['-selection', selection, ...(target ? ['-t', target] : []), '-i'], data);

/**
 * Copy on the desktop and wait until the viewers hear of it (xclip's child takes the selection
 * after its parent exits).
 */
async function copyAndWait(
  display: string,
  viewers: RecordingViewers,
  selection: ClipboardSelection,
  data: Uint8Array,
  target?: string,
): Promise<void> {
  const before = viewers.events.length;
  await copyOnDesktop(display, selection, data, target);
  await until(`a ${selection} grab`, () =>
    viewers.events.slice(before).some((e) => e.startsWith(`grab ${selection}`)) ? true : undefined,
  );
}

const pasteOnDesktop = (display: string, selection: ClipboardSelection, target?: string): Promise<Buffer> =>
  tool(display, 'xclip', ['-selection', selection, ...(target ? ['-t', target] : []), '-o']);

function testPng(): Uint8Array {
  const width = 64;
  const height = 48;
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < data.length; i += 4) data.set([i & 0xff, (i >> 8) & 0xff, 0x80, 0xff], i);
  return encodePng({ width, height, stride: width * 4, data });
}

describe('selection wire and targets (no X server)', () => {
  it('encodes ChangeProperty with its data length in format units', () => {
    const req = encodeChangeProperty(0x200001, 300, 4, 32, Buffer.from([1, 0, 0, 0, 2, 0, 0, 0]));
    expect(req[0]).toBe(18);
    expect(req.readUInt16LE(2)).toBe((24 + 8) / 4);
    expect(req[16]).toBe(32);
    expect(req.readUInt32LE(20)).toBe(2);
    expect(() => encodeChangeProperty(1, 2, 3, 8, new Uint8Array(MAX_PROPERTY_CHUNK + 4))).toThrow(/exceeds/);
    expect(encodeChangeProperty(1, 2, 3, 8, new Uint8Array(MAX_PROPERTY_CHUNK)).length).toBeLessThanOrEqual(262140);
  });

  it('sends a SelectionNotify event that decodes like the X server would deliver it', () => {
    const req = encodeSendSelectionNotify({ time: 7, requestor: 0x400002, selection: 1, target: 300, property: 301 });
    expect(req.length).toBe(44);
    const event = req.subarray(12);
    expect(event[0]).toBe(31);
    expect(event.readUInt32LE(8)).toBe(0x400002);
    expect(event.readUInt32LE(20)).toBe(301);
  });

  it('decodes SelectionRequest and GetProperty replies and refuses a lying length', () => {
    const ev = Buffer.alloc(32);
    ev[0] = 30;
    [5, 0x100, 0x200, 1, 77, 78].forEach((v, i) => ev.writeUInt32LE(v, 4 + 4 * i));
    expect(decodeSelectionRequest(ev)).toEqual({
      time: 5,
      owner: 0x100,
      requestor: 0x200,
      selection: 1,
      target: 77,
      property: 78,
    });
    const reply = Buffer.alloc(36);
    reply[1] = 8;
    reply.writeUInt32LE(31, 8);
    reply.writeUInt32LE(4, 16);
    reply.write('abcd', 32);
    expect(decodeGetPropertyReply(reply).data.toString()).toBe('abcd');
    reply.writeUInt32LE(400, 16);
    expect(() => decodeGetPropertyReply(reply)).toThrow(/claims/);
  });

  it('maps targets to clipboard types and converts STRING to and from ISO 8859-1', () => {
    expect([...typesOffered(['TARGETS', 'STRING', 'image/png', 'UTF8_STRING']).entries()]).toEqual([
      ['text', 'UTF8_STRING'],
      ['png', 'image/png'],
    ]);
    expect(typeOfTarget('image/x-MS-bmp')).toBe('bmp');
    expect(typeOfTarget('COMPOUND_TEXT')).toBeUndefined();
    const latin = toTarget('STRING', Buffer.from('façade €', 'utf8'));
    expect(Buffer.from(latin.bytes)).toEqual(
      Buffer.from([...'fa', 0xe7, ...'ade ?'].map((c) => (typeof c === 'number' ? c : c.charCodeAt(0)))),
    );
    expect(Buffer.from(textFromProperty('STRING', latin.bytes)).toString('utf8')).toBe('façade ?');
    expect(toTarget('TEXT', Buffer.from('x')).typeName).toBe('UTF8_STRING');
  });
});

describe.skipIf(why !== '')(`X11 clipboard against Xvfb with xclip and xsel${skipNote(why)}`, () => {
  let xvfb: XvfbHandle;
  let clipboard: X11Clipboard;
  const viewers = new RecordingViewers();
  const logs: string[] = [];

  beforeAll(async () => {
    xvfb = await startXvfb({ size: '320x240' });
    clipboard = new X11Clipboard({ maxBytes: 8 * 1024 * 1024, log: (level, msg) => logs.push(`${level} ${msg}`) });
    clipboard.attach(viewers);
    await clipboard.start(xvfb.display);
  });

  afterAll(async () => {
    clipboard?.stop();
    await xvfb?.stop();
  });

  it('sees a desktop copy through XFIXES and reads UTF-8 text with its LF line ends', async () => {
    const text = Buffer.from('grüße\nzweite Zeile\n', 'utf8');
    await copyAndWait(xvfb.display, viewers, 'clipboard', text);
    expect(viewers.offers.get('clipboard')).toEqual(['text']);
    expect(Buffer.from(await clipboard.read('clipboard', 'text'))).toEqual(text);
    await expect(clipboard.read('clipboard', 'png')).rejects.toThrow(/offers no png/);
  });

  it('keeps PRIMARY apart from CLIPBOARD, both ways', async () => {
    await tool(xvfb.display, 'xsel', ['--primary', '--input'], Buffer.from('selected words'));
    await until('a primary grab', () => (viewers.offers.get('primary') ? true : undefined));
    expect(Buffer.from(await clipboard.read('primary', 'text')).toString()).toBe('selected words');
    viewers.data.set('primary/text', Buffer.from('from the viewer, primary'));
    clipboard.viewerGrabbed('primary', ['text']);
    await sleep(50);
    expect((await tool(xvfb.display, 'xsel', ['--primary', '--output'])).toString()).toBe('from the viewer, primary');
    expect(Buffer.from(await clipboard.read('clipboard', 'text')).toString()).toMatch(/^grüße/);
  });

  it('reads a PNG a desktop application offers, byte for byte (and offers it as BMP too)', async () => {
    const png = testPng();
    await copyAndWait(xvfb.display, viewers, 'clipboard', png, 'image/png');
    expect(viewers.offers.get('clipboard')).toEqual(['png', 'bmp']);
    expect(Buffer.from(await clipboard.read('clipboard', 'png'))).toEqual(Buffer.from(png));
    const bmp = decodeBmp(await clipboard.read('clipboard', 'bmp'));
    expect(sameRgb(bmp.image, decodePng(Buffer.from(png)))).toBe(true);
  });

  it('reads 5 MiB from the desktop through INCR', async () => {
    const big = Buffer.from(randomBytes(5 * 1024 * 1024 * 0.75).toString('base64'));
    expect(big.length).toBeGreaterThan(MAX_PROPERTY_CHUNK * 4);
    await copyAndWait(xvfb.display, viewers, 'clipboard', big);
    const incr = clipboard.stats.incrReceived;
    const got = Buffer.from(await clipboard.read('clipboard', 'text'));
    expect(got.length).toBe(big.length);
    expect(got.equals(big)).toBe(true);
    expect(clipboard.stats.incrReceived).toBe(incr + 1);
  });

  it('owns CLIPBOARD for a viewer: TARGETS, UTF-8, STRING and TEXT', async () => {
    viewers.data.set('clipboard/text', Buffer.from('naïve\nline two', 'utf8'));
    clipboard.viewerGrabbed('clipboard', ['text']);
    await sleep(50);
    const targets = (await pasteOnDesktop(xvfb.display, 'clipboard', 'TARGETS')).toString().split('\n');
    expect(targets).toEqual(expect.arrayContaining(['TARGETS', 'UTF8_STRING', 'STRING', 'TEXT']));
    expect(targets).not.toContain('image/png');
    expect((await pasteOnDesktop(xvfb.display, 'clipboard')).toString('utf8')).toBe('naïve\nline two');
    expect(await pasteOnDesktop(xvfb.display, 'clipboard', 'STRING')).toEqual(
      Buffer.from('na\xefve\nline two', 'latin1'),
    );
    expect((await pasteOnDesktop(xvfb.display, 'clipboard', 'TEXT')).toString('utf8')).toBe('naïve\nline two');
    await expect(pasteOnDesktop(xvfb.display, 'clipboard', 'image/png')).rejects.toThrow();
  });

  it('gives a desktop application a viewer PNG and 5 MiB through INCR', async () => {
    const png = testPng();
    const big = randomBytes(5 * 1024 * 1024);
    viewers.data.set('clipboard/png', png);
    viewers.data.set('clipboard/bmp', big); // any bytes: the owner does not look inside
    clipboard.viewerGrabbed('clipboard', ['png', 'bmp']);
    await sleep(50);
    expect(await pasteOnDesktop(xvfb.display, 'clipboard', 'image/png')).toEqual(Buffer.from(png));
    expect(clipboard.stats.incrSent).toBe(0);
    const got = await pasteOnDesktop(xvfb.display, 'clipboard', 'image/bmp');
    expect(got.length).toBe(big.length);
    expect(got.equals(big)).toBe(true);
    expect(clipboard.stats.incrSent).toBe(1);
  });

  it('tells viewers when the desktop takes the selection back, and drops its claim on release', async () => {
    await copyAndWait(xvfb.display, viewers, 'clipboard', Buffer.from('desktop again'));
    expect(Buffer.from(await clipboard.read('clipboard', 'text')).toString()).toBe('desktop again');
    // A viewer grab, then its release: the selection is left without owner.
    clipboard.viewerGrabbed('clipboard', ['text']);
    await sleep(50);
    clipboard.viewerReleased('clipboard');
    await sleep(100);
    await expect(pasteOnDesktop(xvfb.display, 'clipboard')).rejects.toThrow();
  });

  it('refuses desktop data over the limit and viewer data it cannot fetch', async () => {
    const small = new X11Clipboard({ maxBytes: 1000 });
    const seen = new RecordingViewers();
    small.attach(seen);
    await small.start(xvfb.display);
    try {
      await copyAndWait(xvfb.display, seen, 'clipboard', Buffer.alloc(5000, 0x61));
      await expect(small.read('clipboard', 'text')).rejects.toThrow(/exceeds the limit of 1000/);
      // xclip switches to INCR above 4 MiB (a quarter of what BIG-REQUESTS allows).
      await copyAndWait(xvfb.display, seen, 'clipboard', Buffer.alloc(5 * 1024 * 1024, 0x62));
      // (xclip's INCR property holds no useful size hint: the limit stops the first chunk.)
      await expect(small.read('clipboard', 'text')).rejects.toThrow(/exceeds the limit of 1000/);
      expect(small.stats.incrReceived).toBe(1);
      await copyAndWait(xvfb.display, seen, 'clipboard', Buffer.from('fits'));
      expect(Buffer.from(await small.read('clipboard', 'text')).toString()).toBe('fits');
      small.viewerGrabbed('clipboard', ['png']); // the viewer then fails to deliver
      await sleep(50);
      await expect(pasteOnDesktop(xvfb.display, 'clipboard', 'image/png')).rejects.toThrow();
      expect(seen.fetches).toBe(1);
    } finally {
      small.stop();
    }
  });

  it('never reads what a sender abandoned over the limit goes on writing into its old property', async () => {
    // xclip, its INCR transfer abandoned, takes every later deletion of the property it was given as
    // a request for its next chunk and writes it there; a late answer after a timeout does the same.
    // Here a client writes into that property as fast as it can: later reads must not see it.
    const logs: string[] = [];
    const small = new X11Clipboard({ maxBytes: 1000, log: (_, m) => logs.push(m) });
    const seen = new RecordingViewers();
    small.attach(seen);
    await small.start(xvfb.display);
    const raw = await XConnection.connect(xvfb.display);
    let flood: NodeJS.Timeout | undefined;
    try {
      const atom = (n: string): Promise<number> => raw.request(encodeInternAtom(n), n, decodeInternAtomReply);
      const [clipboardAtom, landing, utf8] = await Promise.all([
        atom('CLIPBOARD'),
        atom(LANDING_PROPERTIES.clipboard),
        atom('UTF8_STRING'),
      ]);
      small.viewerGrabbed('clipboard', ['text']); // only to learn the clipboard's window: it owns the selection
      const owner = () => raw.request(encodeGetSelectionOwner(clipboardAtom), 'owner', decodeGetSelectionOwnerReply);
      let window = 0;
      for (const end = Date.now() + 8000; window === 0 && Date.now() < end; await sleep(20)) window = await owner();
      expect(window, 'the clipboard window owns CLIPBOARD for the viewer').not.toBe(0);
      small.viewerReleased('clipboard');

      await copyAndWait(xvfb.display, seen, 'clipboard', Buffer.alloc(5 * 1024 * 1024, 0x62));
      await expect(small.read('clipboard', 'text')).rejects.toThrow(/exceeds the limit of 1000/);
      expect(logs.some((m) => m.includes('later conversions land in SPICED_CLIPBOARD_1'))).toBe(true);

      const stale = Buffer.from('stale chunk');
      flood = setInterval(() => {
        for (let i = 0; i < 4; i++) raw.send(encodeChangeProperty(window, landing, utf8, 8, stale), 'ChangeProperty');
      }, 1);
      for (let i = 0; i < 5; i++) {
        const text = Buffer.from(`fits ${i}`);
        await copyAndWait(xvfb.display, seen, 'clipboard', text);
        expect(Buffer.from(await small.read('clipboard', 'text'))).toEqual(text);
      }
    } finally {
      clearInterval(flood);
      raw.close();
      small.stop();
    }
  });
});
