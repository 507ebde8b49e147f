import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { netnsSupport } from '../replay/netns.js';
import { findHtml5Dir } from '../src/server/web.js';
import { haveXorgDummy } from '../src/sources/x11/xorg-dummy.js';
import { CHROMIUM } from './helpers/browser.js';
import { PROGRAMS, SYSTEM_PYTHON, type ToolReport } from './helpers/probes.js';

/*
 * The external tools the interop tests drive, probed once per `vitest run` before any test file is
 * imported (a file that probed at import time paid for it in every worker, and the python and tshark
 * probes take a second each on a loaded machine). The report reaches the tests through Vitest's
 * provide/inject (test/helpers/probes.ts reads it and words the "skipped: X missing" titles). The
 * unit project drives no tool (test/test-tiers.test.ts checks that) and does not probe.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    tools: ToolReport;
  }
}

/** Exit status of a program, or -1 when it cannot start; never throws, gives up after `timeoutMs`. */
function status(cmd: string, args: string[], timeoutMs = 20_000): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', () => resolve({ code: -1, stderr }));
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stderr });
    });
  });
}

/** Which of PROGRAMS are on PATH: one shell for all of them. */
function programsOnPath(): Promise<Record<string, boolean>> {
  return new Promise((resolve, reject) => {
    const script = 'for c in "$@"; do command -v "$c" >/dev/null 2>&1 && echo "$c"; done; true';
    const child = spawn('sh', ['-c', script, 'sh', ...PROGRAMS], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', () => {
      const found = new Set(out.split('\n'));
      resolve(Object.fromEntries(PROGRAMS.map((p) => [p, found.has(p)])));
    });
  });
}

/** Why tshark cannot capture on lo here ('' when it can): a one-second trial capture. */
async function captureProblem(haveTshark: boolean): Promise<string> {
  if (!haveTshark) return 'tshark is not installed';
  const dir = mkdtempSync(join(tmpdir(), 'spiced-probe-'));
  try {
    const r = await status('tshark', ['-i', 'lo', '-a', 'duration:1', '-q', '-w', join(dir, 'probe.pcap')]);
    if (r.code === 0) return '';
    return `tshark cannot capture on lo here (needs root or CAP_NET_RAW; CI runs as root): ${r.stderr.trim().split('\n').pop()}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function probe(): Promise<ToolReport> {
  const gi = "import gi; gi.require_version('SpiceClientGLib', '2.0'); from gi.repository import SpiceClientGLib";
  const [programs, glib, liblz4, mountns] = await Promise.all([
    programsOnPath(),
    status(SYSTEM_PYTHON, ['-c', gi]),
    status(SYSTEM_PYTHON, ['-c', "import ctypes; ctypes.CDLL('liblz4.so.1')"]),
    status('unshare', ['-rm', 'sh', '-c', 'mount --bind /dev/null /etc/hosts']),
  ]);
  const ns = netnsSupport();
  return {
    programs,
    spiceGlib: glib.code === 0,
    liblz4: liblz4.code === 0,
    chromium: existsSync(CHROMIUM),
    html5: findHtml5Dir() !== undefined,
    xorgDummy: haveXorgDummy(),
    mountns: mountns.code === 0,
    netns: ns.ok ? '' : ns.reason,
    capture: await captureProblem(programs.tshark === true),
  };
}

/** The interop and alone projects' global setup (vitest.config.ts); unit tests drive no tool. */
export default async function setup(project: TestProject): Promise<void> {
  // Every project runs this in the same process: the first one probes, the others reuse it.
  const cached = process.env.SPICED_TEST_TOOLS;
  const report = cached ? (JSON.parse(cached) as ToolReport) : await probe();
  process.env.SPICED_TEST_TOOLS = JSON.stringify(report);
  project.provide('tools', report);
}
