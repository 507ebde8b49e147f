import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import config, { ALONE, INTEROP } from '../vitest.config.js';

/*
 * The `unit` project promises tests that need no external program and no build: they run anywhere
 * in seconds. This check reads every unit test file and the test helpers it imports (transitively)
 * and fails when one of them names a program the machine may lack (X servers, browsers, the python
 * GI client, tshark, haproxy, xclip, ffmpeg...), starts a program other than the few base tools
 * allowed below, or runs the built tree (dist/). Such a test belongs in INTEROP (vitest.config.ts).
 */

const ROOT = resolve(__dirname, '..');

/** Programs a unit test must not name: they come from packages a developer may not have. */
const TOOLS = [
  'Xvfb',
  'Xorg',
  'Xspice',
  'chromium',
  'playwright-core',
  'python3',
  '/usr/bin/python3',
  'tshark',
  'dumpcap',
  'haproxy',
  'xclip',
  'xsel',
  'xdotool',
  'xterm',
  'xclock',
  'twm',
  'import',
  'ffmpeg',
  'ffplay',
  'remote-viewer',
  'spicy-screenshot',
  'unshare',
  'parec',
];

/** Base-system programs a unit test may start (coreutils-level, present on every Debian). */
const ALLOWED_PROGRAMS = new Set(['xz', 'mkfifo', 'sh']);

/** Why `text` (one file) is not fit for the unit project, or [] when it is. */
function violations(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(['"`])([^'"`\n]*)\1/g)) {
    const literal = m[2]!;
    if (TOOLS.includes(literal)) found.push(`names the program '${literal}'`);
    if (/(^|\/)dist(\/|$)/.test(literal)) found.push(`runs the built tree ('${literal}')`);
  }
  // exec( after a dot is RegExp.prototype.exec, not child_process.exec.
  for (const m of text.matchAll(
    /(?:\b(spawn|spawnSync|execFile|execFileSync|execSync|fork)|(?<![.\w])(exec))\(\s*([^,)]*)/g,
  )) {
    const program = /^(['"`])([^'"`]*)\1$/.exec(m[3]!.trim())?.[2];
    if (m[1] === 'fork') continue; // a Node child running a helper (its file is checked as an import)
    if (program === undefined || !ALLOWED_PROGRAMS.has(program.split(' ')[0]!)) found.push(`starts a program: ${m[0]}`);
  }
  return found;
}

/** The test helpers a file imports or runs (relative paths inside test/: imports, forked scripts). */
function localImports(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/'(\.{1,2}\/[^']+\.(?:js|mjs|ts))'/g)) {
    const target = resolve(
      dirname(file),
      existsSync(resolve(dirname(file), m[1]!)) ? m[1]! : m[1]!.replace(/\.js$/, '.ts'),
    );
    if (target.startsWith(join(ROOT, 'test') + '/')) out.push(target);
  }
  return out;
}

/** Every problem of `file` and of the helpers it reaches, each named by the file that has it. */
function problems(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  const own = violations(text).map((v) => `${relative(ROOT, file)} ${v}`);
  return [...own, ...localImports(file, text).flatMap((f) => problems(f, seen))];
}

function unitFiles(): string[] {
  const other = new Set([...INTEROP, ...ALONE]);
  return readdirSync(join(ROOT, 'test'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `test/${f}`)
    .filter((f) => !other.has(f) && f !== 'test/test-tiers.test.ts'); // this file names them to look for them
}

describe('the unit project', () => {
  it('is every test file not listed as interop or alone (the config and this check agree)', () => {
    const unit = config.test?.projects?.find(
      (p): p is { test: { name: string; exclude: string[] } } =>
        typeof p === 'object' && 'test' in p && (p.test as { name?: string }).name === 'unit',
    );
    expect(unit?.test.exclude.sort()).toEqual([...INTEROP, ...ALONE].sort());
    expect(unitFiles().length).toBeGreaterThan(30);
  });

  it('needs no external program and no build', () => {
    const found = unitFiles().flatMap((f) => problems(join(ROOT, f)).map((p) => `${f}: ${p}`));
    expect(found, 'move these files to INTEROP in vitest.config.ts').toEqual([]);
  });

  it('would catch a unit test that starts Xvfb, Chromium or the built CLI', () => {
    expect(violations("spawn('Xvfb', [':9'])")).not.toEqual([]);
    expect(violations("const CHROMIUM = 'chromium';")).not.toEqual([]);
    expect(violations("run(process.execPath, ['dist/src/cli/main.js'])")).not.toEqual([]);
    expect(violations("spawnSync('xz', ['-dc', path])")).toEqual([]);
  });
});
