import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

/*
 * The processes of a session command (`spiced serve --xvfb -- xfce4-session`) and how they end.
 *
 * The command runs in a process group of its own, so one signal reaches it and everything it
 * started. That is not enough: daemons such as ssh-agent and gpg-agent call setsid() and leave the
 * group (and are reparented away from the command). What they keep is the environment they were
 * started with, so every process of the session carries SPICED_SESSION=<token>, and ending the
 * session also signals every process whose /proc/PID/environ holds that token.
 */

const SESSION_ENV = 'SPICED_SESSION';

const KILL_GRACE_MS = 3000;
const POLL_MS = 50;

export interface Session {
  readonly child: ChildProcess;
  /** The value of SPICED_SESSION in every process of the session. */
  readonly token: string;
  /** Resolves with the command's exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
}

/** Run `command` in a new process group with `env` and the session token; rejects if it cannot start. */
export async function startSession(command: readonly string[], env: NodeJS.ProcessEnv): Promise<Session> {
  const token = randomBytes(12).toString('hex');
  const child = spawn(command[0]!, command.slice(1), {
    env: { ...env, [SESSION_ENV]: token },
    stdio: 'ignore',
    detached: true,
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return { child, token, exited };
}

/**
 * End every process of the session: SIGTERM to the group and to each process carrying the token,
 * then SIGKILL to whatever is left after a grace period. Resolves when none is left.
 */
export async function endSession(session: Session, graceMs = KILL_GRACE_MS): Promise<void> {
  const pgid = session.child.pid;
  if (pgid === undefined) return;
  const members = (): number[] => sessionMembers(session.token, pgid);
  signalAll(pgid, members(), 'SIGTERM');
  const deadline = performance.now() + graceMs;
  while (members().length > 0 && performance.now() < deadline) await delay(POLL_MS);
  // Several rounds: a dying process may still have forked a child that we did not see yet.
  for (let round = 0; round < 5 && members().length > 0; round++) {
    signalAll(pgid, members(), 'SIGKILL');
    await delay(POLL_MS);
  }
}

function signalAll(pgid: number, pids: readonly number[], sig: NodeJS.Signals): void {
  signal(-pgid, sig);
  for (const pid of pids) signal(pid, sig);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    // ESRCH: already gone, which is what we want.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Live (not zombie) processes in group `pgid` or with SPICED_SESSION=token in their environment.
 * Processes of other users whose environment we may not read are not ours, and skipped.
 */
function sessionMembers(token: string, pgid: number): number[] {
  const marker = Buffer.from(`\0${SESSION_ENV}=${token}\0`);
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProc(`/proc/${name}/stat`);
    if (!stat) continue;
    // Fields after the command name (which may hold spaces and parentheses): state ppid pgrp ...
    const fields = stat
      .toString('latin1')
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') continue;
    if (Number(fields[2]) === pgid) {
      out.push(Number(name));
      continue;
    }
    const environ = readProc(`/proc/${name}/environ`);
    if (environ && Buffer.concat([Buffer.from([0]), environ]).includes(marker)) out.push(Number(name));
  }
  return out;
}

/** A /proc file, or undefined when the process is gone or not ours to read. */
function readProc(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES' || code === 'EPERM') return undefined;
    throw err;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
