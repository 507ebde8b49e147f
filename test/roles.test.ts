import { afterEach, describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import { LinkRefusedError } from '../src/client/link.js';
import { ChannelType, LinkErr } from '../src/protocol/constants.js';
import { SpiceServer, type SpiceServerOptions } from '../src/server/server.js';
import { memoryLogger } from '../src/util/log.js';
import { InputsChannelClient } from '../src/channels/inputs.js';
import { PatternSource } from './helpers/pattern-source.js';
import { encryptTicket, rawLink } from './helpers/raw-link.js';

/*
 * Roles and the viewer limit (issue 15): a second password gives viewers who see but do not
 * control; --max-viewers refuses the next viewer with a link error; joins and leaves are logged
 * with the count by role. Real sockets, the project's client.
 */

const servers: SpiceServer[] = [];
const clients: SpiceClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function serve(
  options: Partial<SpiceServerOptions> = {},
): Promise<{ server: SpiceServer; source: PatternSource }> {
  const source = new PatternSource();
  const server = new SpiceServer({
    source,
    port: 0,
    password: 'teacher',
    viewPassword: 'class',
    warmUp: false,
    pingIntervalSeconds: 0,
    ...options,
  });
  servers.push(server);
  await server.start();
  return { server, source };
}

async function viewer(port: number, password: string): Promise<SpiceClient> {
  const c = new SpiceClient({ port, password, channels: [ChannelType.Display, ChannelType.Inputs] });
  clients.push(c);
  await c.connect();
  await c.waitFor(() => c.display.marks > 0, 10_000, 'the first frame');
  return c;
}

const A_KEY = 0x1e;

describe('viewer roles', () => {
  it('a view-only viewer sees the screen, its keys, pointer and agent reach nobody; control still drives', async () => {
    // Uploads accepted make the server offer its agent (the pattern desktop has no clipboard).
    const uploads = { handle: () => {}, viewerGone: () => {}, whenDrained: (_p: unknown, f: () => void) => f() };
    const { server, source } = await serve({ agent: { uploads } });
    const watcher = await viewer(server.port, 'class');
    const teacher = await viewer(server.port, 'teacher');
    for (let i = 0; i < 5; i++) watcher.tapKey(A_KEY);
    watcher.sendInput({ kind: 'mousePosition', x: 50, y: 60, buttons: 0, displayId: 0 });
    watcher.sendInput({ kind: 'mousePress', button: 1, buttons: 1 });
    const watcherInputs = (): InputsChannelClient | undefined =>
      [...server.clients()].find((c): c is InputsChannelClient => c instanceof InputsChannelClient && c.ignored > 0);
    // Every message of the watcher arrived (12: five taps of two, a position, a press) and was ignored.
    await watcher.waitFor(() => watcherInputs()?.ignored === 12, 5000, "the watcher's inputs at the server");
    teacher.tapKey(A_KEY);
    await teacher.waitFor(() => source.inputs.length === 2, 5000, "the teacher's key");
    expect(source.inputs.filter((e) => e.kind === 'key')).toHaveLength(2); // one tap: down and up
    expect(source.inputs.some((e) => e.kind === 'pointer' || e.kind === 'button')).toBe(false);
    const roles = [...server.sessions.values()].map((s) => s.role).sort();
    expect(roles).toEqual(['control', 'view']);
    expect(server.viewerCounts()).toEqual({ control: 1, view: 1 });
    // No agent for the watcher (clipboard, resize requests, files), the agent for the teacher.
    expect(watcher.init?.agentConnected).toBe(0);
    expect(teacher.init?.agentConnected).toBe(1);
  });

  it('a view-only ticket cannot open channels of a controlling session', async () => {
    const { server } = await serve();
    const teacher = await viewer(server.port, 'teacher');
    const sessionId = [...server.sessions.values()][0]!.id;
    const outcome = await rawLink(server.port, (key) => encryptTicket(key, 'class'), '127.0.0.1', {
      connectionId: sessionId,
      channelType: ChannelType.Inputs,
    });
    expect(outcome.result).toBe(LinkErr.PermissionDenied);
    expect(teacher.errors).toEqual([]);
  });

  it('logs each join and leave with the number of viewers by role', async () => {
    const { logger, records } = memoryLogger('info');
    const { server } = await serve({ log: logger });
    const a = await viewer(server.port, 'class');
    await viewer(server.port, 'teacher');
    expect(records.map((r) => r.message)).toContainEqual(
      expect.stringMatching(/joined \(control\): 2 viewers \(1 control, 1 view only\)/),
    );
    a.close();
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (server.viewerCounts().view === 0) resolve(clearInterval(t));
      }, 10);
    });
    expect(records.map((r) => r.message)).toContainEqual(
      expect.stringMatching(/left: 1 viewer \(1 control, 0 view only\)/),
    );
  });
});

describe('--max-viewers', () => {
  it('refuses the viewer beyond the limit (CHANNEL_NOT_AVAILABLE, logged), admits one after a leave', async () => {
    const { logger, records } = memoryLogger('info');
    const { server } = await serve({ maxViewers: 2, log: logger });
    const first = await viewer(server.port, 'teacher');
    await viewer(server.port, 'class');
    const third = new SpiceClient({ port: server.port, password: 'class', channels: [ChannelType.Display] });
    clients.push(third);
    const refused = await third.connect().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(LinkRefusedError);
    expect((refused as LinkRefusedError).linkError).toBe(LinkErr.ChannelNotAvailable);
    expect(records.map((r) => r.message)).toContainEqual(
      expect.stringMatching(/the server is full: 2 viewers of at most 2 \(--max-viewers\)/),
    );
    first.close();
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (server.viewerCounts().control === 0) resolve(clearInterval(t));
      }, 10);
    });
    await viewer(server.port, 'teacher');
    expect(server.viewerCounts()).toEqual({ control: 1, view: 1 });
  });
});
