import { generateKeyPair } from 'node:crypto';
import { TicketKey } from './ticket.js';

/** Generate one ticket key on libuv's threadpool (RSA-1024, 8 to 11 ms of an idle core). */
export function generateTicketKey(): Promise<TicketKey> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: 1024, publicExponent: 65537 }, (err, publicKey, privateKey) => {
      if (err) reject(err);
      else resolve(new TicketKey(publicKey, privateKey));
    });
  });
}

export interface KeyPoolOptions {
  /** Keys kept ready (default 16: a burst of two or three viewers of six channels each). */
  size: number;
  /** Where keys come from (the test of a slow generator gives its own). */
  generate: () => Promise<TicketKey>;
}

/**
 * Fresh RSA keys, one per link as spice-server makes them, so a ticket captured on the plain port
 * opens nothing later: it was encrypted for a key that is gone. Keys are generated ahead of time,
 * off the event loop, one at a time: a flood of links empties the pool but can keep at most one
 * threadpool thread busy, and a link that finds the pool empty waits for the next key (one
 * generation; bench/link-keys.ts measures the wait).
 */
export class KeyPool {
  private readonly ready: TicketKey[] = [];
  private readonly waiting: { resolve: (key: TicketKey) => void; reject: (err: Error) => void }[] = [];
  private generating = false;
  private closed = false;
  /** Links that had to wait for a key (the pool was empty). */
  waits = 0;
  constructor(private readonly opts: KeyPoolOptions = { size: 16, generate: generateTicketKey }) {}

  /** Start filling the pool. */
  start(): void {
    this.closed = false;
    this.refill();
  }

  /** A key no other link has seen: at once when one is ready, else when the next is made. */
  take(): TicketKey | Promise<TicketKey> {
    const key = this.ready.shift();
    if (key) {
      this.refill();
      return key;
    }
    this.waits++;
    const next = new Promise<TicketKey>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.refill();
    return next;
  }

  get available(): number {
    return this.ready.length;
  }

  /** Stop generating; links still waiting never get a key (their connections are being closed). */
  close(): void {
    this.closed = true;
    this.ready.length = 0;
    this.waiting.length = 0;
  }

  private refill(): void {
    if (this.generating || this.closed || (this.ready.length >= this.opts.size && this.waiting.length === 0)) return;
    this.generating = true;
    this.opts.generate().then(
      (key) => this.generated(key),
      (err: unknown) => this.failed(err instanceof Error ? err : new Error(String(err))),
    );
  }

  /** OpenSSL could not make a key: the links waiting now are refused; the next take() tries again. */
  private failed(err: Error): void {
    this.generating = false;
    for (const w of this.waiting.splice(0)) w.reject(new Error(`no ticket key: ${err.message}`));
  }

  private generated(key: TicketKey): void {
    this.generating = false;
    if (this.closed) return;
    const waiter = this.waiting.shift();
    if (waiter) waiter.resolve(key);
    else this.ready.push(key);
    this.refill();
  }
}
