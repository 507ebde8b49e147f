import { SpiceClient } from '../../src/client/client.js';

/*
 * The healthy viewer: a fresh client that links main, display, inputs and cursor and must get a
 * frame within the deadline. Under attack this is what "the server keeps serving everyone else"
 * means; its time to the first frame is the latency figure the fuzzer reports.
 */

export interface HealthResult {
  ok: boolean;
  /** Connect to first drawn frame, ms (the deadline when it failed). */
  ms: number;
  error?: string;
}

export async function checkHealth(
  port: number,
  password: string | undefined,
  deadlineMs: number,
): Promise<HealthResult> {
  const start = performance.now();
  const client = new SpiceClient({ port, password: password ?? '' });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no frame within ${deadlineMs} ms`)), deadlineMs);
  });
  try {
    await Promise.race([
      client.connect().then(() => client.waitFor(() => client.display.draws > 0, deadlineMs, 'a first frame')),
      deadline,
    ]);
    if (client.errors.length > 0)
      return { ok: false, ms: performance.now() - start, error: `display errors: ${client.errors[0]}` };
    return { ok: true, ms: performance.now() - start };
  } catch (err) {
    return { ok: false, ms: performance.now() - start, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
    client.close();
  }
}

/** A long-lived main channel whose session id linked-mode cases present. */
export class AnchorSession {
  private client: SpiceClient | undefined;
  private connecting: Promise<number | undefined> | undefined;

  constructor(
    private readonly port: () => number,
    private readonly password: string | undefined,
  ) {}

  /** The session id, reconnecting when the anchor was closed; undefined if the server refuses. */
  sessionId(): Promise<number | undefined> {
    if (this.client?.init && !this.closed) return Promise.resolve(this.client.init.sessionId);
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private closed = false;

  private async open(): Promise<number | undefined> {
    this.client?.close();
    const client = new SpiceClient({ port: this.port(), password: this.password ?? '', channels: [] });
    this.client = client;
    this.closed = false;
    client.on('closed', () => (this.closed = true));
    try {
      await client.connect();
      return client.init?.sessionId;
    } catch {
      // The server is restarting or refused the link: linked cases wait for the next try (a
      // server that stops serving sessions shows up as a failed health check, not here).
      this.closed = true;
      return undefined;
    }
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
  }
}
