import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/*
 * Private network namespaces for measurements: `unshare -rn` gives a fresh loopback device with
 * its own MTU, invisible to the host, without privileges (a user namespace maps us to root in
 * it). Packet counts there are Ethernet-like; on the host's lo (MTU 65536) they are not.
 */

let cached: { ok: boolean; reason: string } | undefined;

/** Whether `unshare -rn` works here, with the reason when it does not. */
export function netnsSupport(): { ok: boolean; reason: string } {
  if (cached) return cached;
  if (process.platform !== 'linux')
    return (cached = { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` });
  const r = spawnSync('unshare', ['-rn', 'sh', '-c', 'ip link set lo up mtu 1500 && ip -o link show lo'], {
    encoding: 'utf8',
  });
  if (r.error)
    return (cached = {
      ok: false,
      reason: `unshare is not available (${r.error.message}); apt-get install util-linux iproute2`,
    });
  if (r.status !== 0)
    return (cached = { ok: false, reason: `unshare -rn is not permitted here: ${(r.stderr || r.stdout).trim()}` });
  if (!/mtu 1500/.test(r.stdout))
    return (cached = { ok: false, reason: `could not set the loopback MTU in a namespace: ${r.stdout.trim()}` });
  return (cached = { ok: true, reason: '' });
}

/**
 * Run `node script args...` in a fresh network namespace whose lo is up with the given MTU.
 * The child sees only its own loopback: nothing it does reaches the host's network.
 */
export function spawnInNetns(script: string, args: string[], mtu: number): ChildProcess {
  const setup = `ip link set lo up mtu ${Math.floor(mtu)} && exec "$0" "$@"`;
  return spawn('unshare', ['-rn', 'sh', '-c', setup, process.execPath, script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Run `node script args...` on the host (loopback), for when namespaces are not permitted. */
export function spawnOnHost(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Collect a child's stdout and stderr; resolve with them when it exits. */
export function collect(
  child: ChildProcess,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`measurement timed out after ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
