import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SYSTEM_PYTHON } from './probes.js';

const SCRIPT = fileURLToPath(new URL('./spice-gtk-agent.py', import.meta.url));

export interface GtkAgentEvent {
  event: string;
  [key: string]: unknown;
}

/** spice-gtk's main channel agent side (helpers/spice-gtk-agent.py), one command at a time. */
export class GtkAgent {
  readonly events: GtkAgentEvent[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private stderr = '';
  private buffered = '';
  private readonly waiters = new Set<() => void>();

  constructor(uri: string) {
    this.child = spawn(SYSTEM_PYTHON, [SCRIPT, '--uri', uri, '--timeout', '120'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d: Buffer) => this.onOutput(d.toString()));
    this.child.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
  }

  private onOutput(text: string): void {
    this.buffered += text;
    const lines = this.buffered.split('\n');
    this.buffered = lines.pop()!;
    for (const line of lines) if (line.trim() !== '') this.events.push(JSON.parse(line) as GtkAgentEvent);
    for (const w of [...this.waiters]) w();
  }

  send(command: string): void {
    this.child.stdin.write(command + '\n');
  }

  /** The first event named `event` from index `from` on that passes `pred`. */
  next(
    event: string,
    pred: (e: GtkAgentEvent) => boolean = () => true,
    from = 0,
    timeoutMs = 20_000,
  ): Promise<GtkAgentEvent> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.events.slice(from).find((e) => e.event === event && pred(e));
        if (!found) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `spice-gtk: no "${event}" event in ${timeoutMs} ms; ` +
              `events ${JSON.stringify(this.events.slice(from))}; stderr ${this.stderr}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.send('quit');
    const kill = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(kill);
  }
}
