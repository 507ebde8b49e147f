/**
 * The multimedia clock: monotonic milliseconds wrapped to u32 like spice-server's. Audio and video
 * timestamps use it; the main channel gives it to viewers in MAIN_INIT, so a viewer's clock runs
 * this clock's time minus the one-way transit of that message.
 */
export function monotonicMs(): number {
  return Number((process.hrtime.bigint() / 1_000_000n) & 0xffffffffn);
}
