import type { Socket } from 'node:net';
import { getTcpInfo, setTcpCork, socketFd, type TcpInfo } from './sockopt.js';
import { Inbox } from './inbox.js';

export function peerOf(socket: Socket): string {
  const addr = socket.remoteAddress ?? '?';
  return `${addr.includes(':') ? `[${addr}]` : addr}:${socket.remotePort ?? '?'}`;
}

/**
 * What the TCP and TLS conduits share: the peer and descriptor of the TCP socket underneath,
 * received bytes through an Inbox, TCP_CORK and TCP_INFO (never on a closed descriptor: its
 * number may already belong to another connection), and the close report. `S` is the socket the
 * SPICE bytes travel on (the TCP socket itself, or the TLS socket over it).
 */
export abstract class SocketConduit<S extends Socket> {
  readonly peer: string;
  readonly fd: number | undefined;
  protected readonly inbox = new Inbox();
  private finalTcpInfo: TcpInfo | undefined;
  /** The socket SPICE bytes are read from and written to; set by the subclass's constructor. */
  abstract readonly socket: S;

  protected constructor(raw: Socket) {
    this.peer = peerOf(raw);
    this.fd = socketFd(raw);
    raw.setNoDelay(true);
  }

  /** Whether the descriptor is still this connection's (subclasses add sockets that own it). */
  protected descriptorOpen(): boolean {
    return !this.socket.destroyed;
  }

  /** Received SPICE bytes go to the inbox; call once `socket` is set. */
  protected listen(): void {
    this.socket.on('data', (chunk: Buffer) => this.inbox.deliver(chunk));
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  setKernelCork(on: boolean): boolean {
    return this.fd !== undefined && this.descriptorOpen() && setTcpCork(this.fd, on);
  }

  unread(chunks: Buffer[]): void {
    this.inbox.unread(chunks);
  }

  /**
   * Hand the socket to someone else, e.g. the HTTP server for a WebSocket upgrade: the conduit
   * stops reading it and pushes back what it had received but not delivered. Its counters, cork
   * and TCP_INFO keep working underneath.
   */
  release(): S {
    return this.inbox.release(this.socket);
  }

  onData(cb: (chunk: Buffer) => void): void {
    this.inbox.onData(cb);
  }

  /**
   * `cb` once the socket has closed, with its error if it had one. A listener that comes after the
   * close (the peer sent its link and vanished while the link was being judged) is called on the
   * next turn: otherwise its channel client would wait forever for a close that has happened, and
   * the session it belongs to would never end.
   */
  onClose(cb: (err?: Error) => void): void {
    if (this.socket.closed) {
      const failure = this.socket.errored ?? undefined;
      setImmediate(() => cb(failure));
      return;
    }
    let failure: Error | undefined;
    this.socket.on('error', (err) => (failure = err));
    this.socket.once('close', () => cb(failure));
  }

  /** TCP_INFO now, or as last read before the descriptor closed. */
  tcpInfo(): TcpInfo | undefined {
    if (this.fd === undefined || this.finalTcpInfo || !this.descriptorOpen()) return this.finalTcpInfo;
    return getTcpInfo(this.fd);
  }

  /** Read TCP_INFO one last time while the descriptor is still open. */
  protected keepTcpInfo(): void {
    if (this.fd !== undefined && this.finalTcpInfo === undefined && this.descriptorOpen())
      this.finalTcpInfo = getTcpInfo(this.fd);
  }

  end(): void {
    this.keepTcpInfo();
    this.socket.end();
  }
}
