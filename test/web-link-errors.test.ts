import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { makeCertificates } from '../src/server/certs.js';
import { SpiceServer } from '../src/server/server.js';
import { ChannelType, LinkErr } from '../src/protocol/constants.js';
import { memoryLogger } from '../src/util/log.js';
import { launchChromium } from './helpers/browser.js';
import { PatternSource } from './helpers/pattern-source.js';
import { lacking, skipNote } from './helpers/probes.js';

/*
 * A clear message in spiced's web viewer for every SPICE link error, and the right next step:
 * the password form, reconnecting with back-off (the server may take the viewer later), or
 * stopping (trying again cannot help). Real servers give the errors they give (a missing
 * password, --max-viewers, a channel that needs TLS); for the others the page's WebSocket is
 * routed through the test (playwright's routeWebSocket), which changes one field of the real
 * bytes on their way: the page's version, magic, size or connection id (the real server then
 * answers with the error), or the error code of the server's reply.
 */
const why = lacking('chromium');

/** Offsets in the link header and SpiceLinkMess / SpiceLinkReply (docs/protocol.md). */
const AT = { magic: 0, major: 4, size: 12, connectionId: 16, channelType: 20, replyError: 16 } as const;

interface Rewrite {
  /** The channel whose link is changed. */
  channel: number;
  /** Change the page's link message (the real server answers it). */
  fromPage?: (b: Buffer) => void;
  /** Change the server's link reply before the page reads it. */
  fromServer?: (b: Buffer) => void;
  /** How many links of that channel are changed (the later ones pass untouched). */
  times?: number;
}

interface Routed {
  /** Main-channel WebSockets the page opened (each one a link attempt). */
  mainLinks: number;
}

function bytes(m: string | Buffer): Buffer {
  // The viewer sends only binary frames; a text frame would be a bug worth seeing as garbage.
  return typeof m === 'string' ? Buffer.from(m, 'latin1') : Buffer.from(m);
}

/** Route every WebSocket of the page to its real server, changing the link bytes `r` names. */
async function route(page: Page, r?: Rewrite): Promise<Routed> {
  const seen: Routed = { mainLinks: 0 };
  let left = r?.times ?? Infinity;
  await page.routeWebSocket(/.*/, (ws: WebSocketRoute) => {
    const server = ws.connectToServer();
    let first = true;
    let changing = false;
    let replied = false;
    ws.onMessage((m) => {
      const b = bytes(m);
      if (first) {
        first = false;
        if (b[AT.channelType] === ChannelType.Main) seen.mainLinks++;
        changing = r !== undefined && b[AT.channelType] === r.channel && left-- > 0;
        if (changing) r?.fromPage?.(b);
      }
      server.send(b);
    });
    server.onMessage((m) => {
      const b = bytes(m);
      if (changing && !replied) r?.fromServer?.(b);
      replied = true;
      ws.send(b);
    });
  });
  return seen;
}

/** What a page's body said each time its state changed to one that ends a session. */
const endings = new WeakMap<Page, { seen: { state: string; status: string }[]; wake: () => void }>();

/**
 * Records, in the page, every session end as it happens: a MutationObserver (an init script, which
 * the page's CSP does not govern) reports the state and status line to the test through a binding.
 * A retry follows an end within 0.5 s, so polling from the test (two round trips to a loaded
 * browser a poll) could miss it and see only the next "Connecting…" or "Connected".
 */
async function watchEndings(page: Page): Promise<void> {
  const entry = { seen: [] as { state: string; status: string }[], wake: (): void => undefined };
  endings.set(page, entry);
  await page.exposeBinding('spicedTestEnded', (_source, state: string, status: string) => {
    entry.seen.push({ state, status });
    entry.wake();
  });
  await page.addInitScript({
    content: `new MutationObserver(() => {
      const state = document.body?.dataset.state;
      if (state === 'failed' || state === 'reconnecting' || state === 'password')
        window.spicedTestEnded(state, document.getElementById('status')?.textContent ?? '');
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] });`,
  });
}

