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
