import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/*
 * The browser viewer is built from the same protocol code as the server (no second copy): its
 * bundle's inputs are src/protocol and the shared decoders, and nothing in src/web re-declares
 * what they export. Runs on the output of npm run build (dist/web/meta.json, esbuild's metafile).
 */
const META = 'dist/web/meta.json';
const SHARED_DIRS = ['src/protocol', 'src/client', 'src/display', 'src/seam'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** Names a module exports (functions, classes, consts, types). */
function exportedNames(file: string): string[] {
  const re = /^export (?:declare )?(?:async )?(?:function\*? |class |const |let |interface |type |enum )(\w+)/gm;
  return [...readFileSync(file, 'utf8').matchAll(re)].map((m) => m[1]!);
}

/** The part of esbuild's metafile read here: every input, and each output's own inputs. */
interface Metafile {
  inputs: Record<string, unknown>;
  outputs: Record<string, { inputs: Record<string, unknown> }>;
}

describe.skipIf(!existsSync(META))(
  `the web viewer bundle${existsSync(META) ? '' : ' (skipped: not built, npm run build)'}`,
  () => {
    const meta = JSON.parse(readFileSync(META, 'utf8')) as Metafile;
    const inputs = Object.keys(meta.inputs);

    it('is built from src/protocol, the shared client core and the image decoders', () => {
      for (const f of [
        'src/protocol/header.ts',
        'src/protocol/display.ts',
        'src/protocol/link.ts',
        'src/client/channel-core.ts',
        'src/client/display.ts',
        'src/display/lz-decode.ts',
        'src/display/quic-decode.ts',
      ]) {
        expect(inputs).toContain(f);
      }
    });

    it("the decoding worker is built from the page's own decoders (src/client/images.ts, src/display)", () => {
      const worker = meta.outputs['dist/web/decode-worker.js'];
      expect(worker, 'dist/web/decode-worker.js is not in the build').toBeDefined();
      const own = Object.keys(worker!.inputs).filter((f) => f.startsWith('src/'));
      for (const f of [
        'src/client/images.ts',
        'src/display/quic-decode.ts',
        'src/display/lz-decode.ts',
        'src/display/lz4-decode.ts',
      ])
        expect(own).toContain(f);
      // The same files as the page's bundle, not copies: every one the worker has, the page has too.
      const page = Object.keys(meta.outputs['dist/web/viewer.js']!.inputs);
      expect(own.filter((f) => !f.startsWith('src/web/') && !page.includes(f))).toEqual([]);
      expect(own.filter((f) => f.startsWith('src/web/'))).toEqual([
        'src/web/buffer-global.ts',
        'src/web/decode-worker.ts',
      ]);
    });

    it('holds no Node-only module (the Node client wrapper stays out)', () => {
      expect(
        inputs.filter((f) => f.startsWith('node:') || /^src\/(server|transport|channel|channels|cli)\//.test(f)),
      ).toEqual([]);
      expect(inputs).not.toContain('src/client/channel.ts');
      expect(inputs).not.toContain('src/client/client.ts');
    });

    it('src/web re-declares nothing that src/protocol, src/client or src/display export', () => {
      const shared = new Set(SHARED_DIRS.flatMap((d) => tsFiles(d).flatMap(exportedNames)));
      // Declarations only: `type X` inside an import list is a use, `type X =` a declaration.
      const declared =
        /^\s*(?:export )?(?:(?:async )?function\*? (\w+)|class (\w+)|(?:const|let) (\w+)\s*[:=]|interface (\w+)|type (\w+)\s*[<=]|enum (\w+))/gm;
      const clashes: string[] = [];
      for (const f of tsFiles('src/web')) {
        for (const m of readFileSync(f, 'utf8').matchAll(declared)) {
          const name = m.slice(1).find((g) => g !== undefined)!;
          if (shared.has(name)) clashes.push(`${f}: ${name}`);
        }
      }
      expect(clashes).toEqual([]);
    });

    it('every src/web file that is bundled comes from src/web or the shared folders', () => {
      const own = inputs.filter((f) => f.startsWith('src/'));
      expect(own.filter((f) => !f.startsWith('src/web/') && !SHARED_DIRS.some((d) => f.startsWith(d + '/')))).toEqual(
        [],
      );
    });
  },
);
