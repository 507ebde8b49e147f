import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocImage } from '../src/display/pixels.js';
import { encodeLz } from '../src/display/lz.js';
import { ByteCursor, ByteWriter, RecordingFormatError } from '../src/sources/recording/spiced-format/bytes.js';
import { ImageCoding, readImage } from '../src/sources/recording/spiced-format/images.js';
import { RecordDecoder, RecordEncoder } from '../src/sources/recording/spiced-format/records.js';
import { ReplayEvents } from '../src/sources/recording/spice-replay/replay-events.js';
import { ReplayTranslator } from '../src/sources/recording/spice-replay/translator.js';
import { UnsupportedDraw } from '../src/sources/recording/spice-replay/shadow.js';
import { everyKind, normalize } from './helpers/recordings.js';
import { kitchenSink } from './helpers/kitchen-sink.js';
import { anyBytes, check, mutated, returnsOrThrows } from './helpers/properties.js';

/*
 * Issue 12: the recording readers take any bytes. A spiced record decodes to a command or fails
 * with RecordingFormatError; a SPICE_REPLAY recording imports or fails with the importer's plain
 * Error (or UnsupportedDraw), never with a TypeError, RangeError or a runaway allocation.
 */

const encoded = (() => {
  const enc = new RecordEncoder('lz');
  return everyKind().map((cmd) => {
    const { tag, payload } = enc.encode(cmd);
    return { tag, payload: Buffer.from(payload) };
  });
})();

describe('spiced records', () => {
  it('any tag and payload: a command, undefined or a RecordingFormatError', () => {
    const record = fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 40 }), anyBytes(200)),
      fc
        .tuple(fc.constantFrom(...encoded), fc.nat())
        .chain(([r]) => mutated(fc.constant(r.payload)).map((p) => [r.tag, p] as const)),
    );
    check(fc.array(record, { maxLength: 5 }), (records) => {
      const d = new RecordDecoder();
      for (const [tag, payload] of records)
        returnsOrThrows(() => d.decode(tag, payload, 'fuzz'), [RecordingFormatError], true);
    });
  });

  it('decode(encode(command)) == command, images stored raw or as LZ', () => {
    check(
      fc.tuple(fc.constantFrom<'raw' | 'lz'>('raw', 'lz'), fc.shuffledSubarray(everyKind(), { minLength: 1 })),
      ([storage, commands]) => {
        const enc = new RecordEncoder(storage);
        const dec = new RecordDecoder();
        for (const cmd of commands) {
          const { tag, payload } = enc.encode(cmd);
          expect(normalize(dec.decode(tag, Buffer.from(payload), 'round trip')!)).toEqual(normalize(cmd));
        }
      },
      200,
    );
  });
});

describe("a spiced record's image", () => {
  it('is refused before decoding when its LZ header claims more pixels than the record', () => {
    // 2000x2000 of one colour: a few hundred bytes of LZ that would decode to 16 MB.
    const lz = encodeLz(allocImage(2000, 2000));
    const w = new ByteWriter(64)
      .u8(ImageCoding.LzRgb32)
      .uvarint(1, 'w')
      .uvarint(1, 'h')
      .uvarint(lz.length, 'n')
      .bytes(lz);
    expect(() => readImage(new ByteCursor(Buffer.from(w.view()), 'test'), 'test')).toThrow(
      /above the limit of 1 pixels/,
    );
  });
});

describe('SPICE_REPLAY recordings', () => {
  const sink = kitchenSink();

  function importAll(bytes: Buffer): number {
    const events = new ReplayEvents(bytes);
    const translator = new ReplayTranslator();
    let commands = 0;
    for (let ev = events.next(); ev; ev = events.next()) commands += translator.translate(ev).length;
    return commands;
  }

  it('the kitchen sink imports (the mutations below start from a valid recording)', () => {
    expect(importAll(sink)).toBeGreaterThan(10);
  });

  it("mutated recordings import or fail with the importer's own errors", () => {
    // Mutations mostly land in the body: cut, overwrite a few bytes or splice in random ones.
    const mutant = fc.oneof(
      mutated(fc.constant(sink)),
      fc
        .tuple(fc.nat({ max: sink.length }), anyBytes(64))
        .map(([at, junk]) => Buffer.concat([sink.subarray(0, at), junk, sink.subarray(at)])),
      anyBytes(300).map((b) => Buffer.concat([Buffer.from('SPICE_REPLAY 1\n'), b])),
    );
    check(
      mutant,
      (bytes) => {
        returnsOrThrows(() => importAll(bytes), [Error, UnsupportedDraw], true);
      },
      1500,
    );
  });
});
