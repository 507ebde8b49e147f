import { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { renderRecording } from '../sources/recording/index.js';
import { encodePng } from '../display/png.js';

/**
 * `spiced render FILE -o OUT.png`: play any recording (spiced, or SPICE_REPLAY plain/.gz/.xz) to
 * its last frame and save that as PNG.
 */
async function renderCommandAction(file: string, opts: { output: string }): Promise<void> {
  const frame = await renderRecording(file);
  await writeFile(opts.output, encodePng(frame));
}

export function renderCommand(): Command {
  return new Command('render')
    .description(
      'write the final frame of a recording (spiced .spicedrec, or spice-server SPICE_REPLAY .spicerec[.xz]) as a PNG',
    )
    .argument('<file>', 'the recording')
    .requiredOption('-o, --output <png>', 'the PNG to write')
    .action(async (file: string, opts: { output: string }) => {
      await renderCommandAction(file, opts);
    });
}
