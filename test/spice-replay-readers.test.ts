import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../src/sources/recording/spice-replay/decode-event.js';
import { EventScanner } from '../src/sources/recording/spice-replay/event-stream.js';
import { ItemCursor } from '../src/sources/recording/spice-replay/field-cursor.js';
import {
  CursorCmdType,
  QxlCmd,
  WorkerMessage,
  type ReplayEvent,
} from '../src/sources/recording/spice-replay/qxl-types.js';
import { RecordingWriter } from '../src/sources/recording/spice-replay/record-writer.js';
import { ReplayEvents } from '../src/sources/recording/spice-replay/replay-events.js';
import { kitchenSink } from './helpers/kitchen-sink.js';

/*
 * The importer reads each event twice over if need be: in place by ByteCursor, which only takes
 * plain well-formed events, else split into items by the careful reader (the original parser).
 * Both must decode every event to the same thing - checked here on whole recordings, on numbers
 * too long for a double, and on errors.
 */

/** Every event the careful reader alone makes of the recording (or the error it stops with). */
function carefulEvents(buf: Buffer): { events: ReplayEvent[]; error?: string } {
  const scanner = new EventScanner(buf);
  const events: ReplayEvent[] = [];
  try {
    scanner.seek(scanner.readFileHeader());
    for (let header = scanner.nextHeader(); header; header = scanner.nextHeader()) {
      events.push(decodeEvent(header, new ItemCursor(header, scanner.readBodyItems(header))));
      scanner.seek(scanner.nextEventStart);
    }
  } catch (e) {
    return { events, error: (e as Error).message };
  }
  return { events };
}

function importedEvents(buf: Buffer): { events: ReplayEvent[]; error?: string } {
  const reader = new ReplayEvents(buf);
  const events: ReplayEvent[] = [];
  try {
    for (let ev = reader.next(); ev; ev = reader.next()) events.push(ev);
  } catch (e) {
    return { events, error: (e as Error).message };
  }
  return { events };
}

/** Buffers as their length and digest (by content, whether views of the recording or not). */
function normalize(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return `buffer ${v.length} ${createHash('sha256').update(v).digest('hex')}`;
  if (Array.isArray(v)) return v.map(normalize);
  if (typeof v === 'object' && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  return v;
}

function expectSame(buf: Buffer): void {
  const fast = importedEvents(buf);
  const careful = carefulEvents(buf);
  expect(fast.error).toEqual(careful.error);
  expect(normalize(fast.events)).toEqual(normalize(careful.events));
}

const SHARED = fileURLToPath(new URL('../recordings/xterm-type.spicerec.xz', import.meta.url));

describe('spice-replay readers: fast and careful agree', () => {
  it('on the synthetic recording with every kind of event', () => {
    expectSame(kitchenSink());
  });

  it('on a real recording', () => {
    expectSame(spawnSync('xz', ['-dc', SHARED], { maxBuffer: 1 << 28 }).stdout);
  });

  it('on numbers longer than a double holds (timestamps after 11.6 days, u64 ids)', () => {
    const rec = new RecordingWriter();
    // A clock well past 15 digits (weeks of uptime) and a cursor with the largest u64 unique.
    rec
      .event(1, WorkerMessage.CREATE_PRIMARY_SURFACE, 9_223_372_036_854_775_000n)
      .line('4 2 -16 32')
      .line('0 1 0 0')
      .blob('data', Buffer.alloc(0));
    rec
      .event(0, QxlCmd.CURSOR)
      .line('cursor_cmd')
      .line(`type ${CursorCmdType.SET}`)
      .line('point16 1 2')
      .line('u.set.visible 1');
    rec.line('header.unique 18446744073709551615').line('header.type 0').line('header.width 1').line('header.height 1');
    rec
      .line('header.hot_spot_x 0')
      .line('header.hot_spot_y 0')
      .line('data_size 8')
      .line('data_chunks 0 8')
      .blob('cursor', Buffer.alloc(8, 0xff));
    rec
      .event(0, QxlCmd.UPDATE)
      .line('update')
      .line('rect area 0 0 2 4')
      .line('update_id 12345678901234567890')
      .line('surface_id 0');
    const buf = rec.toBuffer();
    expectSame(buf);
    const events = importedEvents(buf).events;
    const cursor = events[1]!;
    if (cursor.kind !== 'cursor' || cursor.cmd.type !== 'set') throw new Error('expected a cursor set');
    expect(cursor.cmd.shape.unique).toBe(18446744073709551615n);
    expect(events[2]!.timeNs - events[0]!.timeNs).toBe(2_000_000n);
    expect(events[0]!.timeNs).toBe(1_000_000_000n + 9_223_372_036_854_775_000n);
    if (events[2]!.kind !== 'update') throw new Error('expected an update');
    expect(events[2]!.updateId).toBe(Number('12345678901234567890'));
  });

  it('on lines the fast reader leaves to the careful one', () => {
    const variants = [
      ['update_id 7', 'update_id 007'],
      ['update_id 7', 'update_id -0'],
      ['surface_id 0', 'surface_id  0'],
      ['surface_id 0', 'surface_id 0 '],
      ['surface_id 0', ' surface_id 0'],
      ['rect area 0 0 2 4', 'rect area 0 0 2'],
      ['rect area 0 0 2 4', 'rect  area 0 0 2 4'],
      ['update\n', 'update \n'],
      [`event 1 0 ${QxlCmd.UPDATE} `, `event 1 0 -${QxlCmd.UPDATE} `],
      ['event 2 ', 'event -0 '],
      ['event 2 ', 'event 00000000000000000002 '],
    ];
    for (const [from, to] of variants) {
      const rec = new RecordingWriter().createPrimary(4, 2);
      rec.event(0, QxlCmd.UPDATE).line('update').line('rect area 0 0 2 4').line('update_id 7').line('surface_id 0');
      rec.device(WorkerMessage.START);
      const buf = Buffer.from(rec.toBuffer().toString('latin1').replace(from!, to!), 'latin1');
      expectSame(buf);
    }
  });

  it('on a recording cut anywhere', () => {
    const buf = kitchenSink();
    for (let end = 0; end <= buf.length; end += 97) expectSame(buf.subarray(0, end));
  });
});

const SAMPLE = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'recordings', 'xterm-scroll.spicerec.xz');
describe('spice-replay readers: sample recordings', () => {
  it('agree on xterm-scroll', () => {
    expectSame(spawnSync('xz', ['-dc', SAMPLE], { maxBuffer: 1 << 28 }).stdout);
  });
});
