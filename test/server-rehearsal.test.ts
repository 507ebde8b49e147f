import { describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import { sameRgb } from '../src/display/pixels.js';
import { ChannelType } from '../src/protocol/constants.js';
import { makeCertificates } from '../src/server/certs.js';
import { SpiceServer, type ClientReport } from '../src/server/server.js';
import { rehearsalSession } from '../src/sources/rehearsal.js';
import { memoryLogger } from '../src/util/log.js';
import { deferredPattern } from './helpers/pattern-source.js';

const PASSWORD = 'rehearsed';

describe('the rehearsal before listening (rehearse: true)', () => {
  it('serves its session over TLS with the password, then leaves the desktop empty and nobody counted', async () => {
    const tls = await makeCertificates(['127.0.0.1']);
    const { source: deferred, started } = deferredPattern();
    const reports: ClientReport[] = [];
    const { logger, records } = memoryLogger('debug');
    const server = new SpiceServer({
      source: deferred,
      port: null,
      tlsPort: 0,
      tls: { cert: tls.cert, key: tls.key },
      password: PASSWORD,
      rehearse: true,
      log: logger,
      onClientClosed: (r) => reports.push(r),
    });
    server.display.onViewerReady = () => void deferred.trigger();
    await server.start();
    const viewer = new SpiceClient({
      port: server.tlsPort!,
      password: PASSWORD,
      tls: { ca: tls.ca },
      channels: [ChannelType.Display, ChannelType.Cursor],
    });
    try {
      // It ran whole (its last frame reached its viewer, or start() would have thrown) and over TLS.
      expect(records.some((r) => /rehearsed the serve path/.test(r.message))).toBe(true);
      expect(records.some((r) => /linked .*tls/.test(r.message))).toBe(true);
      // Its viewer was not the first viewer, and left nothing behind: no surface, cursor at rest,
      // no session, no connection report.
      expect(started()).toBe(0);
      expect(server.desktop.primary).toBeUndefined();
      expect(server.desktop.applied.copy).toBe(0);
      expect(server.desktop.cursorState).toMatchObject({ shape: undefined, visible: true, x: 0, y: 0 });
      expect(server.viewerCounts()).toEqual({ control: 0, view: 0 });
      expect(reports).toEqual([]);
      await viewer.connect();
      await viewer.waitFor(
        () => !!viewer.display.primary && sameRgb(viewer.display.primary, server.desktop.primary!),
        10_000,
        "the source's first frame",
      );
      expect(started()).toBe(1);
      expect(viewer.display.primary!.width).toBe(server.desktop.primary!.width);
    } finally {
      viewer.close();
      await server.stop();
    }
    // The real viewer's connections are reported as ever.
    expect(reports.length).toBeGreaterThan(0);
  });

  it('draws every kind of command a desktop source hands over', () => {
    const kinds = new Set<string>(rehearsalSession().map((c) => c.kind));
    for (const k of ['surfaceCreate', 'surfaceDestroy', 'fill', 'copy', 'blitSurface', 'copyBits', 'cursorMove'])
      expect(kinds.has(k)).toBe(true);
  });
});
