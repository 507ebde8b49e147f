/** Reconnect delays: 0.5 s doubling to 15 s, back to the start once a session was up. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly firstMs = 500,
    private readonly maxMs = 15_000,
  ) {}

  next(): number {
    const ms = Math.min(this.firstMs * 2 ** this.attempt, this.maxMs);
    this.attempt++;
    return ms;
  }

  reset(): void {
    this.attempt = 0;
  }
}
