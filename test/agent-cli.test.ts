import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import { AgentCap, hasCap, MainCap } from '../src/protocol/index.js';
import { AgentViewer } from './helpers/agent-viewer.js';
import { lacking, skipNote } from './helpers/probes.js';
import { run, startCli, tempDir } from './helpers/tools.js';

const CLI = join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');

/** The capabilities spiced's agent announces to a viewer on `port` that starts its agent. */
async function agentCaps(port: number): Promise<number[]> {
  const client = new SpiceClient({ port, mainCaps: [MainCap.NameAndUuid, MainCap.AgentConnectedTokens], channels: [] });
  try {
    await client.connect();
    const agent = new AgentViewer(client);
    await agent.start();
    return (await agent.next('announceCapabilities')).caps;
  } finally {
    client.close();
  }
}

describe('spiced serve: the agent options', () => {
  it('lists them in --help and refuses bad values with a message', async () => {
    const help = await run(process.execPath, [CLI, 'serve', '--help']);
    for (const opt of ['--clipboard', '--no-clipboard', '--max-clipboard', '--upload-dir', '--max-upload']) {
      expect(help.stdout, opt).toContain(opt);
    }
    const size = await run(process.execPath, [CLI, 'serve', '--max-clipboard', 'lots']);
    expect(size.code).not.toBe(0);
    expect(size.stderr).toMatch(/expected a size such as 16M/);
    const dir = await run(process.execPath, [CLI, 'serve', '--port', '0', '--upload-dir', '/nonexistent/spiced']);
    expect(dir.code).not.toBe(0);
    expect(dir.stderr).toMatch(/--upload-dir \/nonexistent\/spiced: .*no such file/i);
  });

  it("--no-clipboard and --upload-dir reach the agent's capabilities", async () => {
    const cli = await startCli([
      'serve',
      '--still',
      '--port',
      '0',
      '--no-clipboard',
      '--upload-dir',
      tempDir('spiced-up-'),
    ]);
    const port = cli.port;
    try {
      const caps = await agentCaps(port);
      expect(hasCap(caps, AgentCap.ClipboardByDemand)).toBe(false);
      expect(hasCap(caps, AgentCap.FileXferDisabled)).toBe(false);
      expect(hasCap(caps, AgentCap.MonitorsConfig)).toBe(true);
    } finally {
      await cli.stop();
    }
  });

  it('--resize and --no-resize want an X display', async () => {
    for (const flag of ['--resize', '--no-resize']) {
      const r = await run(process.execPath, [CLI, 'serve', '--port', '0', flag]);
      expect(r.code, flag).not.toBe(0);
      expect(r.stderr).toContain(`${flag} needs --x11 DISPLAY or --xvfb`);
    }
  });

  const noXServers = lacking('xorg-dummy', 'Xvfb');
  it.skipIf(noXServers !== '')(
    `--xvfb starts Xorg with the dummy driver, which resizes; --no-resize starts Xvfb, which does not${skipNote(noXServers)}`,
    async () => {
      for (const [extra, server, resizes] of [
        [[], 'Xorg', true],
        [['--no-resize'], 'Xvfb', false],
      ] as const) {
        const cli = await startCli(['serve', '--xvfb', ...extra, '--size', '640x480', '--port', '0']);
        try {
          expect(cli.output()).toMatch(new RegExp(`started ${server} :\\d+`));
          expect(hasCap(await agentCaps(cli.port), AgentCap.MonitorsConfig), server).toBe(resizes);
        } finally {
          await cli.stop();
        }
      }
    },
  );
});
