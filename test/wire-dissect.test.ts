import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpiceServer } from '../src/server/server.js';
import { DemoSource } from '../src/sources/demo/index.js';
import { lacking, skipNote, SYSTEM_PYTHON, tools } from './helpers/probes.js';
import { run, tempDir } from './helpers/tools.js';

/*
 * An independent reading of spiced's wire format: a plain session of the real spice-gtk client
 * on loopback is captured and handed to Wireshark's SPICE dissector, which must find every
 * server message well formed. Only the server-to-client direction is judged: the dissector does
 * not know INPUTS_KEY_SCANCODE and loses the client's inputs stream after it. (The project's own
 * client is no use here: it sends the auth mechanism and the ticket in one segment, which the
 * dissector's link-stage reassembly does not follow; TCP does not care.)
 */
const SPICE_CLIENT = join(__dirname, 'helpers', 'spice-gtk-client.py');
// The trial capture on lo is part of the probes (test/global-tools.ts).
const SKIP = lacking('spice-glib', 'tshark') || (tools().capture && `skipped: ${tools().capture}`);
const CAN_CAPTURE = SKIP === '';

/** Start tshark on lo for one port; resolves once it is capturing. */
async function startCapture(port: number, file: string): Promise<() => Promise<void>> {
  const child = spawn('tshark', ['-i', 'lo', '-f', `tcp port ${port}`, '-w', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (/Capturing on/.test(err)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`tshark exited (${code}): ${err}`)));
  });
  return () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGINT');
    });
}

describe(`Wireshark reads what spiced sends${skipNote(SKIP)}`, () => {
  it.skipIf(!CAN_CAPTURE)(
    'every server message of a session with all channels dissects cleanly',
    async () => {
      // The server listens first, on a port the kernel picks; the capture starts before any client.
      const server = new SpiceServer({
        source: new DemoSource({ width: 640, height: 480, still: true }),
        port: 0,
        listen: '127.0.0.1',
      });
      await server.start();
      const port = server.port;
      const file = join(tempDir(), 'session.pcap');
      const stop = await startCapture(port, file);
      try {
        const r = await run(
          SYSTEM_PYTHON,
          [
            SPICE_CLIENT,
            '--uri',
            `spice://127.0.0.1:${port}`,
            '--out',
            join(tempDir(), 'shot.png'),
            '--type',
            'hi',
            '--hold',
            '2',
            '--timeout',
            '30',
          ],
          { timeoutMs: 60_000 },
        );
        expect(r.code, r.stderr).toBe(0);
      } finally {
        await server.stop();
        await new Promise((r) => setTimeout(r, 300));
        await stop();
      }
      const read = (...args: string[]): Promise<string> =>
        run('tshark', ['-r', file, '-d', `tcp.port==${port},spice`, ...args], { timeoutMs: 60_000 }).then(
          (r) => r.stdout,
        );
      const fromServer = `tcp.srcport==${port}`;
      const info = await read('-Y', `spice && ${fromServer}`, '-T', 'fields', '-e', '_ws.col.Info');
      // Not vacuous: the dissector decoded the messages that matter (main, display, playback).
      for (const name of [
        'INIT',
        'CHANNELS_LIST',
        'SET_ACK',
        'SURFACE_CREATE',
        'DRAW_COPY',
        'MONITORS_CONFIG',
        'MARK',
        'MODE',
        'START',
        'DATA',
      ]) {
        expect(info, name).toMatch(new RegExp(`Server ${name}\\b`));
      }
      expect((await read('-Y', `_ws.malformed && ${fromServer}`)).trim()).toBe('');
      expect((await read('-Y', `_ws.expert.severity >= "error" && ${fromServer}`)).trim()).toBe('');
      const details = await read('-Y', fromServer, '-V');
      expect(details).not.toMatch(/not fully dissected|Unknown server PDU|Unknown .* server message/);
    },
    90_000,
  );
});
