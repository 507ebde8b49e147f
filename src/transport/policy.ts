/**
 * How a stream turns messages into writes.
 *
 * Cork policy (when bytes reach the kernel, and so how TCP packs them into segments):
 * - `off`: every write leaves at once with TCP_NODELAY (spice-server without cork; the baseline).
 * - `on`: the transport is corked while a pipe flush runs and uncorked when it is done: in user
 *   space (the flush reaches the kernel in one writev) over plain TCP and the TLS relay engine;
 *   with TCP_CORK under the native TLS engine, whose TCP socket JS cannot cork (tls-conduit.ts).
 *   Either way the flush's bytes leave in as few full segments as they fill.
 * - `kernel`: TCP_CORK is set on the descriptor for the flush and cleared after it (spice-server's
 *   way); needs the optional koffi module, otherwise the stream falls back to `on`.
 *
 * TLS coalescing policy (how plaintext is grouped into SSL_write calls, hence TLS records):
 * - `none`: every iovec is its own SSL_write, so its own record (what spice-server does).
 * - `small`: the 2017 spice-devel proposal: a message of at most 1024 bytes is gathered (one copy)
 *   into one SSL_write; larger messages go iovec by iovec.
 * - `flush`: everything written in one flush goes in one SSL_write (records of at most 16 KiB),
 *   except the flush's last message, which gets its own so that the final record holds only it
 *   (spice-gtk does not read past a record's first message once its socket is drained).
 */
export type CorkPolicy = 'off' | 'on' | 'kernel';
export type CoalescePolicy = 'none' | 'small' | 'flush';

const CORK_POLICIES: readonly CorkPolicy[] = ['off', 'on', 'kernel'];
const COALESCE_POLICIES: readonly CoalescePolicy[] = ['none', 'small', 'flush'];

/** The spice-devel proposal's gather limit. */
export const SMALL_MESSAGE_LIMIT = 1024;
/** OpenSSL's default max_send_fragment: one SSL_write of n bytes makes ceil(n / this) records. */
export const TLS_MAX_RECORD_PLAINTEXT = 16384;

export function parseCorkPolicy(s: string): CorkPolicy {
  if ((CORK_POLICIES as readonly string[]).includes(s)) return s as CorkPolicy;
  throw new Error(`unknown cork policy "${s}" (expected ${CORK_POLICIES.join('|')})`);
}

export function parseCoalescePolicy(s: string): CoalescePolicy {
  if ((COALESCE_POLICIES as readonly string[]).includes(s)) return s as CoalescePolicy;
  throw new Error(`unknown TLS coalescing policy "${s}" (expected ${COALESCE_POLICIES.join('|')})`);
}

export interface StreamPolicy {
  cork: CorkPolicy;
  coalesce: CoalescePolicy;
}

export const DEFAULT_POLICY: StreamPolicy = { cork: 'on', coalesce: 'flush' };
