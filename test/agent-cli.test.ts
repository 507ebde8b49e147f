import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import { AgentCap, hasCap, MainCap } from '../src/protocol/index.js';
import { AgentViewer } from './helpers/agent-viewer.js';
import { freePort, run, startCli, tempDir } from './helpers/tools.js';

const CLI = join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');

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
    const port = await freePort();
    const cli = await startCli([
      'serve',
      '--still',
      '--port',
      String(port),
      '--no-clipboard',
      '--upload-dir',
      tempDir('spiced-up-'),
    ]);
    try {
      const client = new SpiceClient({
        port,
        mainCaps: [MainCap.NameAndUuid, MainCap.AgentConnectedTokens],
        channels: [],
      });
      await client.connect();
      const agent = new AgentViewer(client);
      await agent.start();
      const caps = (await agent.next('announceCapabilities')).caps;
      expect(hasCap(caps, AgentCap.ClipboardByDemand)).toBe(false);
      expect(hasCap(caps, AgentCap.FileXferDisabled)).toBe(false);
      expect(hasCap(caps, AgentCap.MonitorsConfig)).toBe(true);
      client.close();
    } finally {
      await cli.stop();
    }
  });
});
