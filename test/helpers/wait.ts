/*
 * Waiting on a condition instead of sleeping a fixed time: the test goes on as soon as what it waits
 * for has happened (a loaded machine only makes it wait longer) and fails, naming it, if it never
 * does within the bound.
 */

/**
 * Resolves once `check()` holds (tested every `everyMs`); rejects with `what` after `ms` (a function
 * is called then, so the message can say what was last seen).
 */
export async function until(
  what: string | (() => string),
  check: () => boolean | Promise<boolean>,
  ms = 20_000,
  everyMs = 10,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
