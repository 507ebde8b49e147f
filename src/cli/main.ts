#!/usr/bin/env node
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { certCommand } from './cert.js';
import { recordCommand } from './record.js';
import { renderCommand } from './render.js';
import { replayCommand } from './replay.js';
import { serveCommand } from './serve.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

const program = new Command('spiced')
  .description(
    'spiced: a SPICE remote-display server. Serves a desktop (a built-in demo, an X display or a recording) to spice-gtk and spice-html5 viewers.',
  )
  .version(version())
  .showHelpAfterError()
  .addCommand(serveCommand())
  .addCommand(replayCommand())
  .addCommand(recordCommand())
  .addCommand(renderCommand())
  .addCommand(certCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`spiced: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
