import { ChannelType } from '../protocol/constants.js';
import type { Logger } from '../util/log.js';
import type { ChannelClient, ChannelClientOptions, ChannelConnection } from './channel-client.js';
import type { Session } from './session.js';
import type { SendRounds } from './send-rounds.js';
import type { SharedFlushes } from './shared-flush.js';

/**
 * One channel type (spice-server's RedChannel): it advertises capabilities at link time and owns
 * every client connected to it, across all sessions - spiced serves many viewers at once.
 */
export abstract class Channel<C extends ChannelClient = ChannelClient> {
  readonly clients = new Set<C>();
  abstract readonly type: number;
  readonly id: number = 0;
  /**
   * Flushes shared by the clients of a channel that sends the same messages to every viewer
   * (display, cursor); undefined where each client's messages are its own.
   */
  readonly sharedFlushes: SharedFlushes | undefined = undefined;
  /** Rounds in which the clients of such a channel push their pipes together; undefined: each on its own. */
  readonly sendRounds: SendRounds | undefined = undefined;

  constructor(
    protected readonly log: Logger,
    protected readonly clientOptions: ChannelClientOptions,
  ) {}

  /** Channel capability bits the server advertises in its link reply. */
  abstract caps(): number[];

  protected abstract createClient(conn: ChannelConnection, session: Session): C;

  attach(conn: ChannelConnection, session: Session): C {
    const client = this.createClient(conn, session);
    client.sendWith({ flushes: this.sharedFlushes, rounds: this.sendRounds });
    this.clients.add(client);
    client.onClose(() => this.clients.delete(client));
    session.add(client, this.type === ChannelType.Main);
    // The bytes that came with the link may already have closed it (a malformed message).
    if (!client.isClosed) client.start();
    return client;
  }
}
