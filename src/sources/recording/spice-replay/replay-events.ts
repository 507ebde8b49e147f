import { ByteCursor } from './byte-cursor.js';
import { decodeEvent } from './decode-event.js';
import { EventScanner } from './event-stream.js';
import { ItemCursor } from './field-cursor.js';
import type { ReplayEvent } from './qxl-types.js';

/*
 * The decoded events of an in-memory recording, one at a time and synchronously. Each event is
 * first read in place by ByteCursor, which accepts only the well-formed case; when it gives up
 * (malformed data, or something unusual such as a 16-digit number), the scanner reads the event
 * again, splitting the body into items for ItemCursor, and decides exactly as the format always
 * has - the value, or which error to report. Decoding has no side effects, so reading twice is
 * safe.
 */
export class ReplayEvents {
  private readonly scanner: EventScanner;
  private readonly fast: ByteCursor;
  /** Where the next event line starts (the length of the recording at its end); -1 before the start. */
  private pos = -1;

  constructor(private readonly recording: Buffer) {
    this.scanner = new EventScanner(recording);
    this.fast = new ByteCursor(this.scanner);
  }

  /** The next event, or null at the end; throws for a malformed event (the ones before it came out). */
  next(): ReplayEvent | null {
    if (this.pos < 0) this.pos = this.scanner.readFileHeader();
    if (this.pos >= this.recording.length) return null;
    return this.fastEvent() ?? this.carefulEvent();
  }

  private fastEvent(): ReplayEvent | null {
    try {
      const fast = this.fast;
      const event = decodeEvent(fast.header(this.pos), fast);
      this.pos = fast.nextEvent;
      return event;
    } catch {
      // Whatever went wrong, the careful reader says it (or reads what was only unusual).
      return null;
    }
  }

  private carefulEvent(): ReplayEvent | null {
    const scanner = this.scanner;
    scanner.seek(this.pos);
    const header = scanner.nextHeader();
    if (!header) return null;
    const event = decodeEvent(header, new ItemCursor(header, scanner.readBodyItems(header)));
    this.pos = scanner.nextEventStart;
    return event;
  }
}
