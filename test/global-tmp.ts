import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/**
 * Every test run works under one fresh temporary directory, removed when the run ends: the tests
 * (and the servers, viewers and X servers they start, which inherit TMPDIR) make certificates,
 * recordings, captures and state directories, and left dozens behind in /tmp on every run.
 */
export default function setup(): () => void {
  // Each Vitest project runs this setup in the same process: the later ones keep the first one's
  // directory (nesting them made paths too long for Chromium's singleton socket, 108 bytes).
  if (basename(tmpdir()).startsWith('spiced-tests-')) return () => {};
  const root = mkdtempSync(join(tmpdir(), 'spiced-tests-'));
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}
