import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpiceClient } from '../src/client/client.js';
import { run, startCli, tempDir } from './helpers/tools.js';

const CLI = join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
const dir = tempDir('spiced-cli-');

describe('spiced CLI', () => {
  it('has complete help for every command', async () => {
    const top = await run(process.execPath, [CLI, '--help']);
    for (const cmd of ['serve', 'replay', 'record', 'render', 'cert']) expect(top.stdout).toContain(cmd);
    const serve = await run(process.execPath, [CLI, 'serve', '--help']);
    for (const opt of [
      '--port',
      '--listen',
      '--password',
      '--password-file',
      '--disable-ticketing',
      '--ticket-expiry',
      '--still',
      '--size',
      '--log-level',
      '--tls-port',
      '--tls-dir',
      '--secure-channels',
      '--cork',
      '--tls-coalesce',
      '--stats',
      '--x11',
      '--xvfb',
      '--display',
      '--x11-retry',
      '--play',
      '--record',
      '--audio',
      '--pulse',
      '--mic-out',
    ]) {
      expect(serve.stdout, opt).toContain(opt);
    }
    for (const cmd of ['replay', 'record', 'render', 'cert']) {
      const r = await run(process.execPath, [CLI, cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout).toMatch(/Usage: spiced/);
    }
  });

  it('refuses to serve beyond loopback without a password', async () => {
    const r = await run(process.execPath, [CLI, 'serve', '--listen', '0.0.0.0', '--port', '0'], {
      env: { SPICE_PASSWORD: '' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to serve 0\.0\.0\.0 without a password/);
  });

  it('rejects nonsense options with a message', async () => {
    const r = await run(process.execPath, [CLI, 'serve', '--size', 'huge']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/WIDTHxHEIGHT/);
  });

  it('takes the password from --password-file or $SPICE_PASSWORD', async () => {
    const file = join(dir, 'pw');
    writeFileSync(file, 'from-file\n');
    for (const [args, env, password] of [
      [['--password-file', file], {}, 'from-file'],
      [[], { SPICE_PASSWORD: 'from-env' }, 'from-env'],
    ] as const) {
      const cli = await startCli(['serve', '--still', '--port', '0', ...args], env);
      const port = cli.port;
      try {
        expect(cli.output()).toContain('password');
        await expect(new SpiceClient({ port, password: 'wrong', channels: [] }).connect()).rejects.toThrow(
          /PERMISSION_DENIED/,
        );
        const ok = new SpiceClient({ port, password, channels: [] });
        await ok.connect();
        ok.close();
      } finally {
        await cli.stop();
      }
    }
  });
});
