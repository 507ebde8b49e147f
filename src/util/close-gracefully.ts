/** How long a connection closed in an orderly way may take to send what is queued before it is cut. */
const CLOSE_GRACE_MS = 1000;

/**
 * End a connection (its queued bytes still go out, a last error message among them), then destroy
 * it after `graceMs` whatever the peer does: a peer that stops reading must not keep it open.
 */
export function endThenDestroy(connection: { end(): void; destroy(): void }, graceMs = CLOSE_GRACE_MS): void {
  connection.end();
  setTimeout(() => connection.destroy(), graceMs).unref();
}
