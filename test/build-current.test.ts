import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staleBuild } from './global-build.js';

/*
 * test/global-build.ts stops the interop and alone runs when dist/ is older than src/: here on a
 * small tree of its own, with file times set by hand.
 */

function tree(files: Record<string, number>): string {
  const root = mkdtempSync(join(tmpdir(), 'spiced-build-'));
  for (const folder of ['src', 'replay', 'bench']) mkdirSync(join(root, folder), { recursive: true });
  for (const [path, seconds] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), '');
    utimesSync(join(root, path), seconds, seconds);
  }
  return root;
}

describe('the build check before interop tests', () => {
  const built = { 'src/a/b.ts': 100, 'src/web/main.ts': 100, 'dist/src/a/b.js': 200, 'dist/web/viewer.js': 300 };

  it('passes a build newer than every source', () => {
    expect(staleBuild(tree(built))).toBe('');
  });

  it('names a source edited after the build', () => {
    expect(staleBuild(tree({ ...built, 'src/a/b.ts': 350 }))).toMatch(
      /^src\/a\/b\.ts is newer than dist\/web\/viewer\.js/,
    );
    expect(staleBuild(tree({ ...built, 'src/a/b.ts': 250, 'dist/web/viewer.js': 400 }))).toBe(
      'src/a/b.ts is newer than its build, dist/src/a/b.js',
    );
  });

  it('names a source with no output and a missing bundle', () => {
    expect(staleBuild(tree({ ...built, 'bench/new.ts': 100 }))).toBe('dist/bench/new.js is missing');
    const { 'dist/web/viewer.js': _bundle, ...noBundle } = built;
    expect(staleBuild(tree(noBundle))).toBe('dist/web/viewer.js is missing');
  });

  it('finds this checkout built (npm test builds before the interop tests)', () => {
    expect(staleBuild()).toBe('');
  });
});
