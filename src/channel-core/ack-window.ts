/**
 * SPICE ACK-window flow control, server side, as spice-gtk and spice-server do it:
 * the server sends SET_ACK{generation, window}; the client answers ACK_SYNC{generation} and then
 * one ACK every `window` messages it receives. The server counts messages sent since SET_ACK,
 * subtracts `window` per ACK (only once the client has synced to the current generation), and
 * stops sending while more than 2 x window are unacknowledged.
 */
export class AckWindow {
  private generation = 0;
  private clientGeneration = -1;
  private window = 0;
  private unacked = 0;

  /** Start (or restart) flow control; returns the SET_ACK fields to send. */
  reset(window: number): { generation: number; window: number } {
    this.generation++;
    this.window = window;
    this.unacked = 0;
    return { generation: this.generation, window };
  }

  get enabled(): boolean {
    return this.window > 0;
  }

  get pending(): number {
    return this.unacked;
  }

  /** True while the client is too far behind to send more. */
  get blocked(): boolean {
    return this.window > 0 && this.unacked > 2 * this.window;
  }

  onSent(): void {
    if (this.window > 0) this.unacked++;
  }

  onAckSync(generation: number): void {
    this.clientGeneration = generation;
  }

  /** True when ACKs now count: the client has synced to the current generation. */
  get synced(): boolean {
    return this.window > 0 && this.clientGeneration === this.generation;
  }

  /** Returns true when this ACK unblocked sending. */
  onAck(): boolean {
    if (this.window === 0 || this.clientGeneration !== this.generation) return false;
    const wasBlocked = this.blocked;
    this.unacked = Math.max(0, this.unacked - this.window);
    return wasBlocked && !this.blocked;
  }
}
