/**
 * A preload that counts the bytes of Buffers a process allocates, by the code that asked for
 * them: what drives V8's full collections when the heap itself is small (every ArrayBuffer counts
 * as external memory, and enough of it since the last mark-compact starts another).
 *
 *   node --import ./dist/bench/alloc-tally.js dist/src/cli/main.js serve ...
 *   SPICED_BENCH_SERVER_ARGS="--trace-gc --import ./dist/bench/alloc-tally.js" node dist/bench/x11-drag.js
 *
 * At exit it writes the total and the largest callers (four frames each) to the file named by
 * SPICED_ALLOC_TALLY_OUT, else to stderr. Buffers under 4 KiB are counted in the total only (they
 * come from Node's shared pool); typed arrays made without Buffer are not seen.
 */
import { appendFileSync } from 'node:fs';

const LARGE = 4096;
const ROWS = 12;
const tally = new Map<string, number>();
let total = 0;

function caller(): string {
  const stack = new Error().stack ?? '';
  return stack
    .split('\n')
    .slice(4, 8) // past Error, caller, note and the wrapper
    .map((line) =>
      line
        .trim()
        .replace(/^at /, '')
        .replace(/\(file:\/\/.*?\/dist\//, '('),
    )
    .join(' < ');
}

function note(bytes: number): void {
  total += bytes;
  if (bytes < LARGE) return;
  const at = caller();
  tally.set(at, (tally.get(at) ?? 0) + bytes);
}

type Allocator = (...args: never[]) => Buffer;

function wrap(name: 'alloc' | 'allocUnsafe' | 'allocUnsafeSlow' | 'from' | 'concat'): void {
  const original = Buffer[name] as unknown as Allocator;
  const counted = function (this: unknown, ...args: never[]): Buffer {
    const b = original.apply(this, args);
    note(b.byteLength);
    return b;
  };
  Object.defineProperty(Buffer, name, { value: counted, configurable: true, writable: true });
}

for (const name of ['alloc', 'allocUnsafe', 'allocUnsafeSlow', 'from', 'concat'] as const) wrap(name);

function report(): string {
  const mb = (n: number): string => (n / 1048576).toFixed(1).padStart(8);
  const rows = [...tally.entries()].sort((a, b) => b[1] - a[1]).slice(0, ROWS);
  return (
    [`buffers allocated: ${mb(total)} MB (pid ${process.pid})`, ...rows.map(([at, n]) => `${mb(n)} MB  ${at}`)].join(
      '\n',
    ) + '\n'
  );
}

process.on('exit', () => {
  const out = process.env.SPICED_ALLOC_TALLY_OUT;
  if (out) appendFileSync(out, report());
  else process.stderr.write(report());
});
