import type { XConnection, XEvent } from './connection.js';
import {
  NONE,
  PROPERTY_NEW_VALUE,
  PROPERTY_NOTIFY,
  SELECTION_NOTIFY,
  decodeGetPropertyReply,
  decodePropertyNotify,
  decodeSelectionNotify,
  encodeConvertSelection,
  encodeDeleteProperty,
  encodeGetProperty,
  readU32s,
  type PropertyValue,
} from './selection-wire.js';

/*
 * Reading a selection from the X client that owns it (ICCCM 2.4): ConvertSelection asks the owner
 * to write the target into a property of our window, SelectionNotify says it did (or refused), and
 * GetProperty with delete reads it. An owner with more data than fits one request writes a
 * property of type INCR instead (its value: a lower bound of the size); each deletion of ours
 * then asks for the next chunk, and an empty chunk ends the transfer.
 *
 * One conversion at a time per landing property: the caller serialises conversions that share
 * one. Events that come while no step waits are counted, not lost: a chunk's PropertyNotify can
 * arrive in the same read as the reply that precedes it, before the awaiting code runs.
 */

export interface ConvertResult {
  /** The property's type atom (the target's type, e.g. UTF8_STRING or STRING for text). */
  readonly type: number;
  readonly data: Buffer;
}

export class SelectionRefused extends Error {
  /**
   * @param landingSpoiled the transfer was abandoned while the owner may still write into the
   *   landing property (an answer that comes after our deadline; an INCR sender that takes every
   *   later deletion of the property as a request for its next chunk, as xclip does): the caller
   *   must not read that property again.
   */
  constructor(
    message: string,
    readonly landingSpoiled = false,
  ) {
    super(message);
    this.name = 'SelectionRefused';
  }
}

/** The same refusal, marked as leaving the landing property to a sender we no longer listen to. */
function spoiled(err: unknown): unknown {
  return err instanceof SelectionRefused ? new SelectionRefused(err.message, true) : err;
}

interface Landing {
  selection: number;
  notify: ((n: { property: number }) => void) | null;
  newValues: number;
  newValueWaiter: (() => void) | null;
}

export class SelectionReader {
  private readonly landings = new Map<number, Landing>();
  /** Conversions that came by INCR. */
  incrReceived = 0;

  constructor(
    private readonly conn: XConnection,
    private readonly window: number,
    private readonly incrAtom: number,
    private readonly stepTimeoutMs: number,
  ) {}

  /** Feed an event; true when it was one of ours. */
  handleEvent(ev: XEvent): boolean {
    if (ev.code === SELECTION_NOTIFY) {
      const n = decodeSelectionNotify(ev.data);
      if (n.requestor !== this.window) return false;
      // Matched by selection: a refusal names no property.
      const target = [...this.landings.values()].find((l) => l.notify !== null && l.selection === n.selection);
      if (!target?.notify) return true;
      target.newValues = 0; // property writes before the answer belong to the answer itself
      const settle = target.notify;
      target.notify = null;
      settle({ property: n.property });
      return true;
    }
    if (ev.code === PROPERTY_NOTIFY) {
      const p = decodePropertyNotify(ev.data);
      if (p.window !== this.window) return false;
      const landing = this.landings.get(p.atom);
      if (landing && p.state === PROPERTY_NEW_VALUE) {
        landing.newValues++;
        landing.newValueWaiter?.();
      }
      return true;
    }
    return false;
  }

  /**
   * Convert `selection` to `target` into `property` of our window and read the result, INCR
   * included. Rejects with SelectionRefused when the owner refuses, and when the data would
   * exceed `maxBytes` (the transfer is abandoned; the owner times out on its side).
   */
  async convert(selection: number, target: number, property: number, maxBytes: number): Promise<ConvertResult> {
    const landing = this.landing(property);
    landing.selection = selection;
    const answered = this.waitForNotify(landing, 'SelectionNotify');
    this.conn.send(encodeConvertSelection(this.window, selection, target, property), 'ConvertSelection');
    const notified = await answered.catch((err: unknown) => Promise.reject(spoiled(err)));
    if (notified.property === NONE) throw new SelectionRefused('the selection owner refused the conversion');
    const first = await this.take(property, maxBytes);
    if (first.type !== this.incrAtom) return { type: first.type, data: first.data };
    this.incrReceived++;
    return this.receiveIncr(landing, property, readU32s(first.data)[0] ?? 0, maxBytes).catch((err: unknown) =>
      Promise.reject(spoiled(err)),
    );
  }

  /** Stop listening on a landing property (spoiled: see SelectionRefused). */
  forget(property: number): void {
    this.landings.delete(property);
  }

  private landing(property: number): Landing {
    let landing = this.landings.get(property);
    if (!landing) {
      landing = { selection: NONE, notify: null, newValues: 0, newValueWaiter: null };
      this.landings.set(property, landing);
    }
    if (landing.notify || landing.newValueWaiter) throw new Error('a conversion into this property is already running');
    return landing;
  }

  private waitForNotify(landing: Landing, what: string): Promise<{ property: number }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        landing.notify = null;
        reject(new SelectionRefused(`no ${what} from the selection owner within ${this.stepTimeoutMs} ms`));
      }, this.stepTimeoutMs);
      landing.notify = (n) => {
        clearTimeout(timer);
        resolve(n);
      };
    });
  }

  /** GetProperty with delete; a value longer than maxBytes is deleted and refused. */
  private async take(property: number, maxBytes: number): Promise<PropertyValue> {
    const req = encodeGetProperty(this.window, property, true, maxBytes + 4);
    const value = await this.conn.request(req, 'GetProperty', decodeGetPropertyReply);
    if (value.bytesAfter > 0 || value.data.length > maxBytes) {
      this.conn.send(encodeDeleteProperty(this.window, property), 'DeleteProperty');
      throw new SelectionRefused(`selection data exceeds the limit of ${maxBytes} bytes`);
    }
    return value;
  }

  private async receiveIncr(
    landing: Landing,
    property: number,
    sizeHint: number,
    maxBytes: number,
  ): Promise<ConvertResult> {
    if (sizeHint > maxBytes)
      throw new SelectionRefused(`INCR selection of ${sizeHint} bytes exceeds the limit of ${maxBytes}`);
    const chunks: Buffer[] = [];
    let total = 0;
    let type = NONE;
    for (;;) {
      await this.nextNewValue(landing);
      const chunk = await this.take(property, maxBytes - total);
      if (chunk.data.length === 0) break;
      type = chunk.type;
      total += chunk.data.length;
      chunks.push(Buffer.from(chunk.data)); // the reply buffer is per chunk; keep only the bytes
    }
    return { type, data: Buffer.concat(chunks, total) };
  }

  private nextNewValue(landing: Landing): Promise<void> {
    if (landing.newValues > 0) {
      landing.newValues--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        landing.newValueWaiter = null;
        reject(new SelectionRefused(`the selection owner sent no INCR chunk within ${this.stepTimeoutMs} ms`));
      }, this.stepTimeoutMs);
      landing.newValueWaiter = () => {
        clearTimeout(timer);
        landing.newValueWaiter = null;
        landing.newValues--;
        resolve();
      };
    });
  }
}
