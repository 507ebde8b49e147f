/**
 * Errors raised while decoding bytes from a peer. They carry a stable `code` (for logs and tests)
 * and, where the SPICE link stage has one, the SpiceLinkErr value to send back before closing.
 */
export type ProtocolErrorCode =
  | 'TRUNCATED'
  | 'OVERSIZE'
  | 'BAD_MAGIC'
  | 'BAD_VERSION'
  | 'BAD_LINK_MESS'
  | 'BAD_AUTH_MECHANISM'
  | 'UNKNOWN_MESSAGE'
  | 'BAD_MESSAGE'
  | 'BAD_IMAGE';

export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;
  /** SpiceLinkErr to report to the peer, when the failure happens during the link stage. */
  readonly linkError: number | undefined;

  constructor(code: ProtocolErrorCode, message: string, linkError?: number) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
    this.linkError = linkError;
  }
}