/** The state and status line at the page's first `count` session ends. */
async function ends(page: Page, count: number): Promise<{ state: string; status: string }[]> {
  const entry = endings.get(page)!;
  const deadline = Date.now() + 20_000;
  while (entry.seen.length < count) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`the page never said why its session ended: ${await page.textContent('#status')}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, left);
      entry.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  return entry.seen.slice(0, count);
}

/** The state and status line at the page's first session end. */
async function ending(page: Page): Promise<{ state: string; status: string }> {
  return (await ends(page, 1))[0]!;
}

/** The page tries no more: no new main link within the time its back-off would have taken. */
async function staysStopped(page: Page, seen: Routed): Promise<void> {
  const links = seen.mainLinks;
  await new Promise((r) => setTimeout(r, 1500));
  expect(seen.mainLinks).toBe(links);
  expect(await page.getAttribute('body', 'data-state')).not.toBe('connected');
}

describe.skipIf(why !== '')(`link errors in spiced's web viewer${skipNote(why)}`, () => {
  let browser: Browser;
  const { logger, records } = memoryLogger('info');
  let open: SpiceServer;
  let full: SpiceServer;
  let secured: SpiceServer;
  let locked: SpiceServer;

  beforeAll(async () => {
    const tls = await makeCertificates(['127.0.0.1']);
    const source = (): PatternSource => new PatternSource(160, 120);
    open = new SpiceServer({ source: source(), port: 0, log: logger });
    full = new SpiceServer({ source: source(), port: 0, maxViewers: 1, log: logger });
    secured = new SpiceServer({
      source: source(),
      port: 0,
      tlsPort: 0,
      tls,
      secureChannels: [ChannelType.Main],
      log: logger,
    });
    locked = new SpiceServer({ source: source(), port: 0, password: 'letmein', log: logger });
    await Promise.all([open.start(), full.start(), secured.start(), locked.start()]);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([open?.stop(), full?.stop(), secured?.stop(), locked?.stop()]);
  });

  /** A fresh page whose WebSockets go through `route`. */
  async function pageOn(server: SpiceServer, r?: Rewrite): Promise<{ page: Page; seen: Routed }> {
    const page = await browser.newPage();
    await watchEndings(page);
    const seen = await route(page, r);
    await page.goto(`http://127.0.0.1:${server.plainPort}/`);
    return { page, seen };
  }

  /** The page connects in the end (after an error worth retrying). */
  async function connects(page: Page): Promise<void> {
    await page.locator('#status', { hasText: /^Connected$/ }).waitFor({ timeout: 20_000 });
  }

  it('PERMISSION_DENIED without a password: the password form, no retry', async () => {
    const { page, seen } = await pageOn(locked);
    try {
      expect(await ending(page)).toEqual({ state: 'password', status: 'This server needs a password.' });
      expect(await page.isVisible('#login')).toBe(true);
      await staysStopped(page, seen);
    } finally {
      await page.close();
    }
  });

  it('CHANNEL_NOT_AVAILABLE from --max-viewers: "the server is full", retried until a viewer leaves', async () => {
    const first = await pageOn(full);
    await connects(first.page);
    const { page } = await pageOn(full);
    try {
      const end = await ending(page);
      expect(end.state).toBe('reconnecting');
      expect(end.status).toMatch(/^The server is full: it takes no more viewers now\. Reconnecting in \d+\.\d s…$/);
      expect(
        records.some((r) =>
          /refused: main:0: the server is full: 1 viewers of at most 1 .*CHANNEL_NOT_AVAILABLE/.test(r.message),
        ),
      ).toBe(true);
      await first.page.close();
      await connects(page);
    } finally {
      await page.close();
      if (!first.page.isClosed()) await first.page.close();
    }
  });

  it('NEED_SECURED: a page from the plain port is told to use the TLS port, no retry', async () => {
    const { page, seen } = await pageOn(secured);
    try {
      expect(await ending(page)).toEqual({
        state: 'failed',
        status: 'This server accepts this channel only over TLS: open the page from its TLS port (https://).',
      });
      await staysStopped(page, seen);
    } finally {
      await page.close();
    }
  });

  // The rest: the real link bytes with one field changed on the way.
  const fatal: { name: string; rewrite: Rewrite; status: string }[] = [
    {
      name: 'VERSION_MISMATCH from the server (the page says SPICE 3)',
      rewrite: { channel: ChannelType.Main, fromPage: (b) => b.writeUInt32LE(3, AT.major) },
      status: 'The server speaks a SPICE protocol version this viewer does not (version mismatch).',
    },
    {
      name: 'VERSION_MISMATCH found by the page (the server says SPICE 1)',
      rewrite: { channel: ChannelType.Main, fromServer: (b) => b.writeUInt32LE(1, AT.major) },
      status: 'The server speaks a SPICE protocol version this viewer does not (version mismatch).',
    },
    {
      name: 'INVALID_MAGIC (the page sends no SPICE magic)',
      rewrite: { channel: ChannelType.Main, fromPage: (b) => b.write('GET ', AT.magic, 'latin1') },
      status: 'This port does not speak SPICE as this viewer does (invalid magic).',
    },
    {
      name: 'INVALID_DATA (the page claims a 1-byte link message)',
      rewrite: { channel: ChannelType.Main, fromPage: (b) => b.writeUInt32LE(1, AT.size) },
      status: 'The server did not understand this viewer (invalid link data).',
    },
    {
      name: 'NEED_UNSECURED (in the reply)',
      rewrite: {
        channel: ChannelType.Main,
        fromServer: (b) => b.writeUInt32LE(LinkErr.NeedUnsecured, AT.replyError),
      },
      status: 'This server accepts this channel only without TLS: open the page from its plain port (http://).',
    },
  ];
  for (const c of fatal) {
    it(`${c.name}: says so and stops`, async () => {
      const { page, seen } = await pageOn(open, c.rewrite);
      try {
        expect(await ending(page)).toEqual({ state: 'failed', status: c.status });
        await staysStopped(page, seen);
      } finally {
        await page.close();
      }
    });
  }

  const retried: { name: string; rewrite: Rewrite; status: RegExp }[] = [
    {
      name: 'BAD_CONNECTION_ID (the display link names another session)',
      rewrite: {
        channel: ChannelType.Display,
        fromPage: (b) => b.writeUInt32LE((b.readUInt32LE(AT.connectionId) ^ 0x5a5a5a5a) >>> 0, AT.connectionId),
        times: 1,
      },
      status: /^The session ended on the server \(bad connection id\)\. Reconnecting in \d+\.\d s…$/,
    },
    {
      name: 'ERROR (in the reply)',
      rewrite: {
        channel: ChannelType.Main,
        fromServer: (b) => b.writeUInt32LE(LinkErr.Error, AT.replyError),
        times: 1,
      },
      status: /^The server could not link this viewer \(an error on its side\)\. Reconnecting in \d+\.\d s…$/,
    },
    {
      name: 'CHANNEL_NOT_AVAILABLE for a channel the server offered',
      rewrite: {
        channel: ChannelType.Cursor,
        fromServer: (b) => b.writeUInt32LE(LinkErr.ChannelNotAvailable, AT.replyError),
        times: 1,
      },
      status: /^The server refused a channel it had offered \(channel not available\)\. Reconnecting in \d+\.\d s…$/,
    },
  ];
  for (const c of retried) {
    it(`${c.name}: says so, then reconnects`, async () => {
      const { page } = await pageOn(open, c.rewrite);
      try {
        const end = await ending(page);
        expect(end.state).toBe('reconnecting');
        expect(end.status).toMatch(c.status);
        await connects(page);
      } finally {
        await page.close();
      }
    });
  }

  it('a server that is gone: "Disconnected", retried with growing delays', async () => {
    const gone = new SpiceServer({ source: new PatternSource(160, 120), port: 0, log: logger });
    await gone.start();
    const page = await browser.newPage();
    await watchEndings(page);
    try {
      await page.goto(`http://127.0.0.1:${gone.plainPort}/`);
      await connects(page);
      await gone.stop();
      const delays = (await ends(page, 3)).map((e) => /Reconnecting in (\d+\.\d) s/.exec(e.status)?.[1]);
      expect(delays).toEqual(['0.5', '1.0', '2.0']);
      expect(await page.textContent('#status')).toMatch(/^Disconnected: /);
    } finally {
      await page.close();
    }
  });
});
