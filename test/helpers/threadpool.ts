import { execFileSync } from 'node:child_process';
import { closeSync, openSync, read, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Occupy every libuv thread-pool thread (file I/O runs there) with a read of an empty FIFO, so
 * that file writes wait as they would on a stalled disk, without using any CPU. `release` lets
 * the reads finish. UV_THREADPOOL_SIZE is 4 by default; 32 reads cover any size up to 32.
 */
export function stallFileIo(dir: string, threads = 32): { release: () => Promise<void> } {
  const fifo = join(dir, `stall-${process.pid}-${Date.now()}`);
  execFileSync('mkfifo', [fifo]);
  const fd = openSync(fifo, 'r+'); // read-write: the open does not wait for a writer
  const done = Array.from(
    { length: threads },
    () =>
      new Promise<void>((resolve, reject) =>
        read(fd, Buffer.alloc(1), 0, 1, null, (err) => (err ? reject(err) : resolve())),
      ),
  );
  return {
    release: async () => {
      writeSync(fd, Buffer.alloc(threads));
      await Promise.all(done);
      closeSync(fd);
    },
  };
}
