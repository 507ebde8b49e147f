import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-tmp.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Interop tests start real servers and clients; two files at a time fit a 2-core machine.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
