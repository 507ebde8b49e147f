import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import { type LinkRefusedError } from '../src/client/link.js';
import { ChannelType, LinkErr } from '../src/protocol/constants.js';
import { run, startCli } from './helpers/tools.js';

/*
 * The deployment options of `spiced serve` as an operator types them (the built CLI): roles,
 * --max-viewers, --metrics-port with /metrics and /healthz, --log-format json.
 */

const CLI = join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

describe('spiced serve deployment options', () => {
  it('serves metrics and health on --metrics-port 0, logs JSON lines, and applies roles and --max-viewers', async () => {
    const args = ['serve', '--still', '--port', '0', '--password', 'control', '--view-password', 'watch'];
    const cli = await startCli([...args, '--max-viewers', '1', '--metrics-port', '0', '--log-format', 'json']);
    stops.push(cli.stop);
    const lines = cli
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { time: string; level: string; scope: string; message: string });
    const metricsLine = lines.find((l) => l.scope === 'metrics')!;
    const metricsUrl = /http:\/\/127\.0\.0\.1:\d+/.exec(metricsLine.message)![0];
    const port = Number(/port (\d+)/.exec(lines.find((l) => /^serving demo/.test(l.message))!.message)![1]);
    expect((await fetch(`${metricsUrl}/healthz`)).status).toBe(200);

    const watcher = new SpiceClient({ port, password: 'watch', channels: [ChannelType.Display] });
    await watcher.connect();
    const second = new SpiceClient({ port, password: 'control', channels: [] });
    const refused = await second.connect().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect((refused as LinkRefusedError).linkError).toBe(LinkErr.ChannelNotAvailable);
    const text = await (await fetch(`${metricsUrl}/metrics`)).text();
    expect(text).toMatch(/^spiced_viewers\{role="view"\} 1$/m);
    expect(text).toMatch(/^spiced_viewers\{role="control"\} 0$/m);
    watcher.close();
    second.close();
  });

  it('refuses --view-password without --password', async () => {
    const r = await run(process.execPath, [CLI, 'serve', '--port', '0', '--view-password', 'watch'], {
      env: { SPICE_PASSWORD: '' },
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--view-password needs --password/);
  });
});
