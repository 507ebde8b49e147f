import type { XConnection, XEvent } from './connection.js';
import {
  NONE,
  PROPERTY_CHANGE_MASK,
  PROPERTY_DELETED,
  PROPERTY_NOTIFY,
  decodePropertyNotify,
  encodeChangeProperty,
  encodeSelectWindowEvents,
  encodeSendSelectionNotify,
  u32Data,
  type SelectionRequest,
} from './selection-wire.js';

/*
 * Answering SelectionRequests while we own a selection (ICCCM 2.2): write the converted data into
 * the property the requestor named, on the requestor's window, then send it a SelectionNotify
 * (property None: refused). Data larger than `incrThreshold` goes by INCR: we watch the
 * requestor's window for property changes, write an INCR property holding the size, and each
 * time the requestor deletes the property we write the next chunk, then an empty one to finish.
 */

export interface OwnerAnswer {
  /** The type atom of the property we write (the target's type). */
  readonly type: number;
  readonly format: 8 | 32;
  readonly bytes: Uint8Array;
}

/** What to write for a request; null (or a rejection) refuses it. */
export type Answerer = (request: SelectionRequest) => Promise<OwnerAnswer | null>;

export interface SelectionOwnerOptions {
  /** Data above this goes by INCR (at most what one ChangeProperty can carry). */
  readonly incrThreshold: number;
  readonly chunkBytes: number;
  /** How long a requestor may take to delete a chunk before the transfer is dropped. */
  readonly stepTimeoutMs: number;
  /** INCR transfers running at once; more are refused (each holds its data). */
  readonly maxTransfers: number;
}

interface IncrTransfer {
  readonly requestor: number;
  readonly property: number;
  readonly type: number;
  readonly bytes: Uint8Array;
  offset: number;
  /** The final empty chunk has been written: the next deletion ends the transfer. */
  finished: boolean;
  timer: NodeJS.Timeout;
}

export class SelectionOwner {
  private readonly transfers = new Map<string, IncrTransfer>();
  /** INCR transfers completed (the requestor deleted the final empty chunk). */
  incrSent = 0;

  constructor(
    private readonly conn: XConnection,
    private readonly incrAtom: number,
    private readonly opts: SelectionOwnerOptions,
    private readonly answer: Answerer,
    private readonly log: (msg: string) => void,
  ) {}

  get activeTransfers(): number {
    return this.transfers.size;
  }

  /** Answer one SelectionRequest (asynchronously: the data may come from a viewer). */
  handleRequest(req: SelectionRequest): void {
    // Obsolete clients name no property: the target atom is the property then (ICCCM 2.2).
    const property = req.property === NONE ? req.target : req.property;
    void this.answer(req).then(
      (answer) => (answer ? this.deliver(req, property, answer) : this.notify(req, NONE)),
      (err: unknown) => {
        this.log(`refusing a selection request: ${err instanceof Error ? err.message : String(err)}`);
        this.notify(req, NONE);
      },
    );
  }

  /** Feed an event; true when it moved one of our INCR transfers. */
  handleEvent(ev: XEvent): boolean {
    if (ev.code !== PROPERTY_NOTIFY) return false;
    const p = decodePropertyNotify(ev.data);
    const transfer = this.transfers.get(key(p.window, p.atom));
    if (!transfer || p.state !== PROPERTY_DELETED) return false;
    this.nextChunk(transfer);
    return true;
  }

  /** Drop every transfer (the connection is closing). */
  stop(): void {
    for (const t of this.transfers.values()) clearTimeout(t.timer);
    this.transfers.clear();
  }

  private deliver(req: SelectionRequest, property: number, answer: OwnerAnswer): void {
    if (this.conn.isClosed) return;
    if (answer.bytes.length <= this.opts.incrThreshold) {
      this.conn.send(
        encodeChangeProperty(req.requestor, property, answer.type, answer.format, answer.bytes),
        'ChangeProperty',
      );
      this.notify(req, property);
      return;
    }
    if (answer.format !== 8 || this.transfers.size >= this.opts.maxTransfers) {
      this.log(
        `refusing a selection request of ${answer.bytes.length} bytes: ${this.transfers.size} INCR transfers running`,
      );
      this.notify(req, NONE);
      return;
    }
    this.startIncr(req, property, answer);
  }

  private startIncr(req: SelectionRequest, property: number, answer: OwnerAnswer): void {
    const id = key(req.requestor, property);
    const old = this.transfers.get(id);
    if (old) this.end(old); // the requestor asked again into the same property: the old one is void
    // Watch the requestor's properties before it can see the INCR property and delete it.
    this.conn.send(encodeSelectWindowEvents(req.requestor, PROPERTY_CHANGE_MASK), 'ChangeWindowAttributes');
    const size = u32Data([answer.bytes.length]);
    this.conn.send(encodeChangeProperty(req.requestor, property, this.incrAtom, 32, size), 'ChangeProperty(INCR)');
    const transfer: IncrTransfer = {
      requestor: req.requestor,
      property,
      type: answer.type,
      bytes: answer.bytes,
      offset: 0,
      finished: false,
      timer: this.stallTimer(id),
    };
    this.transfers.set(id, transfer);
    this.notify(req, property);
  }

  private nextChunk(t: IncrTransfer): void {
    if (t.finished) {
      this.incrSent++;
      this.end(t);
      return;
    }
    clearTimeout(t.timer);
    t.timer = this.stallTimer(key(t.requestor, t.property));
    const chunk = t.bytes.subarray(t.offset, t.offset + this.opts.chunkBytes);
    t.offset += chunk.length;
    if (chunk.length === 0) t.finished = true;
    this.conn.send(encodeChangeProperty(t.requestor, t.property, t.type, 8, chunk), 'ChangeProperty(INCR chunk)');
  }

  private stallTimer(id: string): NodeJS.Timeout {
    return setTimeout(() => {
      const t = this.transfers.get(id);
      if (!t) return;
      const where = `window 0x${t.requestor.toString(16)}`;
      this.log(`INCR transfer to ${where} stalled after ${t.offset} of ${t.bytes.length} bytes; dropped`);
      this.end(t);
    }, this.opts.stepTimeoutMs);
  }

  private end(t: IncrTransfer): void {
    clearTimeout(t.timer);
    this.transfers.delete(key(t.requestor, t.property));
    const stillWatched = [...this.transfers.values()].some((o) => o.requestor === t.requestor);
    if (!stillWatched && !this.conn.isClosed) {
      this.conn.send(encodeSelectWindowEvents(t.requestor, 0), 'ChangeWindowAttributes');
    }
  }

  private notify(req: SelectionRequest, property: number): void {
    if (this.conn.isClosed) return;
    const event = { time: req.time, requestor: req.requestor, selection: req.selection, target: req.target, property };
    this.conn.send(encodeSendSelectionNotify(event), 'SendEvent(SelectionNotify)');
  }
}

function key(window: number, property: number): string {
  return `${window}:${property}`;
}
