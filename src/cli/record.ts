import { Command, Option } from 'commander';
import { recordDemoSample } from '../sources/recording/samples.js';
import { parsePositive, parseSize } from './options.js';
import { writeRecording } from '../sources/recording/index.js';
import { generateOfficeSession } from '../sources/synthetic/index.js';

export interface RecordSyntheticOptions {
  output: string;
  seconds: number;
  seed: number;
  width: number;
  height: number;
}

/**
 * `spiced record --synthetic`: generate a synthetic office session and write it as a spiced
 * recording. Returns the number of commands and the file size.
 */
export async function recordSynthetic(opts: RecordSyntheticOptions): Promise<{ commands: number; bytes: number }> {
  const { output, seconds, seed, width, height } = opts;
  const meta = {
    source: `synthetic office (seed ${seed})`,
    width,
    height,
    description: `generateOfficeSession({ seconds: ${seconds}, width: ${width}, height: ${height}, seed: ${seed} })`,
  };
  const session = generateOfficeSession({ seconds, seed, width, height });
  // The first step checks the arguments: a bad size fails here, before the file is created.
  const first = session.next();
  return writeRecording(output, meta, withFirst(first, session));
}

function* withFirst<T>(first: IteratorResult<T>, rest: Iterator<T>): Generator<T> {
  if (first.done) return;
  yield first.value;
  for (let r = rest.next(); !r.done; r = rest.next()) yield r.value;
}

/** `spiced record`: make a recording without serving it (synthetic office work or the demo desktop). */
export function recordCommand(): Command {
  return new Command('record')
    .description(
      'write a spiced session recording without serving it: synthetic office-like activity, or the demo desktop (to record a live session instead: spiced serve --record FILE)',
    )
    .requiredOption('-o, --output <file>', 'the recording to write (.spicedrec)')
    .addOption(new Option('--source <kind>', 'what to record').choices(['synthetic', 'demo']).default('synthetic'))
    .option('--seconds <n>', 'length of the session', (v) => parsePositive(v), 600)
    .option('--seed <n>', 'synthetic: seed of its deterministic activity', (v) => Math.floor(Number(v)), 1)
    .option('--size <WxH>', 'screen size', parseSize, { width: 1024, height: 768 })
    .action(
      async (opts: {
        output: string;
        source: string;
        seconds: number;
        seed: number;
        size: { width: number; height: number };
      }) => {
        const r =
          opts.source === 'demo'
            ? await recordDemoSample(opts.output, opts.seconds)
            : await recordSynthetic({
                output: opts.output,
                seconds: opts.seconds,
                seed: opts.seed,
                width: opts.size.width,
                height: opts.size.height,
              });
        process.stdout.write(`wrote ${opts.output}: ${r.commands ?? 'some'} commands, ${r.bytes} bytes\n`);
      },
    );
}
