import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readRecording } from '../src/sources/recording/read.js';
import { SpiceReplayImporter } from '../src/sources/recording/spice-replay/index.js';
import { streamDigest, type StreamDigest } from './helpers/command-digest.js';
import { kitchenSink } from './helpers/kitchen-sink.js';

/*
 * The SPICE_REPLAY importer must emit exactly what it always did: these digests were computed
 * from the streaming importer (commit 7997b13) before it was rewritten for speed. Each covers
 * every command (timestamp, fields, image pixels) and, for the importer, its ImportStats.
 * If an intended change to the output breaks them, recompute them on purpose and say why.
 */

interface Golden {
  /** Digest of SpiceReplayImporter(path).events() followed by importer.stats. */
  importer: StreamDigest;
  /** Digest of readRecording(path) (commands only). */
  readRecording: StreamDigest;
}

const GOLDEN: Record<string, Golden> = {
  'image.spicerec.xz': {
    importer: { commands: 3731, sha256: 'f5599ffd9c90b9ed74dba0cc3d08fe53ecddc8e170acd5ecf4caad32ea6a2a73' },
    readRecording: { commands: 3731, sha256: '1672f898357f3c68662d6ac7a00e94db59c85ef883367a06ed29b1cfaa93e030' },
  },
  'xterm-type.spicerec.xz': {
    importer: { commands: 367, sha256: '3e654630f64aa7bf00200ffdba8ca4e1c5e04c3a9ab88280da046685e12c75a3' },
    readRecording: { commands: 367, sha256: '8ac1af3f6f782a993919c94cb9cb47bf222bf46b69ec634842de49924753215c' },
  },
  'xclock-xeyes.spicerec.xz': {
    importer: { commands: 667, sha256: '129f1ffea7a536587a72b3eb340c0b8db6bec5fdc739982adf0ff631703eac1d' },
    readRecording: { commands: 667, sha256: '3090a277c1ff8ade29f3a3ab74bf78117aed8c5f4d1007106d0b9aea67549576' },
  },
  'xterm-scroll.spicerec.xz': {
    importer: { commands: 416, sha256: '1dcfc62d3f193ed5a74071fb073d893e152a7255a333634a473416b6d2a7817d' },
    readRecording: { commands: 416, sha256: '7947bead23e9c887341a379fc4e02768b63159178781b6886646eca4fe0f5ebd' },
  },
};

/** The synthetic kitchen-sink recording below, through the importer with its stats. */
const KITCHEN_SINK: StreamDigest = {
  commands: 30,
  sha256: 'd96638cf0f8517dd6bb333ea15ef711cae897429236113d1d8dff2950271fcc1',
};

const HERE = fileURLToPath(new URL('.', import.meta.url));
const DIRS = [join(HERE, '..', 'recordings')];
const HAS_XZ = spawnSync('sh', ['-c', 'command -v xz'], { stdio: 'ignore' }).status === 0;
const tmp = mkdtempSync(join(tmpdir(), 'spiced-golden-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function locate(name: string): string | undefined {
  return DIRS.map((d) => join(d, name)).find((p) => existsSync(p));
}

async function* chunksOf(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function importerDigest(input: string | AsyncIterable<Buffer>): Promise<StreamDigest> {
  const importer = new SpiceReplayImporter(input);
  return streamDigest(importer.events(), () => importer.stats);
}

describe('spice-replay importer output is unchanged (golden digests)', () => {
  for (const [name, want] of Object.entries(GOLDEN)) {
    const path = locate(name);
    it.skipIf(!path || !HAS_XZ)(
      `${name}: same commands, pixels, timestamps and stats${!path ? ` (skipped: recordings/${name} missing)` : !HAS_XZ ? ' (skipped: xz not installed; apt-get install xz-utils)' : ''}`,
      async () => {
        expect(await importerDigest(path!)).toEqual(want.importer);
        expect(await streamDigest(readRecording(path!))).toEqual(want.readRecording);
      },
    );
  }

  it.skipIf(!HAS_XZ)(
    `the same through a plain file and through uneven chunks${HAS_XZ ? '' : ' (skipped: xz not installed; apt-get install xz-utils)'}`,
    async () => {
      const found = locate('xterm-type.spicerec.xz');
      expect(found, 'recordings/xterm-type.spicerec.xz').toBeDefined();
      const path = found!;
      const plain = join(tmp, 'xterm-type.spicerec');
      writeFileSync(plain, spawnSync('xz', ['-dc', path], { maxBuffer: 1 << 28 }).stdout);
      expect(await importerDigest(plain)).toEqual(GOLDEN['xterm-type.spicerec.xz']!.importer);
      expect(await streamDigest(readRecording(plain))).toEqual(GOLDEN['xterm-type.spicerec.xz']!.readRecording);
      const bytes = spawnSync('xz', ['-dc', path], { maxBuffer: 1 << 28 }).stdout;
      expect(await importerDigest(chunksOf(bytes, 65_521))).toEqual(GOLDEN['xterm-type.spicerec.xz']!.importer);
    },
  );

  it('a synthetic recording with every kind of event', async () => {
    const bytes = kitchenSink();
    expect(await importerDigest(chunksOf(bytes, 13))).toEqual(KITCHEN_SINK);
  });
});
