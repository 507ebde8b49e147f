import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/*
 * A full garbage collection from inside a test, without --expose-gc on the worker's command line:
 * the flag is turned on at run time and a fresh context then has `gc` as a global.
 */
setFlagsFromString('--expose-gc');
const gcFn = runInNewContext('gc') as (() => void) | undefined;
if (typeof gcFn !== 'function') throw new Error('gc() is not available: --expose-gc had no effect');
const collect: () => void = gcFn;

/**
 * Collect everything that is unreachable. WeakRef targets read in the current job stay alive until
 * it ends (the spec's KeepDuringJob set), so each round first lets the job end with a macrotask.
 */
async function fullGc(rounds = 2): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    collect();
  }
}

/** WeakRefs to payloads that the code under test must let go of. */
export class Watch {
  private readonly refs: { name: string; ref: WeakRef<object> }[] = [];

  /** Remember `target` under `name` and return it (so it can be used inline). */
  add<T extends object>(name: string, target: T): T {
    this.refs.push({ name, ref: new WeakRef(target) });
    return target;
  }

  /** Names of watched objects still alive after a full collection. */
  async alive(): Promise<string[]> {
    await fullGc();
    return this.refs.filter((r) => r.ref.deref() !== undefined).map((r) => r.name);
  }
}
