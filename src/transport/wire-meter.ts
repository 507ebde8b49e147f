/**
 * What a measurement observes of one connection's writes. The link stage and then the stream call
 * it for every write unit as the unit is submitted to the transport and as it completes; a unit is one SSL_write over TLS
 * (units go one at a time, so Node cannot merge them), one writev over TCP, one message over
 * WebSocket, so counting here counts what the layer below was asked to do without reaching into
 * Node's sockets. Units complete in the order they were submitted.
 *
 * The server takes a factory (`ServerOptions.wireMeter`) and makes one meter per connection; without
 * one every stream shares NO_WIRE_METER, whose methods do nothing. The replay's recorder
 * (replay/wire-recorder.ts) is the implementation that keeps per-flush wire bytes and unit sizes.
 */
export interface WireMeter {
  /**
   * A unit of `bytes` plaintext, queued during the stream's pipe flush number `flush` (from 0; -1
   * for the link stage's writes), goes to the conduit now.
   */
  unitSubmitted(bytes: number, flush: number): void;
  /** That unit has been taken by the layer below. */
  unitDone(bytes: number, flush: number): void;
}

export const NO_WIRE_METER: WireMeter = {
  unitSubmitted(): void {},
  unitDone(): void {},
};
