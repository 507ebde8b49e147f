import { defineConfig } from 'vitest/config';

/**
 * Tests that drive real external programs (X servers, spice-gtk, Chromium, tshark, haproxy, network
 * namespaces) or the built tree (dist/: the CLI, the web bundle): the `interop` project. Everything
 * else is `unit`: no external tool, no build, seconds per file (`npx vitest run --project unit` while
 * working); test/test-tiers.test.ts fails when a unit file (or a helper it imports) names such a
 * program. A new file is a unit test unless it is listed here. npm test runs unit and interop
 * together, then `alone`.
 */
export const INTEROP = [
  'agent-cli',
  'agent-gtk',
  'agent-html5',
  'build-current',
  'cli',
  'cli-deploy',
  'encode-once',
  'haproxy',
  'html5',
  'input-burst',
  'interop-gtk',
  'lossy-images',
  'lz4-liblz4',
  'netns',
  'periodic-stats',
  'png',
  'pre-auth',
  'replay',
  'session-changes',
  'sound',
  'tls',
  'video-interop',
  'web-bundle',
  'web-controls',
  'web-link-errors',
  'web-video',
  'web-viewer',
  'web-worker',
  'web-x11',
  'wire-dissect',
  'x11-agent-gtk',
  'x11-agent-html5',
  'x11-clipboard',
  'x11-drag-memory',
  'x11-interop',
  'x11-resize',
  'x11-session',
  'x11-source',
].map((name) => `test/${name}.test.ts`);

/** Long runs that measure the whole server (memory, many viewers): `alone`, one file at a time. */
export const ALONE = ['test/fuzz-server.test.ts', 'test/session-soak.test.ts'];

const INTEROP_SETUP = ['test/global-build.ts', 'test/global-tools.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/global-tmp.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Interop tests start real servers and clients; two files at a time fit a 2-core machine.
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...INTEROP, ...ALONE] } },
      // These run the built tree (test/global-build.ts stops them when dist/ is older than src/)
      // and the external tools test/global-tools.ts probes once for the run.
      { extends: true, test: { name: 'interop', include: INTEROP, globalSetup: INTEROP_SETUP } },
      { extends: true, test: { name: 'alone', include: ALONE, globalSetup: INTEROP_SETUP } },
    ],
  },
});
