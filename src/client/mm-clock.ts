/*
 * A viewer's multimedia clock, as spice-gtk keeps it: set to the server's time by MAIN_INIT and by
 * each MULTI_MEDIA_TIME, and run on from there by the viewer's own monotonic clock. Stream frames
 * play at their stamp on this clock; a frame that arrives after it is late.
 */
export class MmClock {
  private base: number | undefined;
  private at = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  set(mmTime: number): void {
    this.base = mmTime;
    this.at = this.now();
  }

  get isSet(): boolean {
    return this.base !== undefined;
  }

  /** The clock now (u32 milliseconds, wrapping like the server's), or undefined before MAIN_INIT. */
  time(): number | undefined {
    if (this.base === undefined) return undefined;
    return (this.base + Math.floor(this.now() - this.at)) >>> 0;
  }
}
