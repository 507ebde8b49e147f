import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { TestProject } from 'vitest/node';

/*
 * The interop and alone tests run the built tree: the CLI (dist/src/cli/main.js), the replay worker,
 * children that import dist/src, and the web viewer bundle (dist/web) that spiced serves. After an
 * edit in src/ without `npm run build` they would test the old code and pass or fail for the wrong
 * reason, so the run stops before any test with the name of a source newer than its output. The
 * unit project needs no build (test/test-tiers.test.ts keeps it so) and is not checked.
 */

const ROOT = join(__dirname, '..');
/** Folders tsconfig.build.json compiles into dist/ (src/web is bundled apart, into dist/web). */
const COMPILED = ['src', 'replay', 'bench'];

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

/** The first source whose build output is missing or older than it, as a sentence; '' when none. */
export function staleBuild(root = ROOT): string {
  const webBundle = join(root, 'dist', 'web', 'viewer.js');
  const bundle = existsSync(webBundle) ? statSync(webBundle).mtimeMs : -1;
  for (const folder of COMPILED) {
    for (const source of files(join(root, folder))) {
      const rel = relative(root, source);
      const mtime = statSync(source).mtimeMs;
      // The bundle is built from src/web and everything it imports under src/: it must be newer than all of src/.
      if (folder === 'src' && /\.(ts|html|css)$/.test(rel) && mtime > bundle)
        return bundle < 0 ? 'dist/web/viewer.js is missing' : `${rel} is newer than dist/web/viewer.js`;
      if (!rel.endsWith('.ts') || rel.endsWith('.d.ts') || rel.startsWith('src/web/')) continue;
      const output = join('dist', rel.replace(/\.ts$/, '.js'));
      if (!existsSync(join(root, output))) return `${output} is missing`;
      if (statSync(join(root, output)).mtimeMs < mtime) return `${rel} is newer than its build, ${output}`;
    }
  }
  return '';
}

/** The interop and alone projects' global setup (vitest.config.ts); unit tests need no build. */
export default function setup(project: TestProject): void {
  const stale = staleBuild();
  if (stale) throw new Error(`${stale}: the ${project.name} tests run the built tree (dist/); run npm run build first`);
}
